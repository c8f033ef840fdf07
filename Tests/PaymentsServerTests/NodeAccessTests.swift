import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import PaymentNode
@testable import PaymentsAPI
@testable import PaymentsServer
@testable import ReplicaCore

/// Keys as a node's config file defines them, through the node's own service: `api.keys`
/// (scopes, merchant bounds over the SQLite store's list) and the older `api.key_sha256`
/// (every scope, its id made from its hash), and the vocabulary the config checks.
@Suite(.serialized) struct NodeAccessTests {
    static let shopHash = SHA256.hex(SHA256.hash(Array("shop-secret".utf8)))
    static let opsHash = SHA256.hex(SHA256.hash(Array("ops-secret".utf8)))

    static let keys = """
          keys:
            - id: ops
              sha256: \(opsHash)
              scopes: [admin]
            - id: shop-a
              sha256: \(shopHash)
              scopes: [payments:read, payments:write]
              merchants: [m_a]
              rate_per_s: 1000
              burst: 2000
          key_sha256: [\(NodeConfig.developmentKeyHash)]
        """

    static func headers(_ secret: String) -> HTTPFields {
        [.authorization: "Bearer \(secret)", .contentType: "application/json"]
    }

    static func create(_ merchant: String, _ order: String) -> ByteBuffer {
        ByteBuffer(
            string:
                #"{"merchant_id":"\#(merchant)","order_id":"\#(order)","amount":100,"currency":"EUR","method":"card"}"#
        )
    }

    @Test func configuredKeysHoldTheirScopesAndBoundsOverTheStore() async throws {
        try await NodeServerTests.withNode(keys: Self.keys) { client, _ in
            let legacy = Self.headers("paynode-dev-key")
            for (merchant, order) in [("m_a", "1"), ("m_b", "2"), ("m_a", "3")] {
                let created = try await client.execute(
                    uri: "/v1/payments", method: .post, headers: legacy, body: Self.create(merchant, order))
                #expect(created.status == .created)
            }
            let shop = Self.headers("shop-secret")
            let listed = NodeServerTests.json(
                try await client.execute(uri: "/v1/payments", method: .get, headers: shop))
            #expect(
                (listed["data"] as? [[String: Any]])?.compactMap { $0["merchant_id"] as? String } == ["m_a", "m_a"])
            let other = NodeServerTests.json(
                try await client.execute(uri: "/v1/payments?merchant_id=m_b", method: .get, headers: shop))
            #expect((other["data"] as? [Any])?.isEmpty == true)
            let forbidden = try await client.execute(
                uri: "/v1/payments", method: .post, headers: shop, body: Self.create("m_b", "4"))
            #expect(forbidden.status == .forbidden)
            let cluster = try await client.execute(uri: "/v1/cluster", method: .get, headers: shop)
            #expect(cluster.status == .forbidden)
            #expect(
                String(buffer: cluster.body).contains("this key (id shop-a) lacks the scope cluster:read"),
                "\(String(buffer: cluster.body))")
            let conflicts = try await client.execute(uri: "/v1/conflicts", method: .get, headers: shop)
            #expect(conflicts.status == .forbidden)

            // Every scope for ops and for the older list's key, named key-<first 12 hex digits>.
            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: Self.headers("ops-secret"))
            #expect(metrics.status == .ok)
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"paynode_api_requests_by_key_total{key_id="key-c2b41294c1c2",status_code="201"} 3"#))
            #expect(text.contains(#"paynode_api_requests_by_key_total{key_id="shop-a",status_code="403"} 3"#))
            #expect(!text.contains(Self.shopHash) && !text.contains("shop-secret"))
        }
    }

    /// The config's scope names are the API's, no more and no fewer.
    @Test func theConfigKnowsTheAPIsScopes() {
        #expect(NodeAPIKey.scopeNames.sorted() == APIScope.allCases.map(\.rawValue).sorted())
    }

    /// What the node's service hands the API for each configured key.
    @Test func configuredKeysBecomeAPIKeys() {
        let key = APIKeyCache.key(
            NodeAPIKey(
                id: "shop-a", sha256: Self.shopHash, scopes: ["events:read", "payments:read"],
                merchants: ["m_a", "m_b"],
                expiresAtMillis: 42, ratePerSecond: 2.5, burst: nil, streamsMax: 3))
        #expect(key.id == "shop-a" && key.scopes == [.eventsRead, .paymentsRead])
        #expect(key.sha256 == SHA256.hash(Array("shop-secret".utf8)))
        #expect(key.merchants == ["m_a", "m_b"] && key.expiresAtMillis == 42)
        #expect(key.ratePerSecond == 2.5 && key.burst == 3 && key.streamsMax == 3)
        let legacy = APIKeyCache.key(.legacy(sha256: NodeConfig.developmentKeyHash))
        #expect(legacy.id == "key-c2b41294c1c2" && legacy.scopes == [.admin] && legacy.merchants == nil)
        #expect(legacy.ratePerSecond == nil && legacy.streamsMax == APIKey.streamsMaxDefault)
        // Converted once per key list, not per request.
        let cache = APIKeyCache()
        let source = [NodeAPIKey.legacy(sha256: NodeConfig.developmentKeyHash)]
        #expect(cache.keys(for: source) == cache.keys(for: source))
    }
}
