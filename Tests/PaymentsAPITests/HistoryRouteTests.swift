import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PaymentsWire
import ReplicaCore
import Testing

@testable import PaymentsAPI

/// `GET /v1/payments/{id}/history`: each change with the key that made it, oldest first;
/// merchant bounds as on a read; 410 once retention dropped a change the payment's
/// current values came from; limits and bad input.
@Suite struct HistoryRouteTests {
    static let shop = Access.key("shop-a", [.paymentsRead, .paymentsWrite], merchants: ["m_a"])
    static let ops = Access.key("ops", [.admin])

    static func service() -> InMemoryPaymentService {
        InMemoryPaymentService(apiKeys: [InMemoryPaymentService.devKey, shop, ops])
    }

    static func create(_ merchant: String, key: String, on client: any TestClientProtocol) async throws -> String {
        let response = try await client.execute(
            uri: "/v1/payments", method: .post, headers: Access.headers(key),
            body: MerchantBoundTests.body(merchant, "order-1"))
        guard response.status == .created, let id = RouteTests.json(response)["id"] as? String else {
            throw Access.Unexpected(description: "create: \(response.status) \(String(buffer: response.body))")
        }
        return id
    }

    static func patch(_ id: String, _ body: String, key: String, on client: any TestClientProtocol) async throws {
        let response = try await client.execute(
            uri: "/v1/payments/\(id)", method: .patch, headers: Access.headers(key), body: ByteBuffer(string: body))
        guard response.status == .ok else {
            throw Access.Unexpected(description: "patch: \(response.status) \(String(buffer: response.body))")
        }
    }

