import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import PaymentNode
import ReplicaCore

/// Three regions on loopback. (1) Replication lag at a fixed write rate: creates go to A on
/// a schedule (open loop); for every `sampleEvery`-th one, as soon as A acks it, a read of
/// it goes to B and to C carrying the write's session token, which each region answers
/// only once it holds the write: lag = that answer's time minus A's ack. Bytes on the
/// wire come from A's transport counters. (2) One client's sequential creates at A, acked
/// `local` and `remote` (compared with etcd's quorum writes). (3) B and C paused (SIGSTOP):
/// does a write at A, now a minority of one, still succeed?
enum LagBenchmark {
    struct Options {
        /// Creates per second asked of the writer, one lag measurement each.
        var rates = [1_000, 5_000]
        var seconds = 10
        var sampleEvery = 10
        var sequentialWrites = 500
        var dir: String
    }

    static let regions = ["ap-northeast-1", "us-east-1", "eu-west-1"].map { RegionID($0)! }

    static func run(_ options: Options, run: Int, into samples: inout Samples) async throws {
        let http = BenchHTTP.client()
        defer { BenchHTTP.shutdown(http) }
        let cluster = try BenchCluster(
            regions: regions, dir: options.dir + "/lag-\(run)", api: ["session_wait_ms: 30000"], http: http)
        try await cluster.startAll()
        defer { cluster.stopAll() }
        try await waitForMesh(cluster)
        let (a, b, c) = (regions[0], regions[1], regions[2])

        let before = try await transportBytes(cluster, a)
        var acked = 0
        for rate in options.rates {
            progress("run \(run): \(rate) creates/s at \(a) for \(options.seconds) s, lag sampled at \(b) and \(c)")
            let lag = try await fixedRate(cluster, options, rate: rate, writer: a, readers: [b, c], run: run)
            samples.add("lag.\(rate).achieved_rate", lag.achievedRate)
            samples.add("lag.\(rate).p50_ms", lag.p50)
            samples.add("lag.\(rate).p99_ms", lag.p99)
            acked += lag.acked
        }
        let after = try await transportBytes(cluster, a)
        samples.add("wire.ratio", Double(after.raw - before.raw) / Double(max(1, after.wire - before.wire)))
        samples.add("wire.raw_bytes_per_create", Double(after.raw - before.raw) / Double(max(1, acked * 2)))
        samples.add("wire.wire_bytes_per_create", Double(after.wire - before.wire) / Double(max(1, acked * 2)))

        progress("run \(run): \(options.sequentialWrites) sequential creates at \(a), local then remote")
        for durability in ["local", "remote"] {
            var millis: [Double] = []
            for i in 0..<options.sequentialWrites {
                let t0 = now()
                let reply = try await create(cluster, a, key: "seq-\(run)-\(durability)-\(i)", durability: durability)
                guard reply.status == 201, reply.header("X-Durability-Achieved") == durability else {
                    throw BenchError(
                        "a \(durability) create answered \(reply.status) \(String(decoding: reply.body, as: UTF8.self))"
                    )
                }
                millis.append((now() - t0) * 1_000)
            }
            let p = BenchHTTP.percentiles(millis)
            samples.add("seq.\(durability)_p50_ms", p.p50)
            samples.add("seq.\(durability)_p99_ms", p.p99)
        }

        progress("run \(run): \(b) and \(c) paused; writing at \(a) alone")
        cluster.signal(b, SIGSTOP)
        cluster.signal(c, SIGSTOP)
        defer {
            cluster.signal(b, SIGCONT)
            cluster.signal(c, SIGCONT)
        }
        for durability in ["local", "remote"] {
            let t0 = now()
            let reply = try await create(cluster, a, key: "minority-\(run)-\(durability)", durability: durability)
            let ms = Int((now() - t0) * 1_000)
            let achieved = reply.header("X-Durability-Achieved") ?? "-"
            samples.note(
                "minority.\(durability)",
                reply.status < 300
                    ? "accepted (\(reply.status), held by \(achieved == "local" ? "A only" : achieved)) in ~\(roundedMillis(ms))"
                    : "refused (\(reply.status))")
        }
    }

    struct LagResult {
        let achievedRate: Double
        let acked: Int
        let p50: Double
        let p99: Double
    }

