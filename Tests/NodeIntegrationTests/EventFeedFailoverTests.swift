import Foundation
import PaymentDevKit
import PaymentNode
import PaymentsClient
import ReplicaCore
import Testing

/// The change feed across a region failure, on three real nodes: a consumer follows
/// region A over SSE while creates and patches land at all three; A is SIGKILLed
/// mid-stream; the client resumes at B with its cursor; A comes back. At the end the
/// consumer has seen every committed change exactly once: as many changes as every
/// region's vector counts, no (origin, seq) twice, and the same payment ids every
/// region holds.
@Suite(.serialized) struct EventFeedFailoverTests {
    let a = RegionID("us-east-1")!
    let b = RegionID("eu-west-1")!
    let c = RegionID("ap-northeast-1")!

    /// What the consumer received, shared with the test.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [ChangeEvent] = []
        func add(_ e: ChangeEvent) { lock.withLock { events.append(e) } }
        var all: [ChangeEvent] { lock.withLock { events } }
    }

    @Test func consumerFollowsThroughASigkill_seesEveryChangeOnce() async throws {
        let cluster = try LocalCluster()
        do {
            try await cluster.startAllConnected()
            var options = PaymentsClient.Options()
            options.trustedCAPath = DevelopmentCertificates.caPath(cluster.certDir)
            // A first: the client ranks regions it has not measured in the order given.
            let client = try PaymentsClient(
                regionURLs: [a, b, c].map(cluster.baseURL), apiKey: LocalCluster.apiKey, options: options)
            let seen = Seen()
            let consumer = Task {
                for try await event in client.followEvents(idleTimeout: .seconds(5)) { seen.add(event) }
            }

            var ids: [String] = []
            var n = 0
            /// Creates at each live region in turn, and patches an earlier payment.
            func write(_ count: Int, at regions: [RegionID]) async throws {
                for _ in 0..<count {
                    n += 1
                    let r = regions[n % regions.count]
                    let created = try await cluster.create(at: r, order: "feed-\(n)", amount: 100 + n)
                    if created.status == 201, let id = created.json["id"] as? String { ids.append(id) }
                    if n % 3 == 0, let id = ids.randomElement() {
                        _ = try await cluster.call(
                            regions[(n + 1) % regions.count], "PATCH", "/v1/payments/\(id)",
                            body: #"{"description":"patched \#(n)"}"#)
                    }
                }
            }
            try await write(60, at: [a, b, c])
            try await eventually("the consumer is reading from A", timeout: 20) { seen.all.count >= 30 }
            let beforeKill = seen.all.count
            cluster.stop(a, signal: SIGKILL)
            try await write(60, at: [b, c])
            // The consumer moved to B or C and goes on from its cursor.
            try await eventually("the consumer follows after the kill", timeout: 20) {
                seen.all.count > beforeKill + 40
            }
            try await cluster.start(a)
            try await write(30, at: [a, b, c])

            // Every region converges; the consumer catches up to the common vector.
            var vector: [String: Int] = [:]
            try await eventually("every region holds the same changes", timeout: 60) {
                var vectors: [[String: Int]] = []
                for r in [a, b, c] { vectors.append((try await cluster.cluster(r)["vector"] as? [String: Int]) ?? [:]) }
                vector = vectors[0]
                return vectors.allSatisfy { $0 == vectors[0] }
            }
            let total = vector.values.reduce(0, +)
            try await eventually("the consumer has seen \(total) changes", timeout: 60) { seen.all.count >= total }
            consumer.cancel()
            try await client.shutdown()

            let events = seen.all
            let names = events.map { "\($0.origin):\($0.seq)" }
            #expect(Set(names).count == names.count, "a change was delivered twice")
            #expect(events.count == total, "\(events.count) changes seen, the regions hold \(total)")
            for (origin, top) in vector {
                let seqs = events.filter { $0.origin == origin }.map(\.seq)
                #expect(seqs == Array(1...UInt64(top)), "\(origin): seen \(seqs.count) of \(top), in order")
            }
            let seenIDs = Set(events.map(\.paymentID))
            for r in [a, b, c] {
                let held = try await allPaymentIDs(cluster, r)
                #expect(held == seenIDs, "\(r) holds \(held.count) payments, the consumer saw \(seenIDs.count)")
            }
            let regionsServed = Set(events.compactMap { $0.payment?.region })
            print(
                "event feed failover: \(events.count) changes seen once each over a SIGKILL of \(a); payments from \(regionsServed.sorted())"
            )
            await cluster.shutdown()
        } catch {
            for r in [a, b, c] { print("--- \(r) log\n\(cluster.log(r))") }
            await cluster.shutdown(keep: true)
            throw error
        }
    }

    func allPaymentIDs(_ cluster: LocalCluster, _ r: RegionID) async throws -> Set<String> {
        var ids: Set<String> = []
        var cursor: String?
        repeat {
            let page = try await cluster.call(
                r, "GET", "/v1/payments?limit=500" + (cursor.map { "&cursor=\($0)" } ?? "")
            ).json
            for row in page["data"] as? [[String: Any]] ?? [] { if let id = row["id"] as? String { ids.insert(id) } }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        return ids
    }
}
