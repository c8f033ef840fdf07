import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import PaymentsAPI
@testable import ReplicaCore

/// A create is taken in the connection's pipeline, ahead of the router, and answered with
/// the router's own answer (status, body, headers, metrics, log line) once its write is
/// acknowledged; every create it cannot take whole reaches the router unchanged, and
/// answers leave in their requests' order. A real server on loopback (`.live`).
@Suite struct CreateFastPathTests {
    static let writer = Access.key("writer", [.paymentsWrite, .paymentsRead])
    static let reader = Access.key("reader", [.paymentsRead])
    static let bound = Access.key("bound", [.paymentsWrite], merchants: ["m_other"])
    static let limited = Access.key("limited", [.paymentsWrite], ratePerSecond: 1, burst: 1)
    static let body = #"{"merchant_id":"m1","order_id":"o1","amount":100,"currency":"EUR","method":"card"}"#

    /// The same requests to two fresh regions, one served with the fast path and one by
    /// the router alone, get the same answers: a create, its replay, a `remote` create
    /// that reached only `local`, a reused key with another body (409), and a create the
    /// region refuses (503).
    @Test func theFastPathsAnswers_areTheRoutersAnswers() async throws {
        let fast = try await Self.answers(fastPath: true)
        let routed = try await Self.answers(fastPath: false)
        #expect(fast.map(\.status) == [.created, .ok, .accepted, .conflict, .serviceUnavailable])
        #expect(fast.count == routed.count)
        for (f, r) in zip(fast, routed) {
            #expect(f.status == r.status)
            #expect(String(buffer: f.body) == String(buffer: r.body))
            #expect(Set(f.headers.map(\.name)) == Set(r.headers.map(\.name)), "\(f.status)")
            for name in [
                HTTPField.Name.contentType, .contentLength, .location, .xSessionToken, .xDurabilityAchieved,
                .idempotentReplayed, .xRegion, .xRequestID, .server, .retryAfter,
            ] {
                #expect(f.headers[name] == r.headers[name], "\(name) of \(f.status)")
            }
        }
    }

    static func answers(fastPath: Bool) async throws -> [TestResponse] {
        let service = InMemoryPaymentService(apiKeys: [Self.writer])
        // The router's writes fail: with the fast path, a 2xx can only be its own.
        service.state.withLock { $0.routedWritesFail = fastPath }
        let answers = Mutex<[TestResponse]>([])
        try await ReadFastPathTests.withLiveServer(service, fastPath: fastPath) { client async throws in
            func create(_ body: String, _ headers: HTTPFields) async throws {
                var headers = Access.headers("writer", headers)
                headers[.xRequestID] = "r-\(answers.withLock { $0.count })"
                let answer = try await client.execute(
                    uri: "/v1/payments", method: .post, headers: headers, body: ByteBuffer(string: body))
                answers.withLock { $0.append(answer) }
            }
            try await create(Self.body, [.idempotencyKey: "k1"])
            try await create(Self.body, [.idempotencyKey: "k1"])
            try await create(Self.body, [.idempotencyKey: "k2", .xDurability: "remote"])
            try await create(Self.body.replacingOccurrences(of: "100", with: "200"), [.idempotencyKey: "k1"])
            service.refuseWrites(.unavailable("the region is draining"))
            try await create(Self.body, [.idempotencyKey: "k3"])
        }
        #expect(service.state.withLock { $0.writesHandedOver } == (fastPath ? 5 : 0))
        return answers.withLock { $0 }
    }