    /// Creates at `writer` on a fixed schedule; samples the lag to `readers`.
    static func fixedRate(
        _ cluster: BenchCluster, _ options: Options, rate: Int, writer: RegionID, readers: [RegionID], run: Int
    ) async throws -> LagResult {
        guard !cluster.apiTLS else { throw BenchError("the lag run's writer speaks plain HTTP only") }
        // The writer's own connections on one event loop: it takes what it needs of the
        // two cores the nodes share, and no more.
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var clients: [LeanHTTP] = []
        do {
            for (r, count) in [(writer, 64)] + readers.map({ ($0, 16) }) {
                clients.append(
                    try await LeanHTTP.connect(
                        port: cluster.apiPorts[r]!, warm: count, apiKey: BenchCluster.apiKey, group: loop))
            }
            let result = try await fixedRate(
                options, rate: rate, writer: clients[0], readers: Array(clients.dropFirst()), run: run)
            for client in clients { await client.close() }
            try await loop.shutdownGracefully()
            return result
        } catch {
            for client in clients { await client.close() }
            try? await loop.shutdownGracefully()
            throw error
        }
    }

    static func fixedRate(_ options: Options, rate: Int, writer: LeanHTTP, readers: [LeanHTTP], run: Int)
        async throws -> LagResult
    {
        let state = FixedRateState()
        let start = now()
        // Overloaded: skip, counted as not acked.
        let admit: @Sendable () -> Bool = { state.enter(limit: 2_000) }
        try await openLoop(rate: rate, seconds: options.seconds, admit: admit) { i in
            defer { state.leave() }
            let key = "lag-\(run)-\(rate)-\(i)"
            let reply = try await writer.send(
                .POST, "/v1/payments", headers: [("Idempotency-Key", key), ("X-Durability", "local")],
                body: createBody(key))
            guard reply.status == 201, let token = reply.sessionToken, let id = reply.id else {
                state.fail("\(reply.status)")
                return
            }
            let ackedAt = now()
            state.ack()
            guard i % options.sampleEvery == 0 else { return }
            var worst = 0.0
            for reader in readers {
                let read = try await reader.send(.GET, "/v1/payments/\(id)", headers: [("X-Session-Token", token)])
                guard read.status == 200 else {
                    state.fail("read \(read.status)")
                    return
                }
                worst = max(worst, now() - ackedAt)
            }
            state.lag(worst * 1_000)
        }
        let elapsed = now() - start
        let (lags, acked, failures) = state.results
        guard failures.isEmpty else {
            throw BenchError("\(failures.count) requests failed in the lag run, e.g. \(failures.prefix(5))")
        }
        let p = BenchHTTP.percentiles(lags)
        return LagResult(achievedRate: Double(acked) / elapsed, acked: acked, p50: p.p50, p99: p.p99)
    }

    static func create(_ cluster: BenchCluster, _ r: RegionID, key: String, durability: String) async throws
        -> BenchCluster.Reply
    {
        try await cluster.send(
            r, "POST", "/v1/payments", headers: ["Idempotency-Key": key, "X-Durability": durability],
            body: createBody(key), timeout: .seconds(30))
    }

    /// The body of the create with order id `key`.
    static func createBody(_ key: String) -> String {
        #"{"merchant_id":"m_lag","order_id":"\#(key)","amount":1250,"currency":"EUR","method":"card","description":"benchmark payment"}"#
    }

    /// Raw (before compression) and wire bytes of DELTA frames A has sent.
    static func transportBytes(_ cluster: BenchCluster, _ r: RegionID) async throws -> (raw: Int, wire: Int) {
        let t = try await cluster.get(r, "/v1/cluster").json["transport"] as? [String: Any] ?? [:]
        return ((t["delta_message_bytes_sent"] as? Int) ?? 0, (t["delta_wire_bytes_sent"] as? Int) ?? 0)
    }

    /// Waits until every region reports both peers connected.
    static func waitForMesh(_ cluster: BenchCluster) async throws {
        for r in cluster.regions {
            try await poll("\(r) is connected to its peers", timeout: 30) {
                let peers = try await cluster.get(r, "/v1/cluster").json["peers"] as? [[String: Any]] ?? []
                return peers.count == cluster.regions.count - 1 && peers.allSatisfy { $0["connected"] as? Bool == true }
            }
        }
    }

    static func roundedMillis(_ ms: Int) -> String {
        ms >= 1_000 ? String(format: "%.1f s", Double(ms) / 1_000) : "\(ms) ms"
    }
}

/// What the fixed-rate writer's tasks share, under one lock.
final class FixedRateState: @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight = 0
    private var lags: [Double] = []
    private var acked = 0
    private var failures: [String] = []

    /// Counts a request in flight, unless `limit` already are.
    func enter(limit: Int) -> Bool {
        lock.withLock {
            inFlight < limit
                ? {
                    inFlight += 1
                    return true
                }() : false
        }
    }
    func leave() { lock.withLock { inFlight -= 1 } }
    func ack() { lock.withLock { acked += 1 } }
    func lag(_ ms: Double) { lock.withLock { lags.append(ms) } }
    func fail(_ what: String) { lock.withLock { failures.append(what) } }
    var results: (lags: [Double], acked: Int, failures: [String]) { lock.withLock { (lags, acked, failures) } }
}
