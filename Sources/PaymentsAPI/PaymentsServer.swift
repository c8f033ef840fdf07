import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PaymentNode
import Prometheus
import ReplicaCore

/// The payments HTTP server of one node (Hummingbird 2): every route of the API contract (openapi.yaml)
/// behind the error, region and API-key middleware. It is a swift-service-lifecycle
/// `Service`: on graceful shutdown it stops accepting and finishes requests in flight.
public enum PaymentsServer {
    /// The router with every route and middleware, recording into the node's own metrics
    /// registry: every node in a process reports only its own figures. One router per
    /// node (its scrape advances the node's counters to the engine's totals).
    public static func router(node: ReplicaNode) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let registry = node.metrics
        // With `tracing:` only: a server span per request, in the trace of its
        // `traceparent`, named by route; outermost, so it holds every span of the request
        // and records the status the client gets.
        if node.config.tracing != nil { router.add(middleware: TracingMiddleware()) }
        // Outermost but for traces: it sees the status the client gets, after errors became answers.
        router.add(middleware: HTTPRequestMetrics(registry: registry))
        router.add(middleware: AccessLog(enabled: node.config.accessLog))
        router.add(middleware: ErrorBodyMiddleware(region: node.config.region))
        router.add(middleware: APIKeyMiddleware(credentials: node.credentials))
        let metrics = ReplicationMetrics(node: node, registry: registry)
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: try await metrics.render())))
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        ClusterRoutes(node: node).register(on: router)
        PaymentRoutes(node: node).register(on: router)
        EventRoutes(node: node).register(on: router)
        return router
    }

    /// The application serving `router` on the node's API address: HTTPS with the
    /// node's current API certificate (TLS 1.2 or newer; each new connection takes the
    /// one in use, so a reload applies without a restart), or plain HTTP when the config
    /// asks for it.
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
            configuration: .init(address: .hostname(node.config.apiListen.host, port: node.config.apiListen.port),
                                 serverName: "paynode"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