    @Test func everyCreateItCannotTakeWhole_goesToTheRouter() async throws {
        let service = InMemoryPaymentService(
            bodyBytesMax: 256, apiKeys: [Self.writer, Self.reader, Self.bound])
        try await ReadFastPathTests.withLiveServer(service) { client async throws in
            func status(_ body: String, _ headers: HTTPFields, uri: String = "/v1/payments") async throws
                -> HTTPResponse.Status
            {
                try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
                    .status
            }
            let writer = Access.headers("writer")
            #expect(try await status(Self.body, [:]) == .unauthorized)
            #expect(try await status(Self.body, [.authorization: "Bearer not-a-key"]) == .unauthorized)
            #expect(try await status(Self.body, Access.headers("reader")) == .forbidden)
            #expect(try await status(Self.body, Access.headers("bound")) == .forbidden)
            #expect(try await status("{", writer) == .badRequest)
            #expect(try await status(#"{"merchant_id":"m1"}"#, writer) == .unprocessableContent)
            #expect(
                try await status(Self.body, Access.headers("writer", [.xDurability: "always"])) == .unprocessableContent
            )
            #expect(
                try await status(Self.body, Access.headers("writer", [.idempotencyKey: "has space"]))
                    == .unprocessableContent)
            let padded = Self.body.replacingOccurrences(of: "\"o1\"", with: "\"\(String(repeating: "o", count: 300))\"")
            #expect(try await status(padded, writer) == .contentTooLarge)
            #expect(service.state.withLock { $0.writesHandedOver } == 0)
            // The router's own creates still work.
            #expect(try await status(Self.body, writer, uri: "/v1/payments?from=test") == .created)
            #expect(service.state.withLock { $0.writesHandedOver } == 0)
            #expect(try await status(Self.body, writer) == .created)
            #expect(service.state.withLock { $0.writesHandedOver } == 1)
        }
    }

    @Test func aRateLimitedKey_spendsOneTokenPerCreate_whicheverPathAnswers() async throws {
        let service = InMemoryPaymentService(apiKeys: [Self.limited])
        try await ReadFastPathTests.withLiveServer(service) { client async throws in
            func create() async throws -> HTTPResponse.Status {
                try await client.execute(
                    uri: "/v1/payments", method: .post, headers: Access.headers("limited"),
                    body: ByteBuffer(string: Self.body)
                ).status
            }
            #expect(try await create() == .created)
            #expect(try await create() == .tooManyRequests)
            service.advanceTime(millis: 1_000)
            #expect(try await create() == .created)
            #expect(service.state.withLock { $0.writesHandedOver } == 2)
        }
    }

    /// Sent together on one connection: what follows a create waits for its answer, and
    /// a create after a request the router holds goes to the router.
    @Test func pipelinedRequests_areAnsweredInTheirOrder() async throws {
        let service = InMemoryPaymentService(apiKeys: [InMemoryPaymentService.devKey, Self.writer])
        try await ReadFastPathTests.withLiveServer(service) { client async throws in
            let id = try await Access.create("m1", order: "o0", on: client)
            let taken = service.state.withLock { $0.writesHandedOver }
            let requests = [
                Self.post("first", "k1"), Self.get(id, "second"), Self.post("third", "k2"),
                Self.get(id, "fourth", session: true), Self.post("fifth", "k3"),
            ]
            let text = try await RawHTTP.exchange(port: try #require(client.port), send: requests.joined()) {
                $0.contains("x-request-id: fifth")
            }
            let order = ["first", "second", "third", "fourth", "fifth"].map {
                text.range(of: "x-request-id: \($0)")?.lowerBound
            }
            #expect(order.allSatisfy { $0 != nil })
            #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted())
            #expect(text.components(separatedBy: "http/1.1 201 created").count - 1 == 3)
            // The first and third taken here; the fifth follows a read the router holds.
            #expect(service.state.withLock { $0.writesHandedOver } == taken + 2)
        }
    }

    @Test func theAccessLogAndMetrics_haveTheRoutersLines() async throws {
        let logs = LogCapture()
        let service = InMemoryPaymentService(apiKeys: [Self.writer], accessLog: true)
        try await ReadFastPathTests.withLiveServer(service, logs: logs) { client in
            let created = try await client.execute(
                uri: "/v1/payments", method: .post, headers: Access.headers("writer", [.xRequestID: "trace-1"]),
                body: ByteBuffer(string: Self.body))
            #expect(created.status == .created)
            #expect(service.state.withLock { $0.writesHandedOver } == 1)
        }
        let line = try #require(logs.lines.first { $0.contains("request_id=trace-1") })
        for part in [
            "request ", "http.method=POST", "http.route=/v1/payments", "http.path=/v1/payments ",
            "http.status=201", "key_id=writer", "hb.request.id=", "duration_ms=",
        ] {
            #expect(line.contains(part), "\(part) in \(line)")
        }
        let text = service.metricsRegistry.emitToString()
        #expect(text.contains(#"paynode_http_requests_total{route="/v1/payments",method="POST",status_code="201"} 1"#))
        #expect(text.contains(#"paynode_api_requests_by_key_total{key_id="writer",status_code="201"} 1"#))
        #expect(text.contains("paynode_http_requests_in_flight 0.0"))
    }

    /// A raw create with the writer's key, an `Idempotency-Key` and a request id.
    static func post(_ requestID: String, _ idempotencyKey: String) -> String {
        [
            "POST /v1/payments HTTP/1.1", "Host: localhost", "Authorization: Bearer secret-writer",
            "Content-Type: application/json", "Content-Length: \(body.utf8.count)",
            "Idempotency-Key: \(idempotencyKey)",
            "X-Request-Id: \(requestID)",
        ].joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// A raw read of `id` with the writer's key (and a session token, which the router serves).
    static func get(_ id: String, _ requestID: String, session: Bool = false) -> String {
        ([
            "GET /v1/payments/\(id) HTTP/1.1", "Host: localhost", "Authorization: Bearer secret-writer",
            "X-Request-Id: \(requestID)",
        ] + (session ? ["X-Session-Token: us-east-1:1"] : []))
        .joined(separator: "\r\n") + "\r\n\r\n"
    }
}
