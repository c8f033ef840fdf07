import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import PaymentNode

/// The client API's TLS layer: like HummingbirdTLS's `TLSChannel`, but each accepted
/// connection takes the server context in use at that moment from the node's
/// `LiveCredentials`. After a reload (SIGHUP) new connections handshake with the new
/// certificate; connections already open keep the one they handshook with.
struct ReloadableTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value

    let base: BaseChannel
    let credentials: LiveCredentials

    /// The node serves plain HTTP: no context to take (a config error, caught at start).
    struct NoTLSMaterial: Error {}

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            guard let tls = credentials.current.apiTLS else { throw NoTLSMaterial() }
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS with the context `credentials` holds when each connection arrives.
    static func reloadableTLS(credentials: LiveCredentials, http1: HTTP1Channel.Configuration = .init())
        -> HTTPServerBuilder
    {
        .init { responder in
            ReloadableTLSChannel(
                base: HTTP1Channel(responder: responder, configuration: http1), credentials: credentials)
        }
    }
}
