import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ReplicaCore
import Testing

@testable import PaymentsAPI

/// A key bound to merchants (`merchants: [m_a]`) on every route that touches payments:
/// writes for another merchant are 403, another merchant's payment is 404 exactly as a
/// missing one is, and lists, the change feed (pages and streams) and the conflict log
/// hold only its merchants' payments whatever the query says.
@Suite struct MerchantBoundTests {
    static let shop = Access.key(
        "shop-a", [.paymentsRead, .paymentsWrite, .eventsRead, .conflictsRead], merchants: ["m_a"])
    static let twoShops = Access.key("shops-ac", [.paymentsRead, .eventsRead], merchants: ["m_a", "m_c"])

    static func service() -> InMemoryPaymentService {
        InMemoryPaymentService(apiKeys: [InMemoryPaymentService.devKey, shop, twoShops])
    }

    static func body(_ merchant: String, _ order: String) -> ByteBuffer {
        ByteBuffer(
            string:
                #"{"merchant_id":"\#(merchant)","order_id":"\#(order)","amount":100,"currency":"EUR","method":"card"}"#
        )
    }

    @Test func writesForAnotherMerchantAre403() async throws {
        try await Access.withRouter(Self.service()) { client in
            let own = try await client.execute(
                uri: "/v1/payments", method: .post, headers: Access.headers("shop-a"), body: Self.body("m_a", "1"))
            #expect(own.status == .created)
            var idempotent = Access.headers("shop-a")
            idempotent[HTTPField.Name("Idempotency-Key")!] = "order-7"
            let other = try await client.execute(
                uri: "/v1/payments", method: .post, headers: idempotent, body: Self.body("m_b", "7"))
            #expect(other.status == .forbidden)
            #expect(Access.error(other)["code"] == "merchant_forbidden")
            #expect(Access.error(other)["field"] == "merchant_id")
            #expect(Access.error(other)["message"] == "this key (id shop-a) may not write payments of merchant m_b")
            // Nothing was written for m_b.
            let all = try await client.execute(uri: "/v1/payments", method: .get, headers: RouteTests.devHeaders)
            #expect(Access.rows(all).map { $0["merchant_id"] as? String } == ["m_a"])
        }
    }

