import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ReplicaCore
import Testing

@testable import PaymentsAPI

/// Every status code of the API contract (openapi.yaml), through the real router and
/// middleware over an in-memory region (`InMemoryPaymentService`), with Hummingbird's
/// router test client: no certificates, SQLite or sockets.
@Suite struct RouteTests {
    let auth: HTTPFields = [.authorization: "Bearer paynode-dev-key", .contentType: "application/json"]

    /// The router over a fresh in-memory region (2 KiB body limit).
    static func withService(_ body: @Sendable (any TestClientProtocol, InMemoryPaymentService) async throws -> Void)
        async throws
    {
        let service = InMemoryPaymentService()
        let app = Application(router: PaymentsRouter.router(service))
        try await app.test(.router) { client in try await body(client, service) }
    }

    /// Creates one payment per order (EUR 12.50, merchant m_1), expecting 201 for each.
    static func createPayments(_ orders: [String], on client: any TestClientProtocol) async throws {
        let headers: HTTPFields = [.authorization: "Bearer paynode-dev-key", .contentType: "application/json"]
        for order in orders {
            let response = try await client.execute(
                uri: "/v1/payments", method: .post, headers: headers, body: create(order))
            #expect(response.status == .created, "\(order)")
        }
    }

    static func create(_ order: String, amount: String = "1250") -> ByteBuffer {
        ByteBuffer(
            string:
                #"{"merchant_id":"m_1","order_id":"\#(order)","amount":\#(amount),"currency":"EUR","method":"card"}"#)
    }

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    static func errorCode(_ response: TestResponse) -> String? {
        (json(response)["error"] as? [String: Any])?["code"] as? String
    }
    static func errorField(_ response: TestResponse) -> String? {
        (json(response)["error"] as? [String: Any])?["field"] as? String
    }

    @Test func createReadPatchAndTheirStatuses() async throws {
        let auth = self.auth
        try await Self.withService { client, _ in
            // 201, with the write headers.
            var headers = auth
            headers[HTTPField.Name("Idempotency-Key")!] = "k-1"
            let created = try await client.execute(
                uri: "/v1/payments", method: .post, headers: headers, body: Self.create("o-1"))
            #expect(created.status == .created)
            #expect(created.headers[HTTPField.Name("X-Region")!] == "us-east-1")
            #expect(created.headers[HTTPField.Name("X-Durability-Achieved")!] == "local")
            let token = try #require(created.headers[HTTPField.Name("X-Session-Token")!])
            let id = try #require(Self.json(created)["id"] as? String)
            #expect(Self.json(created)["amount"] as? Int == 1_250)
            #expect(Self.json(created)["status"] as? String == "pending")

            // 200 + Idempotent-Replayed on an identical replay; 409 on the same key with other parameters.
            let replay = try await client.execute(
                uri: "/v1/payments", method: .post, headers: headers, body: Self.create("o-1"))
            #expect(replay.status == .ok)
            #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(Self.json(replay)["id"] as? String == id)
            let reused = try await client.execute(
                uri: "/v1/payments", method: .post, headers: headers, body: Self.create("o-2"))
            #expect(reused.status == .conflict)
            #expect(Self.errorCode(reused) == "idempotency_key_reused")

            // Reads: 200 with the session token, 404 for unknown and malformed ids.
            var withToken = auth
            withToken[HTTPField.Name("X-Session-Token")!] = token
            let read = try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: withToken)
            #expect(read.status == .ok)
            #expect(Self.json(read)["order_id"] as? String == "o-1")
            let missing = try await client.execute(
                uri: "/v1/payments/pay_00000000000000000000000000", method: .get, headers: auth)
            #expect(missing.status == .notFound)
            #expect(Self.errorCode(missing) == "not_found")
            #expect(try await client.execute(uri: "/v1/payments/nope", method: .get, headers: auth).status == .notFound)

            // 412: a session token this region cannot catch up to.
            var ahead = auth
            ahead[HTTPField.Name("X-Session-Token")!] = "eu-west-1:5"
            let stale = try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: ahead)
            #expect(stale.status == .preconditionFailed)
            #expect(Self.errorCode(stale) == "session_not_available")
            var garbled = auth
            garbled[HTTPField.Name("X-Session-Token")!] = "eu-west-1"
            #expect(
                try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: garbled).status
                    == .badRequest)

            // Patches: allowed transitions 200, an illegal one 409, an immutable field 422.
            for status in ["authorized", "completed", "refunded"] {
                let patched = try await client.execute(
                    uri: "/v1/payments/\(id)", method: .patch, headers: auth,
                    body: ByteBuffer(string: #"{"status":"\#(status)"}"#))
                #expect(patched.status == .ok, "to \(status)")
                #expect(Self.json(patched)["status"] as? String == status)
            }
            let backwards = try await client.execute(
                uri: "/v1/payments/\(id)", method: .patch, headers: auth,
                body: ByteBuffer(string: #"{"status":"pending"}"#))
            #expect(backwards.status == .conflict)
            #expect(Self.errorCode(backwards) == "invalid_status_transition")
            let immutable = try await client.execute(
                uri: "/v1/payments/\(id)", method: .patch, headers: auth,
                body: ByteBuffer(string: #"{"amount":1}"#))
            #expect(immutable.status == .unprocessableContent)
            #expect(Self.errorCode(immutable) == "immutable_field")
            #expect(Self.errorField(immutable) == "amount")

            // The list finds it; a bad limit is 422 naming the field.
            let list = try await client.execute(
                uri: "/v1/payments?merchant_id=m_1&limit=10", method: .get, headers: auth)
            #expect(list.status == .ok)
            #expect((Self.json(list)["data"] as? [Any])?.count == 1)
            let badLimit = try await client.execute(uri: "/v1/payments?limit=501", method: .get, headers: auth)
            #expect(badLimit.status == .unprocessableContent)
            #expect(Self.errorField(badLimit) == "limit")
        }
    }

    @Test func refusalsOfBadInput() async throws {
        let auth = self.auth
        try await Self.withService { client, _ in
            // 401 without a key and with a wrong one; health needs none.
            #expect(try await client.execute(uri: "/v1/payments", method: .get).status == .unauthorized)
            let wrong: HTTPFields = [.authorization: "Bearer not-the-key"]
            let refused = try await client.execute(uri: "/v1/payments", method: .get, headers: wrong)
            #expect(refused.status == .unauthorized)
            #expect(Self.errorCode(refused) == "unauthorized")
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)

            // 400 for a body that is not JSON; 422 naming the field for invalid values.
            let malformed = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: ByteBuffer(string: "{bad"))
            #expect(malformed.status == .badRequest)
            #expect(Self.errorCode(malformed) == "malformed_request")
            let fraction = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-3", amount: "12.5"))
            #expect(fraction.status == .unprocessableContent)
            #expect(Self.errorField(fraction) == "amount")
            let card = ByteBuffer(
                string:
                    #"{"merchant_id":"m_1","order_id":"o-4","amount":5,"currency":"EUR","method":"card","payment_key":"4111 1111 1111 1111"}"#
            )
            let pan = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: card)
            #expect(pan.status == .unprocessableContent)
            #expect(Self.errorField(pan) == "payment_key")
            var badDurability = auth
            badDurability[HTTPField.Name("X-Durability")!] = "eventually"
            let durability = try await client.execute(
                uri: "/v1/payments", method: .post, headers: badDurability, body: Self.create("o-5"))
            #expect(durability.status == .unprocessableContent)

            // 413 for a body over the limit (2 KiB here).
            let big = ByteBuffer(
                string: #"{"merchant_id":"m_1","description":""# + String(repeating: "x", count: 4_000) + #""}"#)
            let tooLarge = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(Self.errorCode(tooLarge) == "body_too_large")

            // 405 with Allow for a known path, 404 for an unknown one.
            let wrongMethod = try await client.execute(uri: "/v1/cluster", method: .delete, headers: auth)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(try await client.execute(uri: "/v2/nothing", method: .get, headers: auth).status == .notFound)

            // Nothing above left a payment behind.
            let list = try await client.execute(uri: "/v1/payments", method: .get, headers: auth)
            #expect((Self.json(list)["data"] as? [Any])?.isEmpty == true)
        }
    }

    /// Every answer carries a request id: the client's when it is a plain token, else a new one.
    @Test func everyAnswerCarriesARequestID() async throws {
        try await Self.withService { client, _ in
            let id = HTTPField.Name("X-Request-Id")!
            let offered = try await client.execute(uri: "/health", method: .get, headers: [id: "trace-42.a_b"])
            #expect(offered.headers[id] == "trace-42.a_b")
            let fresh = try await client.execute(uri: "/v1/payments", method: .get)
            #expect(fresh.status == .unauthorized)
            #expect(fresh.headers[id]?.count == 16 && fresh.headers[id]?.allSatisfy(\.isHexDigit) == true)
            let odd = try await client.execute(uri: "/health", method: .get, headers: [id: "no spaces <here>"])
            #expect(odd.headers[id] != "no spaces <here>" && odd.headers[id]?.count == 16)
        }
    }

    /// Request metrics count the status the client got: a refusal is a 4xx, not a 500, and
    /// a payment id never becomes a label.
    @Test func requestMetricsCountTheStatusTheClientGot() async throws {
        let auth = self.auth
        try await Self.withService { client, _ in
            #expect(try await client.execute(uri: "/v1/payments", method: .get).status == .unauthorized)
            let fraction = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-1", amount: "1.5"))
            #expect(fraction.status == .unprocessableContent)
            let missing = "/v1/payments/pay_00000000000000000000000000"
            #expect(try await client.execute(uri: missing, method: .get, headers: auth).status == .notFound)
            #expect(
                try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-2"))
                    .status == .created)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: auth).body)
            let requests = text.split(separator: "\n").filter { $0.hasPrefix("paynode_http_requests_total{") }
            func count(_ status: Int, _ method: String) -> Int {
                requests.filter { $0.contains("status_code=\"\(status)\"") && $0.contains("method=\"\(method)\"") }
                    .compactMap { Int($0.split(separator: " ").last!) }.reduce(0, +)
            }
            #expect(
                count(401, "GET") == 1 && count(422, "POST") == 1 && count(404, "GET") == 1 && count(201, "POST") == 1)
            #expect(!requests.contains { $0.contains("status_code=\"500\"") }, "\(requests)")
            #expect(!text.contains("pay_00000000000000000000000000"))
            #expect(text.contains("# HELP paynode_http_requests_total "))
            #expect(text.contains("paynode_http_request_duration_seconds_bucket{"))
        }
    }

    /// The served document is the repository's `openapi.yaml`, byte for byte (SwiftPM
    /// embeds the file in the binary).
    @Test func servedOpenAPIMatchesTheRepositoryFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.yaml == file)
        #expect(OpenAPIDocument.yaml.hasPrefix("openapi: 3.1"))
    }

    /// The routes the router serves (and answers 405 for) are the contract's paths and
    /// methods, no more and no fewer.
    @Test func registeredRoutesAreTheContractsPaths() {
        let routes = RouteTable()
        _ = PaymentsRouter.router(InMemoryPaymentService(), routes: routes)
        var registered: [String: [String]] = [:]
        for route in routes.all { registered[route.path] = route.methods.sorted() }
        // The operations openapi.yaml lists ("GET /v1/payments"), read once, by ScopeTests.
        var documented: [String: [String]] = [:]
        for operation in ScopeTests.documentedScopes().keys {
            let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
            documented[parts[1], default: []].append(parts[0])
        }
        #expect(documented.mapValues { $0.sorted() } == registered)
        #expect(registered["/v1/payments/{id}"] == ["GET", "PATCH"])
        #expect(routes.methods(for: "/v1/payments/pay_x") == ["GET", "PATCH"])
        #expect(routes.methods(for: "/v1/payments/") == nil && routes.methods(for: "/v2/payments") == nil)
    }
}
