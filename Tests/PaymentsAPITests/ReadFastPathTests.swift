import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import PaymentsAPI
@testable import ReplicaCore

/// A plain read by id is answered in the connection's pipeline, ahead of the router, with
/// the router's own answer, metrics and log line; every other request, and every read it
/// cannot answer whole, reaches the router unchanged. A real server on loopback
/// (`.live`): the pipeline is the thing under test.
@Suite struct ReadFastPathTests {
    static let reader = Access.key("reader", [.paymentsRead])
    static let writerOnly = Access.key("writer", [.paymentsWrite])
    static let otherMerchant = Access.key("bound", [.paymentsRead], merchants: ["m_other"])
    static let limited = Access.key("limited", [.paymentsRead], ratePerSecond: 1, burst: 1)

    @Test func aPlainRead_isAnsweredAheadOfTheRouter_withTheRoutersOwnAnswer() async throws {
        try await Self.withOnePayment([Self.reader]) { service, client, id in
            // The router's read fails: a 200 can only be the fast path's.
            service.state.withLock { $0.routedReadsFail = true }
            let fast = try await Self.read(id, "reader", on: client)
            #expect(fast.status == .ok)
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 1)

            service.state.withLock {
                $0.readsAtOnce = false
                $0.routedReadsFail = false
            }
            let routed = try await Self.read(id, "reader", on: client)
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 1)
            #expect(routed.status == .ok)
            #expect(String(buffer: fast.body) == String(buffer: routed.body))
            #expect(Set(fast.headers.map(\.name)) == Set(routed.headers.map(\.name)))
            for name in [HTTPField.Name.contentType, .contentLength, .xRegion, .server] {
                #expect(fast.headers[name] == routed.headers[name], "\(name)")
            }
            #expect(fast.headers[.date]?.hasSuffix(" GMT") == true)

