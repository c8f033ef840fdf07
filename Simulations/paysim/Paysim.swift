import ArgumentParser
import Foundation
import RegionSim

/// paysim: the deterministic region-outage simulator.
@main
struct Paysim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paysim",
        abstract:
            "Run regions through outages, partitions, disk faults and clock skew; check safety and liveness; print RPO and RTO.",
        discussion: """
            Exit codes: 0 pass, 64 usage, 3 liveness, 4 safety, 5 non-determinism; a crash (a trap in the engine) \
            kills the process with a signal.
            """)

    @Option(name: .customLong("seed"), help: "Run one swarm seed (options drawn from the seed); may be repeated.")
    var seed: [UInt64] = []

    @Option(name: .customLong("seeds"), help: ArgumentHelp("Run swarm seeds A through B.", valueName: "A-B"))
    var seedRange: SeedRange?

    @Option(
        name: .customLong("scenario"),
        help: ArgumentHelp("Run a scenario file (with --seed, or seed 1); may be repeated.", valueName: "file"))
    var scenarios: [String] = []

    @Option(
        name: .customLong("scenarios"), help: ArgumentHelp("Run every *.scenario file in the folder.", valueName: "dir")
    )
    var scenarioFolder: String?

    @Flag(help: "Print results as JSON instead of tables.")
    var json = false

    @Option(help: ArgumentHelp("Write an HTML timeline of the first failing (else first) run.", valueName: "file.html"))
    var report: String?

    @Option(
        name: .customLong("replay-every"),
        help: ArgumentHelp("Re-run every Nth passing run and fail if its trace hash differs.", valueName: "n"))
    var replayEvery: Int = 0

    @Option(
        help: ArgumentHelp(
            "Run this many seeds at once, each on its own thread (default 1). What is printed is the same for any number; the speed line is the whole block's.",
            valueName: "n"))
    var jobs: Int = 1

    @Flag(help: "Print only failures and the summary.")
    var quiet = false

    @Flag(name: .customLong("no-speed"), help: "Leave the machine-dependent speed column out of the table.")
    var noSpeed = false

    @Option(
        name: .customLong("trace-payment"),
        help: ArgumentHelp("Print every client operation on one payment.", valueName: "id"))
    var tracePayment: String?

    @Flag(
        name: .customLong("broken-merge"),
        help: "TEST ONLY: the simulated disks merge records keeping the lower stamp of each field.")
    var brokenMerge = false

    /// `A-B`, at most a million seeds.
    struct SeedRange: ExpressibleByArgument {
        let seeds: ClosedRange<UInt64>
        init?(argument: String) {
            let parts = argument.split(separator: "-").compactMap { UInt64($0) }
            guard parts.count == 2, parts[0] <= parts[1], parts[1] - parts[0] < 1_000_000 else { return nil }
            seeds = parts[0]...parts[1]
        }
    }

    func validate() throws {
        guard replayEvery >= 0 else { throw ValidationError("--replay-every needs a positive number") }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs takes 1 to 64") }
        if jobs > 1 && tracePayment != nil {
            throw ValidationError("--trace-payment prints as the run goes: use it with --jobs 1")
        }
    }

    func run() throws {
        var runs: [SimRun] = []
        let seeds = seed + (seedRange.map { Array($0.seeds) } ?? [])
        var paths = scenarios
        if let scenarioFolder {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: scenarioFolder) else {
                throw ValidationError("cannot read directory \(scenarioFolder)")
            }
            paths += names.filter { $0.hasSuffix(".scenario") }.sorted().map { scenarioFolder + "/" + $0 }
        }
        for path in paths {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read scenario \(path)")
            }
            var options: SimOptions
            do { options = try ScenarioFile.parse(text) } catch { throw ValidationError("\(path): \(error)") }
            options.brokenMerge = brokenMerge
            options.tracePayment = tracePayment
            for seed in seeds.isEmpty ? [1] : seeds {
                runs.append(SimRun(seed: seed, options: options, replay: "paysim --scenario \(path) --seed \(seed)"))
            }
        }
        if paths.isEmpty {
            for seed in seeds.isEmpty ? [1] : seeds {
                var options = SimOptions.swarm(seed: seed)
                options.brokenMerge = brokenMerge
                options.tracePayment = tracePayment
                runs.append(
                    SimRun(
                        seed: seed, options: options,
                        replay: "paysim --seed \(seed)" + (brokenMerge ? " --broken-merge" : "")))
            }
        }
        let exitCode = SimBlock(
            runs: runs, json: json, quiet: quiet, noSpeed: noSpeed, replayEvery: replayEvery, report: report,
            jobs: jobs
        ).run()
        throw ExitCode(exitCode)
    }
}
