import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
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

    /// The application serving the router on the node's API address: HTTPS with the
    /// node's current API certificate (TLS 1.2 or newer; each new connection takes the
    /// one in use, so a reload applies without a restart), or plain HTTP when the config
    /// asks for it. The application is a swift-service-lifecycle `Service`: on graceful
    /// shutdown it stops accepting and finishes requests in flight.
    public static func application(
        node: ReplicaNode, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        var server: HTTPServerBuilder = .http1()
        if node.config.apiTLS != nil {
            server = .reloadableTLS(credentials: node.credentials)
        }
        return Application(
            router: router(node: node),
            server: server,
            configuration: .init(
                address: .hostname(node.config.apiListen.host, port: node.config.apiListen.port),
                serverName: "paynode"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