            // Both counted in the same series.
            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: RouteTests.devHeaders)
            let text = String(buffer: metrics.body)
            #expect(
                text.contains(
                    #"paynode_http_requests_total{route="/v1/payments/{id}",method="GET",status_code="200"} 2"#))
            #expect(text.contains(#"paynode_api_requests_by_key_total{key_id="reader",status_code="200"} 2"#))
        }
    }

    @Test func everyOtherRead_goesToTheRouter_andGetsItsAnswer() async throws {
        try await Self.withOnePayment([Self.reader, Self.writerOnly, Self.otherMerchant]) {
            (service, client, id) async throws in
            let path = "/v1/payments/\(id)"
            func status(_ path: String, _ headers: HTTPFields) async throws -> HTTPResponse.Status {
                try await client.execute(uri: path, method: .get, headers: headers).status
            }
            #expect(try await status(path, [:]) == .unauthorized)
            #expect(try await status(path, [.authorization: "Bearer not-a-key"]) == .unauthorized)
            #expect(try await status(path, Access.headers("writer")) == .forbidden)
            #expect(try await status(path, Access.headers("bound")) == .notFound)
            // Read at once, then left to the router: the key does not cover its merchant.
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 1)
            #expect(
                try await status("/v1/payments/pay_00000000000000000000000000", Access.headers("reader")) == .notFound)
            #expect(try await status("/v1/payments/nonsense", Access.headers("reader")) == .notFound)
            // A session token waits for the session: the router's path.
            #expect(try await status(path, Access.headers("reader", [.xSessionToken: "us-east-1:1"])) == .ok)
            #expect(try await status(path + "/history", Access.headers("reader")) == .ok)
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 1)
        }
    }

    @Test func aRateLimitedKey_spendsOneTokenPerRead_whicheverPathAnswers() async throws {
        try await Self.withOnePayment([Self.limited]) { service, client, id in
            let first = try await Self.read(id, "limited", on: client)
            #expect(first.status == .ok)
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 1)
            let second = try await Self.read(id, "limited", on: client)
            #expect(second.status == .tooManyRequests)
            service.advanceTime(millis: 1_000)
            let third = try await Self.read(id, "limited", on: client)
            #expect(third.status == .ok)
            // The refused one read nothing: the router refused it first.
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 2)
        }
    }

    @Test func pipelinedRequests_areAnsweredInTheirOrder() async throws {
        try await Self.withOnePayment([Self.reader]) { service, client, id in
            // The first goes to the router (it has a session token); the second, sent before
            // the first is answered, could be answered at once, and must not overtake it.
            let first = Self.get(id, ["X-Session-Token: us-east-1:1", "X-Request-Id: first"])
            let second = Self.get(id, ["X-Request-Id: second"])
            let text = try await RawHTTP.exchange(port: try #require(client.port), send: first + second) {
                $0.contains("x-request-id: second")
            }
            let firstAt = try #require(text.range(of: "x-request-id: first")?.lowerBound)
            let secondAt = try #require(text.range(of: "x-request-id: second")?.lowerBound)
            #expect(firstAt < secondAt)
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 0)
        }
    }

    @Test func connectionClose_isTheRoutersToAnswer_andItCloses() async throws {
        try await Self.withOnePayment([Self.reader]) { service, client, id in
            let text = try await RawHTTP.exchange(
                port: try #require(client.port), send: Self.get(id, ["Connection: close"]), untilClosed: true
            ) { _ in false }
            #expect(text.hasPrefix("http/1.1 200 ok"))
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 0)
        }
    }

    /// A raw GET of payment `id` with the reader's key and `headers`.
    static func get(_ id: String, _ headers: [String]) -> String {
        (["GET /v1/payments/\(id) HTTP/1.1", "Host: localhost", "Authorization: Bearer secret-reader"] + headers)
            .joined(separator: "\r\n") + "\r\n\r\n"
    }

    @Test func theAccessLog_hasTheRoutersLine() async throws {
        let logs = LogCapture()
        try await Self.withOnePayment([Self.reader], accessLog: true, logs: logs) { service, client, id in
            _ = try await client.execute(
                uri: "/v1/payments/\(id)", method: .get, headers: Access.headers("reader", [.xRequestID: "trace-1"]))
            #expect(service.state.withLock { $0.readsMadeAtOnce } == 1)
        }
        let line = try #require(logs.lines.first { $0.contains("request_id=trace-1") })
        for part in [
            "request ", "http.method=GET", "http.route=/v1/payments/{id}", "http.path=/v1/payments/pay_",
            "http.status=200", "key_id=reader", "hb.request.id=", "duration_ms=",
        ] {
            #expect(line.contains(part), "\(part) in \(line)")
        }
    }

    @Test func withTracing_everyRequestTakesTheRouter() {
        let service = InMemoryPaymentService(tracing: true)
        #expect(
            PaymentsRouter.http(service, serverName: "paynode", logger: Logger(label: "t")).channelHandlers().isEmpty)
        let plain = InMemoryPaymentService()
        #expect(
            PaymentsRouter.http(plain, serverName: "paynode", logger: Logger(label: "t")).channelHandlers().count == 1)
    }

    @Test func theDateHeader_isAnIMFFixdate() {
        #expect(HTTPDate.format(millis: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(millis: 1_796_489_811_730) == "Sat, 05 Dec 2026 16:56:51 GMT")
        #expect(HTTPDate.format(millis: 1_709_164_800_000) == "Thu, 29 Feb 2024 00:00:00 GMT")
        var date = HTTPDate()
        #expect(date.text(atMillis: 1_000) == "Thu, 01 Jan 1970 00:00:01 GMT")
        #expect(date.text(atMillis: 1_999) == "Thu, 01 Jan 1970 00:00:01 GMT")
        #expect(date.text(atMillis: 2_000) == "Thu, 01 Jan 1970 00:00:02 GMT")
    }

    /// A live server (`withLiveServer`) over a service holding the dev key and `keys`, with
    /// one payment of merchant `m1` created: `body` gets the service, a client and its id.
    static func withOnePayment(
        _ keys: [APIKey], accessLog: Bool = false, logs: LogCapture = LogCapture(),
        _ body: @Sendable (InMemoryPaymentService, any TestClientProtocol, String) async throws -> Void
    ) async throws {
        let service = InMemoryPaymentService(apiKeys: [InMemoryPaymentService.devKey] + keys, accessLog: accessLog)
        try await withLiveServer(service, logs: logs) { client in
            try await body(service, client, try await Access.create("m1", order: "o1", on: client))
        }
    }

    /// `GET /v1/payments/{id}` with key `keyID`.
    static func read(_ id: String, _ keyID: String, on client: any TestClientProtocol) async throws -> TestResponse {
        try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: Access.headers(keyID))
    }

    /// `service` served as a node serves it: the router behind the fast path (or, with
    /// `fastPath` false, the router alone), on a loopback port.
    static func withLiveServer(
        _ service: InMemoryPaymentService, logs: LogCapture = LogCapture(), fastPath: Bool = true,
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let api = PaymentsRouter.http(service, serverName: "paynode", logger: logs.logger)
        let handlers = api.channelHandlers
        // Made per connection (the argument is an autoclosure): a handler holds one's state.
        let app = Application(
            router: api.router,
            server: .http1(configuration: .init(additionalChannelHandlers: fastPath ? handlers() : [])),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "paynode"),
            logger: logs.logger)
        try await app.test(.live) { client in try await body(client) }
    }
}

/// Bytes written to a server on one connection as they are (pipelined requests, a
/// `Connection` header of the test's own), and everything it answers, lower-cased.
enum RawHTTP {
    static func exchange(
        port: Int, send: String, untilClosed: Bool = false, until done: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        let received = Received()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.pipeline.addHandler(Collector(received: received)) }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: send))
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if untilClosed ? !channel.isActive : done(received.text.lowercased()) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        if untilClosed { #expect(!channel.isActive, "the server closed the connection") }
        try? await channel.close()
        return received.text.lowercased()
    }

    final class Received: Sendable {
        private let bytes = Mutex("")
        var text: String { bytes.withLock { $0 } }
        func append(_ more: String) { bytes.withLock { $0 += more } }
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Received
        init(received: Received) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received.append(String(buffer: unwrapInboundIn(data)))
        }
    }
}
