import Foundation
import PaymentDevKit
import PaymentsClient
import ReplicaCore
import Testing

/// Who changed a payment, after its region is gone, on real nodes: a key bound to one
/// merchant writes at region A (acknowledged by B); A is SIGKILLed; B's history of the
/// payment names the key and A for each change, and a change made at B then by another
/// key follows them.
@Suite(.serialized) struct AuditTrailTests {
    let a = RegionID("us-east-1")!
    let b = RegionID("eu-west-1")!
    static let shopSecret = "shop-42-secret-key"
    static let shopKey = [
        "- id: shop-42", "  sha256: \(SHA256.hex(SHA256.hash(Array(shopSecret.utf8))))",
        "  scopes: [payments:read, payments:write]", "  merchants: [m_shop_42]",
    ]

    @Test func theHistoryAtBNamesTheKeyAndRegionAAfterAIsKilled() async throws {
        let cluster = try LocalCluster(regions: [a, b], extraKeys: Self.shopKey)
        do {
            try await cluster.startAllConnected()
            try await cluster.waitReady(a)
            let body = """
                {"merchant_id":"m_shop_42","order_id":"audit-1","amount":4200,"currency":"EUR","method":"card"}
                """
            let created = try await cluster.call(
                a, "POST", "/v1/payments", body: body, headers: ["X-Durability": "remote"], key: Self.shopSecret)
            #expect(created.status == 201, "\(created.body)")
            let id = try #require(created.json["id"] as? String)
            let patched = try await cluster.call(
                a, "PATCH", "/v1/payments/\(id)", body: #"{"status":"authorized"}"#,
                headers: ["X-Durability": "remote"], key: Self.shopSecret)
            #expect(patched.status == 200, "\(patched.body)")
            // The shop's key may not write another merchant's payments.
            let foreign = try await cluster.call(
                a, "POST", "/v1/payments", body: body.replacingOccurrences(of: "m_shop_42", with: "m_other"),
                key: Self.shopSecret)
            #expect(foreign.status == 403, "\(foreign.body)")

            cluster.stop(a, signal: SIGKILL)
            try await cluster.waitReady(b)
            let captured = try await cluster.call(
                b, "PATCH", "/v1/payments/\(id)", body: #"{"status":"completed"}"#)
            #expect(captured.status == 200, "\(captured.body)")

            let history = try await cluster.call(b, "GET", "/v1/payments/\(id)/history", key: Self.shopSecret)
            #expect(history.status == 200, "\(history.body)")
            let rows = history.json["data"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["actor"] as? String } == ["shop-42", "shop-42", "dev"], "\(history.body)")
            #expect(rows.map { $0["origin"] as? String } == [a.name, a.name, b.name])
            #expect(rows.map { $0["kind"] as? String } == ["create", "patch", "patch"])
            #expect((rows.first?["changes"] as? [String: Any])?["amount"] as? Int == 4200)
            #expect(!history.body.contains(Self.shopSecret))

            // The client asks A first (the order given), finds it gone, and reads B's.
            var options = PaymentsClient.Options()
            options.trustedCAPath = DevelopmentCertificates.caPath(cluster.certDir)
            let client = try PaymentsClient(
                regionURLs: [a, b].map(cluster.baseURL), apiKey: Self.shopSecret, options: options)
            let read = try await client.history(id)
            try await client.shutdown()
            #expect(read.value.data.map(\.actor) == ["shop-42", "shop-42", "dev"])
            #expect(read.value.data.map(\.kind) == ["create", "patch", "patch"])
            #expect(read.value.data.first?.changes["amount"] == .integer(4200))
            #expect(read.region == b.name)
        } catch {
            Issue.record("\(error)\nA:\n\(cluster.log(a))\nB:\n\(cluster.log(b))")
        }
        await cluster.shutdown()
    }
}
