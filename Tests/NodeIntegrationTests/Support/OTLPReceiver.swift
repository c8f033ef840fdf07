import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A stand-in OpenTelemetry collector for tests: an OTLP/HTTP server on 127.0.0.1 (a port
/// the kernel picks) that keeps the body of every `POST /v1/traces` and answers each with
/// 200 and an empty protobuf response (an empty `ExportTraceServiceResponse`).
final class OTLPReceiver: Sendable {
    let port: Int
    private let channel: any Channel
    private let bodies: NIOLockedValueBox<[[UInt8]]>

    private init(channel: any Channel, bodies: NIOLockedValueBox<[[UInt8]]>) {
        self.channel = channel
        self.bodies = bodies
        port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> OTLPReceiver {
        let bodies = NIOLockedValueBox<[[UInt8]]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(TracesHandler(bodies: bodies))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return OTLPReceiver(channel: channel, bodies: bodies)
    }

    /// The bodies of the trace exports received so far, in order.
    var traceExports: [[UInt8]] { bodies.withLockedValue { $0 } }

    func stop() async { try? await channel.close() }
}

private final class TracesHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let bodies: NIOLockedValueBox<[[UInt8]]>
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(bodies: NIOLockedValueBox<[[UInt8]]>) { self.bodies = bodies }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let isExport = head.method == .POST && head.uri == "/v1/traces"
            if isExport { bodies.withLockedValue { [body] in $0.append(body) } }
            let headers = HTTPHeaders([("Content-Type", "application/x-protobuf"), ("Content-Length", "0")])
            let responseHead = HTTPResponseHead(
                version: head.version, status: isExport ? .ok : .notFound, headers: headers)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes (a span name, an id: protobuf keeps
    /// strings and `bytes` fields as they are).
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { start in
            self[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}
