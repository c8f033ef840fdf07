import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The lag run's HTTP/1.1 client, as lean as a load generator should be so the run
/// measures the nodes, not itself: kept-alive plain-HTTP connections to one region, one
/// request on a connection at a time (a session read that waits holds only its own), a
/// new connection when none is free, and of each answer only the status,
/// `X-Session-Token` and body kept. AsyncHTTPClient, which the other parts use, took a
/// third of the two cores at 5,000 requests a second.
final class LeanHTTP: Sendable {
    struct Reply: Sendable {
        let status: Int
        let sessionToken: String?
        let body: ByteBuffer

        /// The value of the body's first `"id":"..."`.
        var id: String? {
            let text = String(buffer: body)
            guard let start = text.range(of: #""id":""#)?.upperBound,
                let end = text[start...].firstIndex(of: "\"")
            else { return nil }
            return String(text[start..<end])
        }
    }

    private let port: Int
    private let apiKey: String
    private let group: EventLoopGroup
    /// Connections with no request on them.
    private let idle = Mutex<[Channel]>([])
    private let opened = Mutex<[Channel]>([])

    /// A client of 127.0.0.1:`port` with `warm` connections open.
    static func connect(port: Int, warm: Int, apiKey: String, group: EventLoopGroup) async throws -> LeanHTTP {
        let client = LeanHTTP(port: port, apiKey: apiKey, group: group)
        var channels: [Channel] = []
        for _ in 0..<warm { channels.append(try await client.open()) }
        client.idle.withLock { $0 = channels }
        return client
    }

    private init(port: Int, apiKey: String, group: EventLoopGroup) {
        self.port = port
        self.apiKey = apiKey
        self.group = group
    }

    private func open() async throws -> Channel {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Exchanges())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        opened.withLock { $0.append(channel) }
        return channel
    }

    /// Sends a request on a free connection (a new one when none is) and returns its answer.
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil)
        async throws -> Reply
    {
        var channel = idle.withLock { $0.popLast() }
        if channel == nil || !channel!.isActive { channel = try await open() }
        let connection = channel!
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1")
        head.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let bytes = body.map { ByteBuffer(string: $0) }
        if let bytes {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(bytes.readableBytes))
        }
        let promise = connection.eventLoop.makePromise(of: Reply.self)
        connection.writeAndFlush(Exchanges.Request(head: head, body: bytes, reply: promise), promise: nil)
        let reply = try await promise.futureResult.get()
        idle.withLock { $0.append(connection) }
        return reply
    }

    func close() async {
        for channel in opened.withLock({ $0 }) { try? await channel.close() }
    }

    /// Writes a request and answers it when its response has come.
    private final class Exchanges: ChannelDuplexHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundIn = Request
        typealias OutboundOut = HTTPClientRequestPart

        struct Request {
            let head: HTTPRequestHead
            let body: ByteBuffer?
            let reply: EventLoopPromise<Reply>
        }

        private var waiting: [EventLoopPromise<Reply>] = []
        private var status = 0
        private var token: String?
        private var body = ByteBuffer()

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let request = unwrapOutboundIn(data)
            waiting.append(request.reply)
            context.write(wrapOutboundOut(.head(request.head)), promise: nil)
            if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
            context.write(wrapOutboundOut(.end(nil)), promise: promise)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                status = Int(head.status.code)
                token = head.headers.first(name: "X-Session-Token")
                body.clear()
            case .body(var bytes):
                body.writeBuffer(&bytes)
            case .end:
                guard !waiting.isEmpty else { return }
                waiting.removeFirst().succeed(Reply(status: status, sessionToken: token, body: body))
                body = ByteBuffer()
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            fail(ChannelError.ioOnClosedChannel)
            context.fireChannelInactive()
        }

        private func fail(_ error: Error) {
            let failed = waiting
            waiting = []
            for promise in failed { promise.fail(error) }
        }
    }
}
