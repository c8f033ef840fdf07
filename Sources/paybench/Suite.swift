import Foundation

/// `paybench suite`: every end-to-end benchmark, `runs` times each, then one markdown
/// table of medians with the baselines measured in the same run and the targets.
enum Suite {
    struct Options {
        var runs = 3
        var seconds = 10
        var connections = 64
        var lagRates = [1_000, 5_000]
        var catchUpPayments = 1_000_000
        var catchUpRuns = 1
        var paysimSeeds = 20
        var dir: String
        var only: Set<String> = ["http", "lag", "etcd", "catchup", "paysim"]
    }

    static func run(_ o: Options) async throws {
        var s = Samples()
        let started = Date()
        for run in 1...o.runs {
            if o.only.contains("http") {
                try await HTTPBenchmark.run(.init(seconds: o.seconds, connections: o.connections, dir: o.dir), run: run, into: &s)
            }
            if o.only.contains("lag") {
                try await LagBenchmark.run(.init(rates: o.lagRates, seconds: o.seconds, dir: o.dir), run: run, into: &s)
            }
            if o.only.contains("etcd") { try await EtcdBaseline.run(.init(dir: o.dir), run: run, into: &s) }
        }
        if o.only.contains("catchup") {
            for run in 1...o.catchUpRuns {
                try await CatchUpBenchmark.run(.init(payments: o.catchUpPayments, dir: o.dir), run: run, into: &s)
            }
        }
        if o.only.contains("paysim") { try paysimSpeed(seeds: o.paysimSeeds, into: &s) }
        print(SuiteTable.render(s, o, started: started, wall: Date().timeIntervalSince(started)))
    }

    /// Runs `paysim --seeds 1-N` and reads its "simulated X s in Y s wall" line.
    static func paysimSpeed(seeds: Int, into s: inout Samples) throws {
        progress("paysim: \(seeds) seeds")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Binaries.path("paysim"))
        p.arguments = ["--seeds", "1-\(seeds)"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let t0 = now()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let wall = now() - t0
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("simulated ") }),
              let simulated = Double(line.split(separator: " ")[1]) else {
            throw BenchError("paysim printed no \"simulated\" line (exit \(p.terminationStatus))")
        }
        s.add("paysim.seeds_per_s", Double(seeds) / wall)
        s.add("paysim.speedup", simulated / wall)
    }
}
