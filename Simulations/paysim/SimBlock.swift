import Foundation
import RegionSim

/// One run asked for: its seed, options, and the command that replays it.
struct SimRun {
    let seed: UInt64
    let options: SimOptions
    let replay: String
}

/// Runs a block of simulations and prints what paysim prints: a trace hash per run, the
/// violations of failing runs with their replay line, a table or JSON, the summary, and
/// the HTML report. Returns the exit code.
struct SimBlock {
    let runs: [SimRun]
    let json: Bool
    let quiet: Bool
    let noSpeed: Bool
    let replayEvery: Int
    let report: String?

    /// How many seeds run at once, each on its own thread; what is printed is the same
    /// for any number.
    let jobs: Int

    /// What one run gave: its result, its speed, and its trace hash when run again.
    struct Outcome: Sendable {
        let result: SimResult
        let speed: Double
        let againHash: String?
    }

    func run() -> Int32 {
        var results: [SimResult] = []
        var speeds: [Double] = []
        var exitCode: Int32 = 0
        let started = ContinuousClock.now
        let (runs, quiet, json, replayEvery) = (runs, quiet, json, replayEvery)
        InOrderPool.run(count: runs.count, threads: jobs) { i in
            let run = runs[i]
            if !quiet && !json { FileHandle.standardError.write(Data("running \(run.replay)\n".utf8)) }
            let t0 = ContinuousClock.now
            let result = Simulation(seed: run.seed, options: run.options).run()
            let wall = (ContinuousClock.now - t0) / .seconds(1)
            let speed = Double(result.simulatedMillis) / 1_000 / max(wall, 0.000_001)
            let again =
                result.passed && replayEvery > 0 && i % replayEvery == 0
                ? Simulation(seed: run.seed, options: run.options).run().traceHash : nil
            return Outcome(result: result, speed: speed, againHash: again)
        } deliver: { i, outcome in
            let run = runs[i]
            let result = outcome.result
            results.append(result)
            speeds.append(outcome.speed)
            if !json { print("trace hash: \(result.traceHash)  (\(run.replay))") }
            if !result.passed {
                exitCode = max(exitCode, result.exitCode)
                for v in result.violations.prefix(10) {
                    print("VIOLATION [\(v.kind.rawValue)] seed \(run.seed): \(v.message)")
                }
                if result.violations.count > 10 {
                    print("… and \(result.violations.count - 10) more violations (--json lists them all)")
                }
                print("replay: \(run.replay)")
            } else if let again = outcome.againHash, again != result.traceHash {
                print(
                    "NON-DETERMINISM seed \(run.seed): trace hash \(result.traceHash) then \(again)\nreplay: \(run.replay)"
                )
                exitCode = max(exitCode, 5)
            }
        }
        let wallSeconds = (ContinuousClock.now - started) / .seconds(1)
        printSummary(results, speeds: speeds, wallSeconds: wallSeconds)
        if let report, let chosen = results.first(where: { !$0.passed }) ?? results.first {
            do {
                try HTMLReport.render(chosen).write(toFile: report, atomically: true, encoding: .utf8)
                if !json { print("report: \(report) (seed \(chosen.seed))") }
            } catch {
                FileHandle.standardError.write(Data("paysim: cannot write \(report): \(error)\n".utf8))
                exitCode = max(exitCode, 1)
            }
        }
        return exitCode
    }

    func printSummary(_ results: [SimResult], speeds: [Double], wallSeconds: Double) {
        if json {
            print(SimReport.jsonReport(results, speedups: speeds), terminator: "")
            return
        }
        if !quiet || results.count <= 20 {
            print(SimReport.table(results, speedups: noSpeed ? nil : speeds), terminator: "")
        } else {
            let failed = results.indices.filter { !results[$0].passed }
            if !failed.isEmpty {
                print(
                    SimReport.table(failed.map { results[$0] }, speedups: noSpeed ? nil : failed.map { speeds[$0] }),
                    terminator: "")
            }
        }
        print(SimReport.blockSummary(results, wallSeconds: wallSeconds, jobs: jobs), terminator: "")
    }
}
