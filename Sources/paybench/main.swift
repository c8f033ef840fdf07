import Foundation
import ReplicaStore

/// paybench: measurements, printed as tables (never asserted in tests).
let usage = """
    usage: paybench suite [--runs N] [--seconds S] [--connections C] [--rss-creates N] [--lag-rates R,R] [--catch-up N]
                          [--catch-up-runs N] [--paysim-seeds N] [--only http,postgres,lag,events,etcd,catchup,paysim,dataset]
                          [--dataset N] [--no-dataset-catch-up] [--dir DIR]
             every end-to-end benchmark against real nodes, wrk, PostgreSQL and etcd; one markdown table of medians
             (--rss-creates: the creates a node takes over HTTP before its RSS is read, 300,000 by default)
             (the dataset part, a region holding --dataset payments, 10,000,000 by default, runs only when named in --only)
           paybench store [--writers N] [--writes N] [--naive-writes N] [--sync full|normal] [--dir DIR]
           paybench wire [--entries N]     (replication bytes per create, raw vs LZ4, by batch size)
           paybench access [--rounds N] [--creates N] [--group N] [--dir DIR]
             what named API keys cost a create, in-process: the key lookup per request (ns), durable creates
             with and without an actor (creates/s, ratio), and both as a share of one create (target < 3%)
           paybench crash-writer PATH      (used by the crash test: writes until killed)
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("paybench: \(message)\n\n\(usage)\n".utf8))
    exit(1)
}

let allArgs = Array(CommandLine.arguments.dropFirst())
guard let command = allArgs.first else { fail("no command") }
let args = Array(allArgs.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    guard let i = args.firstIndex(of: name) else { return fallback }
    guard i + 1 < args.count else { fail("\(name) needs a value") }
    return args[i + 1]
}
/// Refuses an option the command does not know (or a stray word), and prints the usage on
/// `--help`, before any benchmark starts.
func checkOptions(_ valued: Set<String>, flags: Set<String> = []) {
    var i = 0
    while i < args.count {
        let a = args[i]
        if a == "-h" || a == "--help" {
            print(usage)
            exit(0)
        }
        if valued.contains(a) {
            i += 2
        } else if flags.contains(a) {
            i += 1
        } else {
            fail("\(command) does not take \(a)")
        }
    }
}
func number(_ name: String, _ fallback: Int) -> Int {
    let v = option(name, String(fallback))
    guard let n = Int(v), n > 0 else { fail("\(name) needs a positive number, got \(v)") }
    return n
}

do {
    switch command {
    case "store":
        checkOptions(["--writers", "--writes", "--naive-writes", "--sync", "--dir"])
        let sync: StoreOptions.Synchronous =
            switch option("--sync", "full") {
            case "full": .full
            case "normal": .normal
            case let other: fail("--sync is full or normal, got \(other)")
            }
        let dir = option("--dir", NSTemporaryDirectory() + "paybench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try StoreBenchmark.run(
            writers: number("--writers", 1_000), writes: number("--writes", 100_000),
            naiveWrites: number("--naive-writes", 3_000), synchronous: sync, dir: dir)
    case "suite":
        checkOptions(
            [
                "--runs", "--seconds", "--connections", "--rss-creates", "--lag-rates", "--catch-up",
                "--catch-up-runs", "--paysim-seeds", "--only", "--dataset", "--dir",
            ], flags: ["--no-dataset-catch-up"])
        let dir = option("--dir", NSTemporaryDirectory() + "paybench-suite-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var o = Suite.Options(dir: dir)
        o.runs = number("--runs", o.runs)
        o.seconds = number("--seconds", o.seconds)
        o.connections = number("--connections", o.connections)
        o.rssCreates = number("--rss-creates", o.rssCreates)
        let rates = option("--lag-rates", o.lagRates.map(String.init).joined(separator: ",")).split(separator: ",")
        o.lagRates = rates.compactMap { Int($0) }.filter { $0 > 0 }
        guard o.lagRates.count == rates.count, !rates.isEmpty else {
            fail("--lag-rates takes positive numbers, e.g. 1000,5000")
        }
        o.catchUpPayments = number("--catch-up", o.catchUpPayments)
        o.catchUpRuns = number("--catch-up-runs", o.catchUpRuns)
        o.paysimSeeds = number("--paysim-seeds", o.paysimSeeds)
        o.datasetPayments = number("--dataset", o.datasetPayments)
        o.datasetCatchUp = !args.contains("--no-dataset-catch-up")
        let only = Set(option("--only", o.only.sorted().joined(separator: ",")).split(separator: ",").map(String.init))
        let parts = o.only.union(["dataset"])
        guard only.isSubset(of: parts), !only.isEmpty else {
            fail("--only takes some of \(parts.sorted().joined(separator: ","))")
        }
        o.only = only
        try await Suite.run(o)
        if args.firstIndex(of: "--dir") == nil { try? FileManager.default.removeItem(atPath: dir) }
    case "probe":
        checkOptions(["--writes", "--dir"])
        let dir = option("--dir", NSTemporaryDirectory() + "paybench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Probe.run(dir: dir, writes: number("--writes", 100_000))
    case "access":
        checkOptions(["--rounds", "--creates", "--group", "--dir"])
        var o = AccessBenchmark.Options(dir: option("--dir", NSTemporaryDirectory() + "paybench-access-\(getpid())"))
        o.rounds = number("--rounds", o.rounds)
        o.creates = number("--creates", o.creates)
        o.group = number("--group", o.group)
        try FileManager.default.createDirectory(atPath: o.dir, withIntermediateDirectories: true)
        defer { if args.firstIndex(of: "--dir") == nil { try? FileManager.default.removeItem(atPath: o.dir) } }
        try AccessBenchmark.run(o)
    case "wire":
        checkOptions(["--entries"])
        try WireBenchmark.run(count: number("--entries", 10_000))
    case "crash-writer":
        guard let path = args.first else { fail("crash-writer needs a database path") }
        try CrashWriter.run(path: path)
    case "-h", "--help":
        print(usage)
    default:
        fail("unknown command \(command)")
    }
} catch {
    FileHandle.standardError.write(Data("paybench: \(error)\n".utf8))
    exit(2)
}
