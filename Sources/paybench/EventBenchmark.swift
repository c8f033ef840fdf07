import AsyncHTTPClient
import Foundation
import ReplicaCore

/// The change feed under load. Two regions on loopback (A takes the writes; B holds them,
/// so A's feed may show them). (1) Durable creates/s at A by wrk, with no consumer, then
/// with one SSE consumer following A's feed, then with
/// none again: the consumer's cost is the followed rate against the mean of the two
/// without. Events/s delivered is what the consumer received while wrk ran. (2) Lag at a
/// fixed 1,000 creates/s: for each create, the time from A's ack to the consumer holding
/// its change.
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
                env: ["PAYBENCH_RUN": "events-\(run)-\(label.replacingOccurrences(of: " ", with: "-"))"], dir: dir)
            guard r.failures == 0 else { throw BenchError("\(r.failures) creates failed; see \(cluster.logPath(a))") }
            return r.perSecond
        }

        let alone1 = try creates("no consumer")
        let consumer = try await Consumer.start(cluster: cluster, region: a)
        defer { consumer.stop() }
        let before = consumer.received
        let t0 = now()
        let followed = try creates("one SSE consumer")
        let delivered = Double(consumer.received - before) / (now() - t0)
        try await consumer.catchUp(to: try await cluster.vector(a), timeout: 120)
        consumer.stop()
        let alone2 = try creates("no consumer again")
        let alone = (alone1 + alone2) / 2
        samples.add("events.creates_alone_per_s", alone)
        samples.add("events.creates_followed_per_s", followed)
        samples.add("events.delivered_per_s", delivered)
        samples.add("events.consumer_cost_pct", 100 * (alone - followed) / max(alone, 1))

        progress("run \(run): \(options.lagRate) creates/s at \(a) for \(options.seconds) s; lag to the SSE consumer")
        let lagConsumer = try await Consumer.start(cluster: cluster, region: a)
        defer { lagConsumer.stop() }
        let ackedAt = try await fixedRate(cluster, a, rate: options.lagRate, seconds: options.seconds, run: run)
        try await lagConsumer.catchUp(to: try await cluster.vector(a), timeout: 60)
        var lags: [Double] = []
        let seenAt = lagConsumer.seenAt
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

    /// One SSE consumer of a region's feed, from the region's current position on. It
    /// shares this machine's two cores with the node and wrk, so it reads the stream as
    /// cheaply as it can: it splits lines and takes each change's cursor and payment id
    /// by searching the text, without decoding the JSON (a consumer elsewhere would).
    final class Consumer: @unchecked Sendable {
        private let state = Locked<(count: Int, cursor: String, seenAt: [String: Double])>((0, "", [:]))
        private var task: Task<Void, Never>?

        static func start(cluster: BenchCluster, region: RegionID) async throws -> Consumer {
            let vector = try await cluster.vector(region)
            let cursor = vector.keys.sorted().map { "\($0):\(vector[$0]!)" }.joined(separator: ",")
            let consumer = Consumer()
            consumer.state.with { $0.cursor = cursor }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: cluster.url(region) + "/v1/events?cursor=" + cursor)
            request.headers.add(name: "Authorization", value: "Bearer \(BenchCluster.apiKey)")
            request.headers.add(name: "Accept", value: "text/event-stream")
            let response = try await http.execute(request, timeout: .seconds(10))
            guard response.status == .ok else { throw BenchError("the feed answered \(response.status)") }
            consumer.task = Task {
                var pending: [UInt8] = []
                do {
                    for try await chunk in response.body {
                        pending += chunk.readableBytesView
                        let t = now()
                        var lineStart = 0
                        var events: [(cursor: String, id: String)] = []
                        for i in pending.indices where pending[i] == 0x0A {
                            if let e = Self.change(in: pending[lineStart..<i]) { events.append(e) }
                            lineStart = i + 1
                        }
                        pending.removeFirst(lineStart)
                        guard !events.isEmpty else { continue }
                        consumer.state.with { s in
                            s.count += events.count
                            s.cursor = events.last!.cursor
                            for e in events where s.seenAt[e.id] == nil { s.seenAt[e.id] = t }
                        }
                    }
                } catch {}
                try? await http.shutdown()
            }
            return consumer
        }

        /// The cursor and payment id of a `data:` line.
        static func change(in line: ArraySlice<UInt8>) -> (cursor: String, id: String)? {
            guard line.starts(with: Array("data: {".utf8)) else { return nil }
            let text = String(decoding: line, as: UTF8.self)
            func field(_ name: String) -> String? {
                guard let r = text.range(of: "\"\(name)\":\"") else { return nil }
                guard let end = text[r.upperBound...].firstIndex(of: "\"") else { return nil }
                return String(text[r.upperBound..<end])
            }
            guard let cursor = field("cursor"), let id = field("payment_id") else { return nil }
            return (cursor, id)
        }

        var received: Int { state.with { $0.count } }
        var seenAt: [String: Double] { state.with { $0.seenAt } }

        /// Waits until the consumer's cursor covers `vector`.
        func catchUp(to vector: [String: UInt64], timeout: Double) async throws {
            try await poll("the feed consumer catches up to \(vector)", timeout: timeout) {
                let cursor = EventCursor(text: state.with { $0.cursor }) ?? EventCursor()
                return vector.allSatisfy { cursor.seen[RegionID($0.key)!] >= $0.value }
            }
        }

        func stop() {
            task?.cancel()
            task = nil
        }
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func with<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}
