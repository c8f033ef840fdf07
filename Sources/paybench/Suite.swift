import Foundation

/// `paybench suite`: every end-to-end benchmark, `runs` times each, then one markdown
/// table of medians with the baselines measured in the same run and the targets.
enum Suite {
    struct Options {
        var runs = 3
        var seconds = 10
        var connections = 64
        /// Creates a node has taken over HTTP when its RSS is read (the http part).
        var rssCreates = 300_000
        var lagRates = [1_000, 5_000]
        var catchUpPayments = 1_000_000
        var catchUpRuns = 1
        var paysimSeeds = 20
        /// Payments in the dataset part's region (a part run only when `only` names it).
        var datasetPayments = 10_000_000
        var datasetCatchUp = true
        var dir: String
        var only: Set<String> = ["http", "postgres", "lag", "events", "etcd", "catchup", "paysim"]
    }

    /// Runs the suite and prints the table; throws (after printing) when a part failed.
    static func run(_ o: Options) async throws {
        var s = Samples()
        var failures: [String] = []
        let started = Date()
        // A part that fails is reported under the table; the others still run.
        func attempt(_ part: String, _ body: (inout Samples) async throws -> Void) async {
            do { try await body(&s) } catch {
                progress("\(part) failed: \(error)")
                failures.append("\(part): \(error)")
            }
        }
        for run in 1...o.runs {
            if o.only.contains("http") {
                await attempt("http, run \(run)") {
                    try await HTTPBenchmark.run(
                        .init(
                            seconds: o.seconds, connections: o.connections, rssCreates: o.rssCreates, dir: o.dir),
                        run: run, into: &$0)
                }
            }
            if o.only.contains("postgres") {
                await attempt("postgres, run \(run)") {
                    try PostgresBaseline.run(
                        .init(seconds: o.seconds, clients: o.connections, dir: o.dir), run: run, into: &$0)
                }
            }
            if o.only.contains("lag") {
                await attempt("lag, run \(run)") {
                    try await LagBenchmark.run(
                        .init(rates: o.lagRates, seconds: o.seconds, dir: o.dir), run: run, into: &$0)
                }
            }
            if o.only.contains("events") {
                await attempt("events, run \(run)") {
                    try await EventBenchmark.run(
                        .init(seconds: o.seconds, connections: o.connections, dir: o.dir), run: run, into: &$0)
                }
            }
            if o.only.contains("etcd") {
                await attempt("etcd, run \(run)") { try await EtcdBaseline.run(.init(dir: o.dir), run: run, into: &$0) }
            }
        }
        if o.only.contains("catchup") {
            for run in 1...o.catchUpRuns {
                await attempt("catch-up, run \(run)") {
                    try await CatchUpBenchmark.run(.init(payments: o.catchUpPayments, dir: o.dir), run: run, into: &$0)
                }
            }
        }
        if o.only.contains("dataset") {
            await attempt("dataset") {
                try await DatasetBenchmark.run(
                    .init(
                        payments: o.datasetPayments, seconds: o.seconds, connections: o.connections,
                        catchUp: o.datasetCatchUp, dir: o.dir), into: &$0)
            }
        }
        if o.only.contains("paysim") { await attempt("paysim") { try paysimSpeed(seeds: o.paysimSeeds, into: &$0) } }
        var table = SuiteTable.render(s, o, started: started, wall: Date().timeIntervalSince(started))
        if !failures.isEmpty { table += "\nfailed:\n" + failures.map { "- " + $0 }.joined(separator: "\n") + "\n" }
        print(table)
        if !failures.isEmpty { throw BenchError("\(failures.count) part(s) failed (listed under the table)") }
    }

    /// Runs `paysim --seeds 1-N`, one seed at a time (the simulator's own speed) and then
    /// two at a time (a block's throughput on this machine's two cores), and reads its
    /// "simulated X s in Y s wall" line.
    static func paysimSpeed(seeds: Int, into s: inout Samples) throws {
        try paysimSpeed(seeds: seeds, jobs: 1, into: &s)
        try paysimSpeed(seeds: seeds, jobs: 2, into: &s)
    }

    static func paysimSpeed(seeds: Int, jobs: Int, into s: inout Samples) throws {
        progress("paysim: \(seeds) seeds, \(jobs) at a time")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Binaries.path("paysim"))
        p.arguments = ["--seeds", "1-\(seeds)", "--jobs", "\(jobs)"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let t0 = now()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let wall = now() - t0
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("simulated ") }),
            let simulated = Double(line.split(separator: " ")[1])
        else {
            throw BenchError("paysim printed no \"simulated\" line (exit \(p.terminationStatus))")
        }
        let suffix = jobs == 1 ? "" : "_jobs\(jobs)"
        s.add("paysim.seeds_per_s" + suffix, Double(seeds) / wall)
        s.add("paysim.speedup" + suffix, simulated / wall)
    }
}
