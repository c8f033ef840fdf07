import Foundation
import RegionSim

/// paysim: the deterministic region-outage simulator. See `paysim --help`.
let usage = """
usage: paysim [--seed S | --seeds A-B] [--scenario FILE]... [--scenarios DIR]
              [--json] [--report FILE.html] [--replay-every N] [--quiet]

  --seed S           run one swarm seed (options drawn from the seed)
  --seeds A-B        run swarm seeds A through B
  --scenario FILE    run a scenario file (with --seed, or seed 1)
  --scenarios DIR    run every *.scenario file in DIR
  --json             print results as JSON instead of tables
  --report FILE      write an HTML timeline of the first failing (else first) run
  --replay-every N   re-run every Nth passing run and fail if its trace hash differs
  --quiet            print only failures and the summary
  --no-speed         leave the machine-dependent speed column out of the table
  --trace-payment ID print every client operation on one payment
  --broken-merge     TEST ONLY: run engines with a merge that keeps the lower stamp

exit codes: 0 pass, 1 usage, 3 liveness, 4 safety, 5 non-determinism;
a crash (a trap in the engine) kills the process with a signal.
"""

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("paysim: \(message)\n\n\(usage)\n".utf8))
    exit(1)
}

var seeds: [UInt64] = []
var scenarioPaths: [String] = []
var json = false
var reportPath: String?
var replayEvery = 0
var quiet = false
var noSpeed = false
var brokenMerge = false
var tracePayment: String?
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    func value() -> String {
        guard let v = args.popFirst() else { fail("\(arg) needs a value") }
        return v
    }
    switch arg {
    case "--seed":
        let v = value()
        guard let s = UInt64(v) else { fail("--seed needs a number, got \(v)") }
        seeds.append(s)
    case "--seeds":
        let v = value()
        let parts = v.split(separator: "-").compactMap { UInt64($0) }
        guard parts.count == 2, parts[0] <= parts[1], parts[1] - parts[0] < 1_000_000 else { fail("--seeds needs A-B, got \(v)") }
        seeds += Array(parts[0]...parts[1])
    case "--scenario": scenarioPaths.append(value())
    case "--scenarios":
        let dir = value()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { fail("cannot read directory \(dir)") }
        scenarioPaths += names.filter { $0.hasSuffix(".scenario") }.sorted().map { dir + "/" + $0 }
    case "--json": json = true
    case "--no-speed": noSpeed = true
    case "--report": reportPath = value()
    case "--replay-every":
        guard let n = Int(value()), n > 0 else { fail("--replay-every needs a positive number") }
        replayEvery = n
    case "--quiet": quiet = true
    case "--trace-payment": tracePayment = value()
    case "--broken-merge": brokenMerge = true
    case "-h", "--help":
        print(usage)
        exit(0)
    default: fail("unknown argument \(arg)")
    }
}

var runs: [(seed: UInt64, options: SimOptions, replay: String)] = []
for path in scenarioPaths {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read scenario \(path)") }
    do {
        var options = try ScenarioFile.parse(text)
        options.brokenMerge = brokenMerge
        for seed in seeds.isEmpty ? [1] : seeds {
            runs.append((seed, options, "paysim --scenario \(path) --seed \(seed)"))
        }
    } catch {
        fail("\(path): \(error)")
    }
}
if scenarioPaths.isEmpty {
    for seed in seeds.isEmpty ? [1] : seeds {
        var options = SimOptions.swarm(seed: seed)
        options.brokenMerge = brokenMerge
        options.tracePayment = tracePayment
        runs.append((seed, options, "paysim --seed \(seed)" + (brokenMerge ? " --broken-merge" : "")))
    }
}

var results: [SimResult] = []
var speeds: [Double] = []
var exitCode: Int32 = 0
let started = ContinuousClock.now
for (i, run) in runs.enumerated() {
    if !quiet && !json { FileHandle.standardError.write(Data("running \(run.replay)\n".utf8)) }
    let t0 = ContinuousClock.now
    let result = Simulation(seed: run.seed, options: run.options).run()
    let wall = (ContinuousClock.now - t0) / .seconds(1)
    results.append(result)
    speeds.append(Double(result.simulatedMillis) / 1_000 / max(wall, 0.000_001))
    if !json { print("trace hash: \(result.traceHash)  (\(run.replay))") }
    if !result.passed {
        exitCode = max(exitCode, result.exitCode)
        for v in result.violations.prefix(10) { print("VIOLATION [\(v.kind.rawValue)] seed \(run.seed): \(v.message)") }
        if result.violations.count > 10 { print("… and \(result.violations.count - 10) more violations (--json lists them all)") }
        print("replay: \(run.replay)")
    } else if replayEvery > 0 && i % replayEvery == 0 {
        let again = Simulation(seed: run.seed, options: run.options).run()
        if again.traceHash != result.traceHash {
            print("NON-DETERMINISM seed \(run.seed): trace hash \(result.traceHash) then \(again.traceHash)\nreplay: \(run.replay)")
            exitCode = max(exitCode, 5)
        }
    }
}
let wallSeconds = (ContinuousClock.now - started) / .seconds(1)

if json {
    print(SimReport.jsonReport(results, speedups: speeds), terminator: "")
} else {
    if !quiet || results.count <= 20 {
        print(SimReport.table(results, speedups: noSpeed ? nil : speeds), terminator: "")
    } else {
        let failed = results.indices.filter { !results[$0].passed }
        if !failed.isEmpty {
            print(SimReport.table(failed.map { results[$0] }, speedups: noSpeed ? nil : failed.map { speeds[$0] }), terminator: "")
        }
    }
    print(SimReport.blockSummary(results, wallSeconds: wallSeconds), terminator: "")
}
if let reportPath, let chosen = results.first(where: { !$0.passed }) ?? results.first {
    do {
        try HTMLReport.render(chosen).write(toFile: reportPath, atomically: true, encoding: .utf8)
        if !json { print("report: \(reportPath) (seed \(chosen.seed))") }
    } catch {
        FileHandle.standardError.write(Data("paysim: cannot write \(reportPath): \(error)\n".utf8))
        exitCode = max(exitCode, 1)
    }
}
exit(exitCode)
