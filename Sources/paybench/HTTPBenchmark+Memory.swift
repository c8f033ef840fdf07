import Foundation
import ReplicaCore

/// A node's memory after a long run of creates: wrk keeps creating at the node of the
/// timed run until its own entry of its vector (one per create) reaches the target, in
/// runs sized from the last run's rate, and the node's VmRSS is read as soon as the last
/// one ends. A budget of extra creates (`20 × seconds`, at least 120 s) bounds a slow
/// build: when the timed run's rate says the target is further than that (the smoke
/// run's debug node), the RSS is read at once, and a node that stops short is reported
/// with the count it reached.
extension HTTPBenchmark {
    static func createsThenRSS(
        _ cluster: BenchCluster, _ region: RegionID, _ options: Options, run: Int, rate: Double,
        into samples: inout Samples
    ) async throws {
        let target = options.rssCreates
        let budget = Double(max(120, 20 * options.seconds))
        var taken = try await createsTaken(cluster, region)
        var rss = cluster.rssBytes(region)
        var rate = max(rate, 100)
        var spent = 0.0
        var round = 0
        let reachable = Double(target - taken) / rate <= budget
        if !reachable {
            progress(
                "run \(run): \(target.formatted()) creates would take about \(Int(Double(target - taken) / rate)) s "
                    + "more at \(Int(rate))/s, over the budget of \(Int(budget)) s: RSS read now")
        }
        while reachable && taken < target && spent < budget {
            round += 1
            let wanted = (Double(target - taken) / rate * 1.1).rounded(.up)  // the rate falls as the store grows
            let seconds = Int(max(1, min(wanted, (budget - spent).rounded(.up))))
            progress(
                "run \(run): the node has taken \(taken.formatted()) creates; wrk creates for \(seconds) s more "
                    + "toward \(target.formatted()), then its RSS is read")
            let more = try Wrk.run(
                script: Wrk.createScript, url: cluster.url(region), seconds: seconds,
                connections: options.connections, env: ["PAYBENCH_RUN": "\(run)r\(round)"], dir: cluster.dir)
            rss = cluster.rssBytes(region)  // first: within a second of the last create
            guard more.failures == 0 else {
                throw BenchError("\(more.failures) creates failed; see \(cluster.logPath(region))")
            }
            spent += more.seconds
            rate = max(more.perSecond, 100)
            taken = try await createsTaken(cluster, region)
        }
        guard let rss else { throw BenchError("no VmRSS for the node in /proc") }
        let mb = Double(rss) / 1_048_576
        progress(
            "run \(run): RSS \(String(format: "%.0f", mb)) MB after \(taken.formatted()) creates"
                + (taken < target ? " (short of \(target.formatted()))" : ""))
        samples.add("http.rss_after_creates_mb", mb)
        samples.add("http.rss_creates", Double(taken))
    }

    /// The creates the node has taken: its own entry of the vector `/v1/cluster` reports.
    static func createsTaken(_ cluster: BenchCluster, _ region: RegionID) async throws -> Int {
        guard let seq = try await cluster.vector(region)[region.name] else {
            throw BenchError("\(region)'s /v1/cluster vector has no entry for itself")
        }
        return Int(seq)
    }
}
