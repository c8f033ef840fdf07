import NIOCore
import NIOPosix

/// A TCP proxy on 127.0.0.1 that holds every byte coming back from `upstreamPort` for
/// `delay` before passing it on: a region that looks far away, to the client and its
/// latency probes alike (TLS goes through untouched). Test support only.
final class DelayProxy: Sendable {
    let port: Int
    private let server: Channel

    init(upstreamPort: Int, delay: TimeAmount) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                inbound.setOption(.autoRead, value: false).flatMap {
                    ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: upstreamPort)
                }.flatMap { outbound in
                    let toUpstream = Relay(peer: outbound, delay: nil)
                    let toClient = Relay(peer: inbound, delay: delay)
                    return inbound.pipeline.addHandler(toUpstream).flatMap {
                        outbound.pipeline.addHandler(toClient)
                    }.flatMap { inbound.setOption(.autoRead, value: true) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = server.localAddress!.port!
    }

    func close() async { try? await server.close() }

    /// Writes what one side reads to the other, after `delay` when set; closes the other
    /// side when this one closes.
    private final class Relay: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let peer: Channel
        let delay: TimeAmount?
        init(peer: Channel, delay: TimeAmount?) {
            self.peer = peer
            self.delay = delay
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            guard let delay else { return peer.writeAndFlush(bytes, promise: nil) }
            let peer = self.peer
            context.eventLoop.scheduleTask(in: delay) { peer.writeAndFlush(bytes, promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let delay {
                let peer = self.peer
                context.eventLoop.scheduleTask(in: delay) { peer.close(promise: nil) }
            } else {
                peer.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }
}