    @Test func everyChangeNamesTheKeyThatMadeItOldestFirst() async throws {
        try await Access.withRouter(Self.service()) { client in
            let id = try await Self.create("m_a", key: "shop-a", on: client)
            try await Self.patch(id, #"{"status":"authorized"}"#, key: "ops", on: client)
            try await Self.patch(id, #"{"description":"refund asked"}"#, key: "shop-a", on: client)
            // A patch that changes nothing writes nothing, so it is not in the history.
            try await Self.patch(id, #"{"status":"authorized"}"#, key: "shop-a", on: client)
            let response = try await client.execute(
                uri: "/v1/payments/\(id)/history", method: .get, headers: Access.headers("shop-a"))
            #expect(response.status == .ok)
            let body = RouteTests.json(response)
            #expect(body["payment_id"] as? String == id)
            #expect(body["has_more"] as? Bool == false)
            let rows = Access.rows(response)
            #expect(rows.map { $0["actor"] as? String } == ["shop-a", "ops", "shop-a"])
            #expect(rows.map { $0["kind"] as? String } == ["create", "patch", "patch"])
            #expect(rows.map { $0["origin"] as? String } == ["us-east-1", "us-east-1", "us-east-1"])
            #expect(rows.map { $0["seq"] as? Int } == [1, 2, 3])
            let created = rows[0]["changes"] as? [String: Any]
            #expect(created?["merchant_id"] as? String == "m_a")
            #expect(created?["amount"] as? Int == 100)
            // The request fingerprint is internal.
            #expect(created?["request_fingerprint"] == nil)
            #expect((rows[1]["changes"] as? [String: Any])?.keys.sorted() == ["status"])
            #expect((rows[1]["at"] as? String).flatMap(RFC3339.parse) != nil)
            #expect((rows[1]["stamp"] as? String)?.hasSuffix("@us-east-1") == true)
        }
    }

    @Test func limitShowsTheOldestAndSaysMoreFollow() async throws {
        try await Access.withRouter(Self.service()) { client in
            let id = try await Self.create("m_a", key: "ops", on: client)
            for n in 1...3 { try await Self.patch(id, #"{"description":"d\#(n)"}"#, key: "ops", on: client) }
            let response = try await client.execute(
                uri: "/v1/payments/\(id)/history?limit=2", method: .get, headers: Access.headers("ops"))
            #expect(Access.rows(response).map { $0["seq"] as? Int } == [1, 2])
            #expect(RouteTests.json(response)["has_more"] as? Bool == true)
            for bad in ["0", "1001", "x"] {
                let refused = try await client.execute(
                    uri: "/v1/payments/\(id)/history?limit=\(bad)", method: .get, headers: Access.headers("ops"))
                #expect(refused.status == .unprocessableContent, "limit=\(bad)")
                #expect(Access.error(refused)["field"] == "limit")
            }
        }
    }

    /// Another merchant's payment is, to a merchant-bound key, one this region does not
    /// hold: the same 404 as a missing id, and as a malformed one.
    @Test func anotherMerchantsHistoryIsNotFoundLikeAMissingOne() async throws {
        try await Access.withRouter(Self.service()) { client in
            let theirs = try await Self.create("m_b", key: "ops", on: client)
            let missing = "pay_00000000000000000000000000"
            func answer(_ id: String) async throws -> (UInt16, String) {
                let r = try await client.execute(
                    uri: "/v1/payments/\(id)/history", method: .get, headers: Access.headers("shop-a"))
                return (UInt16(r.status.code), String(buffer: r.body).replacingOccurrences(of: id, with: "ID"))
            }
            let (theirStatus, theirBody) = try await answer(theirs)
            let (missingStatus, missingBody) = try await answer(missing)
            #expect(theirStatus == 404)
            #expect(theirBody == missingBody)
            #expect(missingStatus == 404)
            #expect(try await answer("not-an-id").0 == 404)
            let admin = try await client.execute(
                uri: "/v1/payments/\(theirs)/history", method: .get, headers: Access.headers("ops"))
            #expect(admin.status == .ok)
        }
    }

    /// Once retention dropped the create, the region says so (410) rather than show a
    /// history without its start; a payment whose changes are all held is still served.
    @Test func aTrimmedStartIs410() async throws {
        let service = Self.service()
        try await Access.withRouter(service) { client in
            let old = try await Self.create("m_a", key: "ops", on: client)
            try await Self.patch(old, #"{"status":"authorized"}"#, key: "ops", on: client)
            let fresh = try await Self.create("m_a", key: "ops", on: client)
            service.forgetChanges(through: VersionVector([RegionID("us-east-1")!: 1]))
            let gone = try await client.execute(
                uri: "/v1/payments/\(old)/history", method: .get, headers: Access.headers("ops"))
            #expect(gone.status == .gone)
            #expect(Access.error(gone)["code"] == "history_truncated")
            #expect(Access.error(gone)["message"]?.contains("merchant_id") == true)
            let kept = try await client.execute(
                uri: "/v1/payments/\(fresh)/history", method: .get, headers: Access.headers("ops"))
            #expect(kept.status == .ok)
            #expect(Access.rows(kept).map { $0["seq"] as? Int } == [3])
        }
    }

    /// To a merchant-bound key, another merchant's payment whose history was trimmed is
    /// the 404 of a missing one, not a 410 that names its stamp; its own trimmed one is 410.
    @Test func anotherMerchantsTrimmedHistoryIsNotFound() async throws {
        let service = Self.service()
        try await Access.withRouter(service) { client in
            let theirs = try await Self.create("m_b", key: "ops", on: client)
            let ours = try await Self.create("m_a", key: "ops", on: client)
            service.forgetChanges(through: VersionVector([RegionID("us-east-1")!: 2]))
            let missing = "pay_00000000000000000000000000"
            func answer(_ id: String) async throws -> (UInt16, String) {
                let r = try await client.execute(
                    uri: "/v1/payments/\(id)/history", method: .get, headers: Access.headers("shop-a"))
                return (UInt16(r.status.code), String(buffer: r.body).replacingOccurrences(of: id, with: "ID"))
            }
            let (theirStatus, theirBody) = try await answer(theirs)
            let (_, missingBody) = try await answer(missing)
            #expect(theirStatus == 404)
            #expect(theirBody == missingBody)
            #expect(try await answer(ours).0 == 410)
        }
    }
}
