import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import PaymentNode
import PaymentsAPI

/// A node's payments HTTP server: the API's router over `NodePaymentService`, on the
/// node's API address.
public enum NodeServer {
    /// The API's router over `node`. One per node: the router's service turns the node's
    /// totals into counter increments, and a second one would count them again.
    public static func router(node: ReplicaNode) -> Router<APIRequestContext> {
        PaymentsRouter.router(NodePaymentService(node: node))
    }

    /// The API's connections' event loops, one per core: never the node's own loops, as a
    /// read by id answered in a connection's pipeline (`PaymentsRouter.http`) reads the
    /// store there, and the engine's loop must never wait on the disk. Like NIO's
    /// singleton, it lives as long as the process.
    static let apiLoops = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)

    /// The `Server` header of every answer.
    static let serverName = "paynode"

    /// The application serving the router on the node's API address: HTTPS with the
    /// node's current API certificate (TLS 1.2 or newer; each new connection takes the
    /// one in use, so a reload applies without a restart), or plain HTTP when the config
    /// asks for it. The application is a swift-service-lifecycle `Service`: on graceful
    /// shutdown it stops accepting and finishes requests in flight.
    public static func application(
        node: ReplicaNode, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let api = PaymentsRouter.http(NodePaymentService(node: node), serverName: serverName, logger: logger)
        let handlers = api.channelHandlers
        // No idle timeout: the connection-state handler never sees the reads the fast path
        // answers, so it would close a connection that only reads as idle.
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: handlers())
        var server: HTTPServerBuilder = .http1(configuration: http1)
        if node.config.apiTLS != nil {
            server = .reloadableTLS(credentials: node.credentials, http1: http1)
        }
        return Application(
            router: api.router,
            server: server,
            configuration: .init(
                address: .hostname(node.config.apiListen.host, port: node.config.apiListen.port),
                serverName: serverName),
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(apiLoops),
            logger: logger)
    }
}
