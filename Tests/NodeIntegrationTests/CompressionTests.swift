import Foundation
import ReplicaCore
import Testing

/// Traffic between regions for 10,000 payments is at least 3x smaller than the
/// uncompressed encoding. The ratio is what the writing node's transport counted: frame
/// bytes of DELTA/SNAPSHOT messages before LZ4 over the bytes it actually wrote.
@Suite(.serialized) struct CompressionTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    @Test func tenThousandPaymentsCompressAtLeastThreefold() async throws {
        let cluster = try LocalCluster()
        do {
            try await cluster.startAll()
            try await eventually("ap-northeast-1 is connected to both peers", timeout: 20) {
                await cluster.allPeersConnected(ap, expected: [us, eu])
            }
            let total = 10_000
            let clients = 32
            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                for c in 0..<clients {
                    group.addTask {
                        var failed = 0
                        for i in stride(from: c, to: total, by: clients) {
                            let reply = try await cluster.create(
                                at: ap, order: "order-\(String(format: "%06d", i))",
                                amount: 100 + (i * 37) % 90_000)
                            if reply.status != 201 { failed += 1 }
                        }
                        return failed
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(failures == 0)
            for r in [us, eu] {
                try await eventually("\(r) has all \(total) payments", timeout: 60) {
                    try await cluster.vector(r, ap) == total
                }
            }
            let transport = try #require(try await cluster.cluster(ap)["transport"] as? [String: Any])
            let raw = try #require(transport["delta_message_bytes_sent"] as? Int)
            let wire = try #require(transport["delta_wire_bytes_sent"] as? Int)
            let ratio = Double(raw) / Double(max(wire, 1))
            for r in [ap, us, eu] { print("\(r) counters: \(try await cluster.cluster(r)["counters"] ?? "?")") }
            print(
                "replication of \(total) payments to 2 regions: \(raw) bytes uncompressed, \(wire) on the wire, ratio \(String(format: "%.2f", ratio))x"
            )
            #expect(raw >= total * 2 * 100, "every payment must have crossed to both peers")
            #expect(ratio >= 3.0, "LZ4 ratio \(ratio) is below 3x")
        } catch {
            Issue.record("logs:\n\(cluster.regions.map { "== \($0)\n\(cluster.log($0))" }.joined(separator: "\n"))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }
}
