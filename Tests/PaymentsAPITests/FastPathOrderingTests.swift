import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import PaymentsAPI
@testable import ReplicaCore

/// What reaches the router, and when, while a create the fast path took waits for its
/// write: the handler in an `EmbeddedChannel`, with the router's side of the pipeline a
/// recorder and the write's reply held until the test gives it. Nothing that would end
/// the connection at the router (the client's half-close, a decoding error, the server's
/// shutdown) may overtake the create's answer, and no create is taken once the connection
/// is ending.
@Suite struct FastPathOrderingTests {
    static let writer = Access.key("writer", [.paymentsWrite])

    @Test func aHalfCloseWaitsForTheCreatesAnswer() throws {
        let (channel, service, router) = try Self.pipeline()
        try Self.post(channel, "k1")
        #expect(service.state.withLock { $0.writesHandedOver } == 1)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(router.events.isEmpty, "the router heard of the half-close before the create was answered")
        service.releaseReplies()
        channel.embeddedEventLoop.run()
        #expect(try Self.status(channel) == .created)
        #expect(router.events.count == 1)
    }

    @Test func aDecodingErrorWaitsForTheCreatesAnswer_andNothingIsTakenAfterIt() throws {
        let (channel, service, router) = try Self.pipeline()
        try Self.post(channel, "k1")
        channel.pipeline.fireErrorCaught(HTTPParserFailure())
        #expect(router.errors == 0)
        service.releaseReplies()
        channel.embeddedEventLoop.run()
        #expect(try Self.status(channel) == .created)
        #expect(router.errors == 1)
        try Self.post(channel, "k2")
        #expect(service.state.withLock { $0.writesHandedOver } == 1)
        #expect(router.heads == ["POST /v1/payments"])
    }

    @Test func afterConnectionClose_everyRequestIsTheRouters() throws {
        let (channel, service, router) = try Self.pipeline()
        try channel.writeInbound(
            HTTPRequestPart.head(
                HTTPRequest(
                    method: .get, scheme: nil, authority: nil, path: "/health", headerFields: [.connection: "close"])))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try Self.post(channel, "k1")
        #expect(service.state.withLock { $0.writesHandedOver } == 0)
        #expect(router.heads == ["GET /health", "POST /v1/payments"])
    }

    @Test func requestsThatCameWhileACreateWaited_goToTheRouterOnceTheServerStops() throws {
        let (channel, service, router) = try Self.pipeline()
        try Self.post(channel, "k1")
        try Self.post(channel, "k2")
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(router.heads.isEmpty && router.events.isEmpty)
        service.releaseReplies()
        channel.embeddedEventLoop.run()
        #expect(try Self.status(channel) == .created)
        #expect(service.state.withLock { $0.writesHandedOver } == 1)
        #expect(router.heads == ["POST /v1/payments"])
        #expect(router.events.count == 1)
    }

    // MARK: Support

    /// The fast path in an embedded channel, a recorder after it, over a service that
    /// holds its replies.
    static func pipeline() throws -> (EmbeddedChannel, InMemoryPaymentService, Recorder) {
        let service = InMemoryPaymentService(apiKeys: [writer])
        service.holdReplies()
        let api = PaymentsRouter.http(service, serverName: "paynode", logger: Logger(label: "test"))
        let router = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(api.channelHandlers())
        try channel.pipeline.syncOperations.addHandler(router)
        return (channel, service, router)
    }

    static func post(_ channel: EmbeddedChannel, _ idempotencyKey: String) throws {
        let body = ByteBuffer(string: CreateFastPathTests.body)
        let head = HTTPRequest(
            method: .post, scheme: nil, authority: nil, path: "/v1/payments",
            headerFields: [
                .authorization: "Bearer secret-writer", .contentType: "application/json",
                .contentLength: String(body.readableBytes), .idempotencyKey: idempotencyKey,
            ])
        try channel.writeInbound(HTTPRequestPart.head(head))
        try channel.writeInbound(HTTPRequestPart.body(body))
        try channel.writeInbound(HTTPRequestPart.end(nil))
    }

    /// The status of the first answer written.
    static func status(_ channel: EmbeddedChannel) throws -> HTTPResponse.Status? {
        guard case .head(let response)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        return response.status
    }

    struct HTTPParserFailure: Error {}

    /// The router's side: what reached it.
    final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPRequestPart
        var heads: [String] = []
        var events: [Any] = []
        var errors = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head(let request) = unwrapInboundIn(data) {
                heads.append("\(request.method) \(request.path ?? "")")
            }
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) { events.append(event) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { errors += 1 }
    }
}
