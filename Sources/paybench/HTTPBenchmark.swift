import Foundation
import PaymentNode
import ReplicaCore
import ReplicaStore

/// Durable creates and reads by id through HTTP at one node (no peers), loaded by wrk
/// from its own process, beside the same work done straight on SQLite in this process:
/// inserts with one transaction and fsync each (same pragmas as the node's store), and
/// point reads by primary key on the node's own database file. After the timed creates,
/// wrk keeps creating until the node has taken `rssCreates` and its RSS is read; then a
/// second node with its API on HTTPS takes the same creates and reads
/// (HTTPBenchmark+Memory.swift, HTTPBenchmark+TLS.swift).
enum HTTPBenchmark {
    struct Options {
        var seconds = 10
        var connections = 64
        /// Creates the node has taken in all when its RSS is read (0: no reading).
        var rssCreates = 300_000
        var dir: String
    }

    static func run(_ options: Options, run: Int, into samples: inout Samples) async throws {
        let dir = options.dir + "/http-\(run)"
        let http = BenchHTTP.client()
        defer { BenchHTTP.shutdown(http) }
        let region = RegionID("us-east-1")!
        let cluster = try BenchCluster(regions: [region], dir: dir, http: http)
        try await cluster.start(region)
        defer { cluster.stopAll() }

        progress("run \(run): HTTP creates, wrk -c\(options.connections) for \(options.seconds) s")
        let writtenBefore = cluster.diskBytesWritten(region)
        let creates = try timedCreates(cluster, region, options, run: run)
        if let before = writtenBefore, let after = cluster.diskBytesWritten(region) {
            samples.add("http.disk_bytes_per_create", Double(after - before) / Double(max(1, creates.requests)))
        }
        samples.add("http.creates_per_s", creates.perSecond)
        samples.add("http.create_p50_ms", creates.p50Millis)
        samples.add("http.create_p99_ms", creates.p99Millis)
        if options.rssCreates > 0 {
            try await createsThenRSS(cluster, region, options, run: run, rate: creates.perSecond, into: &samples)
        }

        let ids = try await collectIDs(cluster, region, upTo: 20_000)
        let idsPath = dir + "/ids.txt"
        try ids.joined(separator: "\n").write(toFile: idsPath, atomically: true, encoding: .utf8)
        progress("run \(run): HTTP reads by id over \(ids.count) ids for \(options.seconds) s")
        let reads = try timedReads(cluster, region, options, idsPath: idsPath)
        samples.add("http.reads_per_s", reads.perSecond)
        samples.add("http.read_p50_ms", reads.p50Millis)
        samples.add("http.read_p99_ms", reads.p99Millis)

        progress("run \(run): GET /health for \(options.seconds) s (the HTTP stack alone)")
        let health = try Wrk.run(
            script: Wrk.healthScript, url: cluster.url(region), seconds: options.seconds,
            connections: options.connections, env: [:], dir: dir)
        samples.add("http.health_per_s", health.perSecond)
        samples.add("http.health_p99_ms", health.p99Millis)

        let direct = try pointReads(databasePath: cluster.dataDir(region) + "/paynode.sqlite", ids: ids, seconds: 3)
        samples.add("sqlite.reads_per_s", direct.perSecond)
        samples.add("sqlite.read_p50_ms", direct.p50Millis ?? 0)
        samples.add("sqlite.read_p99_ms", direct.p99Millis ?? 0)
        cluster.stopAll()

        progress("run \(run): raw SQLite inserts, one transaction and fsync each")
        let raw = try StoreBenchmark.raw(oneTransaction: false, writes: 3_000, synchronous: .full, dir: dir)
        samples.add("sqlite.creates_per_s", raw.perSecond)
        samples.add("sqlite.create_p50_ms", raw.p50Millis ?? 0)
        samples.add("sqlite.create_p99_ms", raw.p99Millis ?? 0)

        try await https(options, run: run, into: &samples)
    }

    /// wrk's creates at the node for `options.seconds`; throws when one failed.
    static func timedCreates(_ cluster: BenchCluster, _ region: RegionID, _ options: Options, run: Int) throws
        -> Wrk.Result
    {
        let creates = try Wrk.run(
            script: Wrk.createScript, url: cluster.url(region), seconds: options.seconds,
            connections: options.connections, env: ["PAYBENCH_RUN": "\(run)"], dir: cluster.dir)
        guard creates.failures == 0 else {
            throw BenchError("\(creates.failures) creates failed; see \(cluster.logPath(region))")
        }
        return creates
    }

    /// wrk's reads by id (round robin over the file at `idsPath`) for `options.seconds`.
    static func timedReads(_ cluster: BenchCluster, _ region: RegionID, _ options: Options, idsPath: String) throws
        -> Wrk.Result
    {
        let reads = try Wrk.run(
            script: Wrk.readScript, url: cluster.url(region), seconds: options.seconds,
            connections: options.connections, env: ["PAYBENCH_IDS": idsPath], dir: cluster.dir)
        guard reads.failures == 0 else {
            throw BenchError("\(reads.failures) reads failed; see \(cluster.logPath(region))")
        }
        return reads
    }

    /// Payment ids from the reporting list, newest first.
    static func collectIDs(_ cluster: BenchCluster, _ region: RegionID, upTo limit: Int) async throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        repeat {
            let query = "/v1/payments?merchant_id=m_bench&limit=500" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await cluster.get(region, query).json
            ids += ((page["data"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            cursor = page["next_cursor"] as? String
        } while cursor != nil && ids.count < limit
        guard !ids.isEmpty else { throw BenchError("the node listed no payments after the create run") }
        return ids
    }

    /// Point reads by id straight from the database file, one thread, for `seconds`.
    static func pointReads(databasePath: String, ids: [String], seconds: Double) throws -> StoreBenchmark.Row {
        let reader = try StoreReader(readOnlyPath: databasePath)
        let parsed = ids.compactMap(PaymentID.init)
        var latencies: [Double] = []
        let start = now()
        var i = 0
        while now() - start < seconds {
            let t0 = now()
            guard try reader.payment(parsed[i % parsed.count]) != nil else {
                throw BenchError("payment \(parsed[i % parsed.count]) not found")
            }
            latencies.append((now() - t0) * 1_000)
            i += 1
        }
        let elapsed = now() - start
        latencies.sort()
        return StoreBenchmark.Row(
            name: "sqlite point reads", writes: i, seconds: elapsed,
            p50Millis: StoreBenchmark.percentile(latencies, 0.5),
            p99Millis: StoreBenchmark.percentile(latencies, 0.99))
    }
}
