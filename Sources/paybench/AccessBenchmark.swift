import Foundation

/// `paybench access`: what named API keys cost a create, in one process: the key lookup
/// of a request (`KeyLookupBenchmark`), the actor every write's log entry now carries
/// (`ActorCreateBenchmark`), and the two together as a share of one create's cost
/// measured in the same run, against the 3% target.
enum AccessBenchmark {
    /// How much to run, and where the scratch stores go.
    struct Options {
        var dir: String
        /// Rounds of creates: each a fresh store per actor, their groups interleaved.
        var rounds = 20
        /// Creates per actor and round.
        var creates = 5_120
        /// Creates per transaction (one fsync each).
        var group = 64
    }

    /// The share of one create the key lookup and the actor may cost.
    static let targetPercent = 3.0

    static func run(_ o: Options) throws {
        let started = Date()
        let t0 = DispatchTime.now().uptimeNanoseconds
        FileHandle.standardError.write(Data("paybench access: key lookup\n".utf8))
        let lookups = try KeyLookupBenchmark.measure(dir: o.dir)
        let creates = try ActorCreateBenchmark.measure(
            rounds: o.rounds, creates: o.creates, group: o.group, dir: o.dir)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        print(render(lookups: lookups, creates: creates, o, started: started, wall: wall))
    }

    static func render(
        lookups: [KeyLookupBenchmark.Row], creates: [ActorCreateBenchmark.VariantRuns], _ o: Options,
        started: Date, wall: Double
    ) -> String {
        var out = "paybench access, \(ISO8601DateFormatter().string(from: started)), \(Machine.description)"
        out += String(format: "; took %.0f s\n\n", wall)
        out += lookupTable(lookups) + "\n" + createTable(creates, o) + "\n" + verdict(lookups, creates) + "\n"
        return out
    }

    /// The lookup per request: one row per real function measured, and their sum.
    static func lookupTable(_ rows: [KeyLookupBenchmark.Row]) -> String {
        var s = "key lookup per request, in-process: \(KeyLookupBenchmark.batches.formatted()) batches of "
        s += "\(KeyLookupBenchmark.callsPerBatch) calls per step, the steps' batches interleaved\n\n"
        s += "| step (the real function called) | keys configured | ns/request (median batch) | p99 ns "
        s += "| vs 1 key |\n|---|---:|---:|---:|---:|\n"
        for r in rows {
            s += "| \(r.step) | \(r.keysConfigured.map(String.init) ?? "-") | \(ns(r.p50Nanos)) | \(ns(r.p99Nanos)) | "
            s += "\(r.ratioToBaseline.map(ratio) ?? "-") |\n"
        }
        return s
    }

    /// The creates of each actor variant: entry size, rate and latency, CPU time per
    /// create, and the ratios of both to the no-actor run of the same round.
    static func createTable(_ results: [ActorCreateBenchmark.VariantRuns], _ o: Options) -> String {
        var s = "durable creates through the shell and engine, committed into SQLite (WAL, synchronous=FULL) "
        s += "in groups of \(o.group), one thread; \(o.rounds) rounds of \(o.creates.formatted()) creates per actor, "
        s += "a fresh file per actor and round, the actors' groups interleaved; medians of the rounds, "
        s += "ratios paired by round\n\n"
        s += "| actor on every create | bytes/entry (wire) | creates/s | vs none | group p50 / p99 ms "
        s += "| CPU µs/create | vs none | CPU ratio, rounds' range |\n"
        s += "|---|---:|---:|---:|---:|---:|---:|---:|\n"
        let base = results[0]
        for (i, r) in results.enumerated() {
            let cpuRatios = paired(r.cpuNanosByRound, base.cpuNanosByRound)
            let latencies = r.groupMillis.sorted()
            s += "| \(r.variant.label) | " + String(format: "%.1f", r.entryBytes)
            s += String(format: " | %.0f", AccessStats.median(r.perSecondByRound))
            s += " | " + ratio(AccessStats.median(paired(r.perSecondByRound, base.perSecondByRound)))
            s += String(
                format: " | %.2f / %.2f", AccessStats.quantile(latencies, 0.5), AccessStats.quantile(latencies, 0.99))
            s += String(format: " | %.1f", AccessStats.median(r.cpuNanosByRound) / 1e3)
            s += " | " + ratio(AccessStats.median(cpuRatios)) + " | "
            s += i == 0 ? "- |\n" : ratio(cpuRatios.min() ?? 0) + " - " + ratio(cpuRatios.max() ?? 0) + " |\n"
        }
        return s
    }

