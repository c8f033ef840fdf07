import Foundation
import PaymentNode
import ReplicaCore
import ReplicaStore

/// Catch-up after an outage and memory with a million payments. Three regions start and
/// share a few payments; all stop; `payments` creates are then written into A's store
/// (through a real engine and the store's commit, as A's API would, only without HTTP, so
/// a million take seconds, not minutes: the HTTP path is measured on its own). A restarts,
/// then B, which had none of them: the time until B's vector equals A's is the first
/// catch-up; then C restarts with A and B both serving it: the second. RSS of each node is
/// read once all three hold every payment.
enum CatchUpBenchmark {
    struct Options {
        var payments = 1_000_000
        var dir: String
    }

    static func run(_ options: Options, run: Int, into samples: inout Samples) async throws {
        let http = BenchHTTP.client()
        defer { BenchHTTP.shutdown(http) }
        let regions = LagBenchmark.regions
        let (a, b, c) = (regions[0], regions[1], regions[2])
        let cluster = try BenchCluster(regions: regions, dir: options.dir + "/catch-up-\(run)", http: http)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        try await LagBenchmark.waitForMesh(cluster)
        for i in 0..<100 {
            let reply = try await LagBenchmark.create(cluster, regions[i % 3], key: "before-\(i)", durability: "local")
            guard reply.status == 201 else { throw BenchError("create before the outage answered \(reply.status)") }
        }
        try await converged(cluster, regions, timeout: 60)
        cluster.stopAll()

        progress("run \(run): writing \(options.payments) payments into \(a)'s store")
        let seedStart = now()
        try seed(path: cluster.dataDir(a) + "/paynode.sqlite", region: a, payments: options.payments)
        samples.add("seed.per_s", Double(options.payments) / (now() - seedStart))

        let restart = now()
        try await cluster.start(a)
        samples.add("restart.seconds", now() - restart)
        progress("run \(run): \(b) restarts and catches up from \(a)")
        let bStart = now()
        try await cluster.start(b)
        let stallB = try await converged(cluster, [a, b], timeout: 900)
        samples.add("catchup.first_s", now() - bStart)
        progress("run \(run): \(c) restarts and catches up from \(a) and \(b)")
        let cStart = now()
        try await cluster.start(c)
        let stallC = try await converged(cluster, regions, timeout: 900)
        samples.add("catchup.second_s", now() - cStart)
        samples.add("catchup.api_stall_s", max(stallB, stallC))
        let rss = regions.compactMap(cluster.rssBytes)
        samples.add("rss.max_mb", Double(rss.max() ?? 0) / 1_048_576)
        samples.add("rss.min_mb", Double(rss.min() ?? 0) / 1_048_576)
    }

    /// Waits until every region in `regions` reports the same vector; returns the longest
    /// a `/v1/cluster` answer took meanwhile (a node busy catching up answers late).
    @discardableResult
    static func converged(_ cluster: BenchCluster, _ regions: [RegionID], timeout: Double) async throws -> Double {
        var lastReport = now()
        var slowest = 0.0
        try await poll("\(regions.map(\.name)) hold the same payments", timeout: timeout) {
            var vectors: [[String: UInt64]] = []
            // A node busy applying a snapshot may answer late; that is "not yet", not a failure.
            for r in regions {
                let t0 = now()
                let v = try? await cluster.vector(r, timeout: .seconds(120))
                slowest = max(slowest, now() - t0)
                guard let v else { return false }
                vectors.append(v)
            }
            if now() - lastReport > 5 {
                lastReport = now()
                progress(
                    "  vectors: "
                        + zip(regions, vectors).map { "\($0.0)=\($0.1.values.reduce(0, +))" }.joined(separator: " "))
            }
            // Every 250 ms: each answer sums the money the source's unacknowledged log puts at
            // risk, and a poller asking every 20 ms took a core from the catch-up it timed.
            try await Task.sleep(for: .milliseconds(250))
            return vectors.allSatisfy { $0 == vectors[0] }
        }
        return slowest
    }

    /// Writes `payments` creates into a stopped region's store, continuing its log.
    static func seed(path: String, region: RegionID, payments: Int) throws {
        let store = try ReplicaStore(options: StoreOptions(path: path))
        var workload = CreateWorkload(
            region: region.name, startMillis: UInt64(Date().timeIntervalSince1970 * 1_000),
            recovered: try store.recover())
        var written = 0
        while written < payments {
            let batch = min(1_000, payments - written)
            let nowMillis = UInt64(Date().timeIntervalSince1970 * 1_000)
            try store.commit((0..<batch).map { _ in workload.next(nowMillis: nowMillis) })
            written += batch
            if written % 200_000 == 0 { progress("  \(written) written") }
        }
    }
}
