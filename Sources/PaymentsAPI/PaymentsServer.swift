import Hummingbird
import Logging
import NIOCore
import PaymentNode
import ReplicaCore

/// The payments HTTP server of one node (Hummingbird 2): every route of DESIGN section 5
/// behind the error, region and API-key middleware. It is a swift-service-lifecycle
/// `Service`: on graceful shutdown it stops accepting and finishes requests in flight.
public enum PaymentsServer {
    /// The router with every route and middleware.
    public static func router(node: ReplicaNode) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorBodyMiddleware(region: node.config.region))
        if node.config.testDelayMillis > 0 {
            router.add(middleware: TestDelayMiddleware(delayMillis: node.config.testDelayMillis))
        }
        router.add(middleware: APIKeyMiddleware(keyHashes: node.config.apiKeyHashes))
        ClusterRoutes(node: node).register(on: router)
        PaymentRoutes(node: node).register(on: router)
        return router
    }

    /// The application serving `router` on the node's API address.
    public static func application(
        node: ReplicaNode, logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(node: node),
            configuration: .init(address: .hostname(node.config.apiListen.host, port: node.config.apiListen.port),
                                 serverName: "paynode"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
