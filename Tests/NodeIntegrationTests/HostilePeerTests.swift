import Foundation
import PaymentDevKit
import PaymentNode
import ReplicaCore
import ReplicaTransport
import Testing

/// A real node, driven by someone holding a real region certificate (eu-west-1's) who
/// sends one lying frame per connection. After each: the link is closed and counted,
/// the node still answers /health, /ready and writes, the other region still
/// replicates, and nothing the frame carried is stored. A valid entry stamped ahead of
/// the bound is held: not stored, not a violation.
@Suite(.serialized) struct HostilePeerTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    static func frame(_ m: PeerMessage) -> [UInt8] { PeerFrame.encode(m).bytes }

    /// A create entry of `origin` with every field valid but `patch` applied.
    static func create(
        origin: RegionID, seq: UInt64, id: PaymentID,
        hlc: HLCTimestamp = HLCTimestamp(wallMillis: 1_800_000_000_000, counter: 0),
        depth: UInt32 = 1, change: (inout [PaymentField: FieldValue]) -> Void = { _ in }
    ) -> LogEntry {
        var fields: [PaymentField: FieldValue] = [
            .merchantID: .text("m_evil"), .orderID: .text("o-\(seq)"), .amount: .integer(1_000),
            .currency: .text("EUR"),
            .method: .text("card"), .status: .text("pending"),
        ]
        change(&fields)
        return LogEntry(
            origin: origin, seq: seq, hlc: hlc, paymentID: id,
            changes: fields.keys.sorted().map { FieldChange(field: $0, value: fields[$0]!, base: nil, depth: depth) })
    }

    @Test func lyingFrames_closeOneLinkEach_andChangeNothing() async throws {
        let cluster = try LocalCluster(regions: [ap, us])
        do {
            try await cluster.startAll()
            try await eventually("us-east-1 sees ap-northeast-1", timeout: 20) {
                await cluster.allPeersConnected(us, expected: [ap])
            }
            let port = cluster.peerPorts[us]!
            let now = UInt64(Date().timeIntervalSince1970 * 1_000)
            let stamp = HLCTimestamp(wallMillis: now, counter: 0)
            let id = { (n: Int) in PaymentID.derived(merchantID: "m_evil", idempotencyKey: "evil-\(n)") }
            let attacks: [(String, PeerMessage)] = [
                ("a PING claiming 2^62 of us-east-1's own writes", .ping(vector: VersionVector([us: 1 << 62]))),
                ("a HELLO whose vector holds 2^64-1", .hello(region: eu, vector: VersionVector([eu: .max]))),
                ("a SNAPSHOT whose vector holds 2^64-1", .snapshot(records: [], vector: VersionVector([eu: .max]))),
                (
                    "a SNAPSHOT whose vector holds 2^40 of us-east-1's writes",
                    .snapshot(records: [], vector: VersionVector([us: 1 << 40]))
                ),
                (
                    "an entry with amount -5",
                    .delta(
                        batchID: 1,
                        entries: [Self.create(origin: eu, seq: 1, id: id(1), hlc: stamp) { $0[.amount] = .integer(-5) }]
                    )
                ),
                (
                    "an entry stamped 2^64-1 with depth 2^32-1",
                    .delta(
                        batchID: 1,
                        entries: [
                            Self.create(origin: eu, seq: 1, id: id(2), hlc: HLCTimestamp(rawValue: .max), depth: .max)
                        ])
                ),
                (
                    "an entry with depth 2^32-1 and no base",
                    .delta(batchID: 1, entries: [Self.create(origin: eu, seq: 1, id: id(3), hlc: stamp, depth: .max)])
                ),
                (
                    "us-east-1's own next write, which it never made",
                    .delta(batchID: 1, entries: [Self.create(origin: us, seq: 0, id: id(4), hlc: stamp)])
                ),
                (
                    "an entry of a region outside the cluster",
                    .delta(
                        batchID: 1,
                        entries: [Self.create(origin: RegionID("sa-east-1")!, seq: 1, id: id(5), hlc: stamp)])
                ),
                (
                    "a card number in payment_key",
                    .delta(
                        batchID: 1,
                        entries: [
                            Self.create(origin: eu, seq: 1, id: id(6), hlc: stamp) {
                                $0[.paymentKey] = .text("4111 1111 1111 1111")
                            }
                        ])
                ),
                (
                    "a card number split by a newline in description",
                    .delta(
                        batchID: 1,
                        entries: [
                            Self.create(origin: eu, seq: 1, id: id(7), hlc: stamp) {
                                $0[.description] = .text("card 4111 1111\n1111 1111")
                            }
                        ])
                ),
                (
                    "a card number in a metadata key",
                    .delta(
                        batchID: 1,
                        entries: [
                            Self.create(origin: eu, seq: 1, id: id(8), hlc: stamp) {
                                $0[.metadata] = .metadata(["4111.1111.1111.1111": "x"])
                            }
                        ])
                ),
                (
                    "a snapshot record with a currency that is no currency",
                    .snapshot(records: [Self.record(id(9), stamp) { $0[.currency] = .text("XXQ") }], vector: nil)
                ),
                (
                    "a PING whose clock reading is no wall-clock time",
                    .ping(
                        vector: VersionVector(), clock: ClockSample(sentAtMillis: 1 << 60, echoMillis: 0, heldMillis: 0)
                    )
                ),
            ]
            let before = try await violations(cluster)
            #expect(try await cluster.create(at: us, order: "first").status == 201)
            for (n, (what, planned)) in attacks.enumerated() {
                var message = planned
                if case .delta(let b, let entries) = planned, entries[0].origin == us {
                    // The seq after the last write us-east-1 made.
                    let made = (try await cluster.cluster(us)["vector"] as? [String: Any])?["us-east-1"] as? Int ?? 0
                    message = .delta(
                        batchID: b, entries: [Self.create(origin: us, seq: UInt64(made + 1), id: id(4), hlc: stamp)])
                }
                let peer = try await RawPeerClient.connect(
                    port: port, caPath: DevelopmentCertificates.caPath(cluster.certDir),
                    certificatePath: DevelopmentCertificates.certificatePath(cluster.certDir, eu),
                    keyPath: DevelopmentCertificates.keyPath(cluster.certDir, eu))
                if case .hello = message {
                } else {
                    try await peer.send(Self.frame(.hello(region: eu, vector: VersionVector())))
                }
                try await peer.send(Self.frame(message))
                #expect(await peer.closedByServer(within: 10), "not refused: \(what)")
                try await eventually("the violation of \(what) is counted", timeout: 10) {
                    try await violations(cluster) >= before + n + 1
                }
                #expect(try await cluster.call(us, "GET", "/health", key: nil).status == 200, "after \(what)")
                #expect(try await cluster.call(us, "GET", "/ready", key: nil).status == 200, "after \(what)")
                let write = try await cluster.create(at: us, order: "after-\(n)")
                #expect(write.status == 201, "a write after \(what): \(write.body)")
                await peer.close()
            }
            for n in 1...9 {
                #expect(
                    try await cluster.call(us, "GET", "/v1/payments/\(id(n))").status == 404,
                    "payment \(n) of the attacks was stored")
            }
            // A valid entry stamped 10 minutes ahead of us-east-1's clock is held, not applied,
            // and not a violation: the link stays, and a copy stamped now is taken on it.
            let violationsBefore = try await violations(cluster)
            let peer = try await RawPeerClient.connect(
                port: port, caPath: DevelopmentCertificates.caPath(cluster.certDir),
                certificatePath: DevelopmentCertificates.certificatePath(cluster.certDir, eu),
                keyPath: DevelopmentCertificates.keyPath(cluster.certDir, eu))
            try await peer.send(Self.frame(.hello(region: eu, vector: VersionVector())))
            let ahead = HLCTimestamp(wallMillis: now + 600_000, counter: 0)
            try await peer.send(
                Self.frame(.delta(batchID: 1, entries: [Self.create(origin: eu, seq: 1, id: id(10), hlc: ahead)])))
            try await eventually("the entry is held", timeout: 10) {
                (try await cluster.cluster(us)["counters"] as? [String: Any])?["entries_held_for_clock"] as? Int ?? 0
                    >= 1
            }
            let current = HLCTimestamp(wallMillis: UInt64(Date().timeIntervalSince1970 * 1_000), counter: 0)
            try await peer.send(
                Self.frame(.delta(batchID: 2, entries: [Self.create(origin: eu, seq: 1, id: id(11), hlc: current)])))
            try await eventually("the copy stamped now is stored", timeout: 10) {
                try await cluster.call(us, "GET", "/v1/payments/\(id(11))").status == 200
            }
            #expect(
                try await cluster.call(us, "GET", "/v1/payments/\(id(10))").status == 404, "the held entry was stored")
            #expect(try await violations(cluster) == violationsBefore)
            #expect(peer.channel.isActive)
            await peer.close()
            // ap-northeast-1 still replicates both ways, and both hold the same state.
            #expect(try await cluster.create(at: ap, order: "from-ap").status == 201)
            try await eventually("both regions agree", timeout: 20) {
                let (a, u) = (try await cluster.cluster(ap, digest: true), try await cluster.cluster(us, digest: true))
                return a["state_digest"] as? String == u["state_digest"] as? String
            }
            #expect(cluster.fullLog(us).contains("closing peer connection"))
        } catch {
            Issue.record("log:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    static func record(_ id: PaymentID, _ stamp: HLCTimestamp, change: (inout [PaymentField: FieldValue]) -> Void)
        -> PaymentRecord
    {
        let entry = create(origin: RegionID("eu-west-1")!, seq: 1, id: id, hlc: stamp, change: change)
        var record = PaymentRecord(id: id)
        for c in entry.changes { record.merge(entry.register(for: c), into: c.field) }
        return record
    }

    private func violations(_ cluster: LocalCluster) async throws -> Int {
        (try await cluster.cluster(us)["counters"] as? [String: Any])?["protocol_violations"] as? Int ?? -1
    }
}