    /// The last two lines: the lookup plus each actor's extra time per create as a share
    /// of one create without an actor, by wall clock (creates/s, which fsync and other load
    /// on the machine move more), then by CPU time, the figure held against the target.
    static func verdict(_ lookups: [KeyLookupBenchmark.Row], _ results: [ActorCreateBenchmark.VariantRuns])
        -> String
    {
        let base = results[0]
        let lookup = lookupNanos(lookups)
        let createCPU = AccessStats.median(base.cpuNanosByRound)
        let createWall = 1e9 / AccessStats.median(base.perSecondByRound)
        func actorCPU(_ r: ActorCreateBenchmark.VariantRuns) -> Double {
            createCPU * (AccessStats.median(paired(r.cpuNanosByRound, base.cpuNanosByRound)) - 1)
        }
        func actorWall(_ r: ActorCreateBenchmark.VariantRuns) -> Double {
            createWall * (1 / AccessStats.median(paired(r.perSecondByRound, base.perSecondByRound)) - 1)
        }
        func share(_ extra: Double, of create: Double) -> Double { 100 * (lookup + max(0, extra)) / create }
        let ordinary = results[1]
        let longest = results[results.count - 1]
        let ordinaryName = "`\(ordinary.variant.actor ?? "")`"
        let longestName = "the \(longest.variant.actor?.utf8.count ?? 0)-character actor"
        /// An actor's extra nanoseconds as counted (a negative one is noise: 0).
        func counted(_ extra: Double) -> String {
            extra < 0 ? "0 ns (measured \(ns(extra)): noise)" : "\(ns(extra)) ns"
        }
        let percentOrdinary = share(actorCPU(ordinary), of: createCPU)
        let percentLongest = share(actorCPU(longest), of: createCPU)
        var s = String(format: "by wall clock instead (one create = %.1f µs, ", createWall / 1e3)
        s += "the groups' fsync included; other load on the machine moves it more): lookup + actor = "
        s += String(format: "%.2f%%", share(actorWall(ordinary), of: createWall)) + " with \(ordinaryName), "
        s += String(format: "%.2f%%", share(actorWall(longest), of: createWall)) + " with \(longestName)\n"
        s += "combined per create: key lookup \(ns(lookup)) ns (the whole lookup, "
        s += "\(hundredKeys(lookups).keysConfigured ?? 0) keys) + actor \(ordinaryName) \(counted(actorCPU(ordinary)))"
        s += String(format: " = %.2f%% of one create's CPU (%.1f µs, same run); ", percentOrdinary, createCPU / 1e3)
        s += String(format: "%.2f%% with \(longestName) (\(counted(actorCPU(longest)))). ", percentLongest)
        let worst = max(percentOrdinary, percentLongest)
        s += String(format: "Under the %.0f%% target: ", targetPercent)
        guard worst < targetPercent else {
            return s + String(format: "no, %.1fx over", worst / targetPercent)
        }
        return s + "yes"
    }

    /// Each round's value of a variant over the baseline's in the same round.
    static func paired(_ values: [Double], _ base: [Double]) -> [Double] { zip(values, base).map { $0 / $1 } }

    /// The 100-key key list read (the realistic config).
    static func hundredKeys(_ rows: [KeyLookupBenchmark.Row]) -> KeyLookupBenchmark.Row {
        rows.filter { $0.keysConfigured != nil }.max { ($0.keysConfigured ?? 0) < ($1.keysConfigured ?? 0) }!
    }

    /// A request's whole lookup (median) with the largest key list.
    static func lookupNanos(_ rows: [KeyLookupBenchmark.Row]) -> Double { hundredKeys(rows).p50Nanos }

    static func ns(_ x: Double) -> String { String(format: abs(x) < 100 ? "%.1f" : "%.0f", x) }
    static func ratio(_ x: Double) -> String { String(format: "%.3fx", x) }
}