    /// Reading or patching another merchant's payment answers what a payment this region
    /// does not hold answers, byte for byte but for the id.
    @Test func anotherMerchantsPaymentIsNotFoundLikeAMissingOne() async throws {
        try await Access.withRouter(Self.service()) { client in
            let theirs = try await Access.create("m_b", order: "1", on: client)
            let ours = try await Access.create("m_a", order: "2", on: client)
            let missing = "pay_00000000000000000000000000"
            func answer(_ method: HTTPRequest.Method, _ id: String, key: String) async throws -> (Int, String) {
                let body = method == .patch ? ByteBuffer(string: #"{"status":"authorized"}"#) : nil
                let response = try await client.execute(
                    uri: "/v1/payments/\(id)", method: method, headers: Access.headers(key), body: body)
                return (response.status.code, String(buffer: response.body).replacingOccurrences(of: id, with: "ID"))
            }
            for method: HTTPRequest.Method in [.get, .patch] {
                let foreign = try await answer(method, theirs, key: "shop-a")
                #expect(foreign.0 == 404, "\(method)")
                #expect(foreign == (try await answer(method, missing, key: "shop-a")), "\(method)")
                // An unbound key's answer for a missing payment (the engine's, for a patch) is the same too.
                let unbound = try await client.execute(
                    uri: "/v1/payments/\(missing)", method: method, headers: RouteTests.devHeaders,
                    body: method == .patch ? ByteBuffer(string: #"{"status":"authorized"}"#) : nil)
                #expect(
                    foreign.1 == String(buffer: unbound.body).replacingOccurrences(of: missing, with: "ID"),
                    "\(method)")
                #expect(try await answer(method, ours, key: "shop-a").0 == 200, "\(method)")
            }
            // The foreign patch changed nothing.
            let read = try await client.execute(
                uri: "/v1/payments/\(theirs)", method: .get, headers: RouteTests.devHeaders)
            #expect(RouteTests.json(read)["status"] as? String == "pending")
        }
    }

    /// Lists hold only the key's merchants; `merchant_id` outside them finds nothing (200).
    @Test func listsHoldOnlyTheKeysMerchants() async throws {
        try await Access.withRouter(Self.service()) { client in
            for (merchant, order) in [("m_a", "1"), ("m_b", "2"), ("m_c", "3"), ("m_a", "4")] {
                _ = try await Access.create(merchant, order: order, on: client)
            }
            func merchants(_ query: String, key: String) async throws -> [String] {
                let response = try await client.execute(
                    uri: "/v1/payments\(query)", method: .get, headers: Access.headers(key))
                #expect(response.status == .ok, "\(query)")
                return Access.rows(response).compactMap { $0["merchant_id"] as? String }
            }
            #expect(try await merchants("", key: "shop-a") == ["m_a", "m_a"])
            #expect(try await merchants("?merchant_id=m_b", key: "shop-a").isEmpty)
            #expect(try await merchants("?merchant_id=m_a&order_id=4", key: "shop-a") == ["m_a"])
            #expect(try await merchants("", key: "shops-ac") == ["m_a", "m_c", "m_a"])
            #expect(try await merchants("?merchant_id=m_c", key: "shops-ac") == ["m_c"])
            // Paging: one row a page, still only the key's merchants.
            let first = try await client.execute(
                uri: "/v1/payments?limit=1", method: .get, headers: Access.headers("shop-a"))
            let next = try #require(RouteTests.json(first)["next_cursor"] as? String)
            let second = try await client.execute(
                uri: "/v1/payments?limit=1&cursor=\(next)", method: .get, headers: Access.headers("shop-a"))
            #expect(Access.rows(second).map { $0["merchant_id"] as? String } == ["m_a"])
            #expect(RouteTests.json(second)["next_cursor"] is NSNull)
        }
    }

    /// The change feed's pages hold only the key's merchants' changes, and the cursor
    /// still moves past the rest; a `merchant_id` outside the bounds finds nothing.
    @Test func eventPagesHoldOnlyTheKeysMerchants() async throws {
        try await Access.withRouter(Self.service()) { client in
            let a = try await Access.create("m_a", order: "1", on: client)
            _ = try await Access.create("m_b", order: "2", on: client)
            _ = try await client.execute(
                uri: "/v1/payments/\(a)", method: .patch, headers: RouteTests.devHeaders,
                body: ByteBuffer(string: #"{"status":"authorized"}"#))
            let page = try await client.execute(uri: "/v1/events", method: .get, headers: Access.headers("shop-a"))
            #expect(Access.rows(page).map { $0["seq"] as? Int } == [1, 3])
            #expect(RouteTests.json(page)["cursor"] as? String == "us-east-1:3")
            let other = try await client.execute(
                uri: "/v1/events?merchant_id=m_b", method: .get, headers: Access.headers("shop-a"))
            #expect(Access.rows(other).isEmpty && RouteTests.json(other)["cursor"] as? String == "us-east-1:3")
        }
    }

    /// A stream shows the key's merchants' changes only, and moves the consumer's place
    /// past the others.
    @Test func eventStreamsHoldOnlyTheKeysMerchants() async throws {
        let service = Self.service()
        try await Access.withRouter(service) { client in
            _ = try await Access.create("m_b", order: "1", on: client)
            _ = try await Access.create("m_a", order: "2", on: client)
            service.failFeed(afterReads: 2)
            let response = try await client.execute(
                uri: "/v1/events", method: .get, headers: Access.headers("shop-a", [.accept: "text/event-stream"]))
            let messages = String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(messages.first?.hasPrefix("id: us-east-1:2\nevent: change\ndata: {") == true, "\(messages)")
            #expect(messages.filter { $0.contains("event: change") }.count == 1, "\(messages)")
            #expect(!messages.contains { $0.contains("m_b") }, "\(messages)")
        }
    }

    /// The conflict log holds only rows about the key's merchants' payments.
    @Test func conflictsHoldOnlyTheKeysMerchants() async throws {
        let service = Self.service()
        try await Access.withRouter(service) { client in
            let a = try await Access.create("m_a", order: "1", on: client)
            let b = try await Access.create("m_b", order: "2", on: client)
            for id in [a, b, a, "pay_00000000000000000000000000"] {
                service.recordConflict(paymentID: id, field: "description", winner: "\"x\"", loser: "\"y\"")
            }
            let page = try await client.execute(uri: "/v1/conflicts", method: .get, headers: Access.headers("shop-a"))
            #expect(Access.rows(page).map { $0["id"] as? Int } == [3, 1])
            #expect(Access.rows(page).allSatisfy { $0["payment_id"] as? String == a })
            let all = try await client.execute(uri: "/v1/conflicts", method: .get, headers: RouteTests.devHeaders)
            #expect(Access.rows(all).count == 4)
        }
    }
}
