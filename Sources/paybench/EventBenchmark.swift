import AsyncHTTPClient
import Foundation
import ReplicaCore

/// The change feed under load. Two regions on loopback (A takes the writes; B holds them,
/// so A's feed may show them). (1) Durable creates/s at A by wrk: three runs with no
/// consumer and, between them, two with one SSE consumer following A's feed; the
/// consumer's cost is the mean of the followed runs against the mean of the others.
/// Events/s delivered is what the consumer received while wrk ran. (2) Lag at a fixed
/// 1,000 creates/s: for each create, the time from A's ack to the consumer holding its
/// change.
enum EventBenchmark {
    struct Options {
        var seconds = 10
        var connections = 64
        var lagRate = 1_000
        var dir: String
    }

    static let regions = ["us-east-1", "eu-west-1"].map { RegionID($0)! }

    static func run(_ options: Options, run: Int, into samples: inout Samples) async throws {
        let http = BenchHTTP.client()
        defer { BenchHTTP.shutdown(http) }
        let cluster = try BenchCluster(regions: regions, dir: options.dir + "/events-\(run)", http: http)
        try await cluster.startAll()
        defer { cluster.stopAll() }
        try await LagBenchmark.waitForMesh(cluster)
        let a = regions[0]
        let dir = options.dir + "/events-\(run)"

        func creates(_ label: String) throws -> Double {
            progress(
                "run \(run): HTTP creates at \(a), \(label), wrk -c\(options.connections) for \(options.seconds) s")
            let r = try Wrk.run(
                script: Wrk.createScript, url: cluster.url(a), seconds: options.seconds,
                connections: options.connections,
                env: [
                    "PAYBENCH_RUN": "events-\(run)-"
                        + String(label.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
                ],
                dir: dir)
            guard r.failures == 0 else { throw BenchError("\(r.failures) creates failed; see \(cluster.logPath(a))") }
            return r.perSecond
        }

        // Runs without a consumer before, between and after the two followed ones, so a
        // drift of the machine's speed over the part counts on both sides.
        var alone = [try creates("no consumer")]
        var followed: [Double] = []
        var delivered: [Double] = []
        for round in 1...2 {
            try await FeedConsumer.following(cluster, a, recordsTimes: false) { consumer in
                let before = consumer.received
                let t0 = now()
                followed.append(try creates("one SSE consumer (\(round) of 2)"))
                delivered.append(Double(consumer.received - before) / (now() - t0))
                try await consumer.catchUp(to: try await cluster.vector(a), timeout: 120)
            }
            alone.append(try creates("no consumer (\(round + 1) of 3)"))
        }
        let aloneMean = alone.reduce(0, +) / Double(alone.count)
        let followedMean = followed.reduce(0, +) / Double(followed.count)
        samples.add("events.creates_alone_per_s", aloneMean)
        samples.add("events.creates_followed_per_s", followedMean)
        samples.add("events.delivered_per_s", delivered.reduce(0, +) / Double(delivered.count))
        samples.add("events.consumer_cost_pct", 100 * (aloneMean - followedMean) / max(aloneMean, 1))

        progress("run \(run): \(options.lagRate) creates/s at \(a) for \(options.seconds) s; lag to the SSE consumer")
        let (ackedAt, seenAt) = try await FeedConsumer.following(cluster, a, recordsTimes: true) { consumer in
            let ackedAt = try await fixedRate(cluster, a, rate: options.lagRate, seconds: options.seconds, run: run)
            try await consumer.catchUp(to: try await cluster.vector(a), timeout: 60)
            return (ackedAt, consumer.seenAt)
        }
        var lags: [Double] = []
        for (id, acked) in ackedAt {
            guard let seen = seenAt[id] else { throw BenchError("the consumer never saw \(id)") }
            lags.append(max(0, seen - acked) * 1_000)
        }
        let p = BenchHTTP.percentiles(lags)
        samples.add("events.lag_p50_ms", p.p50)
        samples.add("events.lag_p99_ms", p.p99)
        samples.add("events.lag_achieved_rate", Double(ackedAt.count) / Double(options.seconds))
    }

    /// Creates at `writer` on a fixed schedule; the time each was acked, by payment id.
    static func fixedRate(_ cluster: BenchCluster, _ writer: RegionID, rate: Int, seconds: Int, run: Int) async throws
        -> [String: Double]
    {
        let acks = Locked<[String: Double]>([:])
        let failures = Locked<[String]>([])
        try await openLoop(rate: rate, seconds: seconds) { i in
            let reply = try await LagBenchmark.create(
                cluster, writer, key: "events-lag-\(run)-\(i)", durability: "local")
            guard reply.status == 201, let id = reply.json["id"] as? String else {
                failures.with { $0.append("\(reply.status)") }
                return
            }
            let t = now()
            acks.with { $0[id] = t }
        }
        if let f = failures.with({ $0.first }) { throw BenchError("creates failed in the feed lag run, e.g. \(f)") }
        return acks.with { $0 }
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func with<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}
