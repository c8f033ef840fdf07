import Hummingbird
import Logging
import NIOCore
import ReplicaCore

/// The payments HTTP API (Hummingbird 2): every route of the contract (openapi.yaml)
/// behind the key, error and region middleware, over any `PaymentService`.
public enum PaymentsRouter {
    /// The router with every route and middleware, recording into the service's own
    /// metrics registry (every region in a process reports only its own figures).
    public static func router<Service: PaymentService>(_ service: Service) -> Router<APIRequestContext> {
        router(service, routes: RouteTable())
    }

    /// The router and the fast path over `service`, sharing one set of rate limits
    /// and request metrics: what a server serves.
    public static func http<Service: PaymentService>(_ service: Service, serverName: String, logger: Logger)
        -> PaymentsHTTP
    {
        let limits = APIKeyLimits()
        let metrics = HTTPRequestMetrics(registry: service.metricsRegistry)
        let settings = service.apiSettings
        let parity = RouterParity(
            service: service, limits: limits, metrics: metrics, accessLog: settings.accessLog, logger: logger,
            serverName: serverName)
        // With tracing every request gets its server span, so every request takes the router.
        let reads = settings.tracing ? nil : PlainReadByID(parity: parity)
        let creates = settings.tracing ? nil : PlainCreate(parity: parity)
        return PaymentsHTTP(
            router: router(service, routes: RouteTable(), limits: limits, metrics: metrics), reads: reads,
            creates: creates)
    }

    static func router<Service: PaymentService>(
        _ service: Service, routes: RouteTable, limits: APIKeyLimits = APIKeyLimits(),
        metrics: HTTPRequestMetrics? = nil
    ) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let settings = service.apiSettings
        let now: @Sendable () -> UInt64 = { service.nowMillis() }
        // First: who the caller is, for everything after (spans, metrics, logs, routes).
        router.add(middleware: APIKeyIdentification(keys: { service.apiKeys() }, nowMillis: now))
        // With tracing only: a server span per request, in the trace of its `traceparent`,
        // named by route, with the caller's key id; it holds every span of the request and
        // records the status the client gets.
        if settings.tracing { router.add(middleware: KeyedTracingMiddleware()) }
        // It sees the status the client gets, after errors became answers.
        router.add(middleware: metrics ?? HTTPRequestMetrics(registry: service.metricsRegistry))
        router.add(middleware: AccessLog(enabled: settings.accessLog))
        router.add(middleware: ErrorBodyMiddleware(region: settings.region, routes: routes))
        router.add(middleware: APIKeyAuthorization(routes: routes, limits: limits, nowMillis: now))
        let registrar = RouteRegistrar(router: router, table: routes)
        registrar.get("/metrics", scope: .metricsRead) { _, _, _ in
            try await service.refreshMetrics()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: service.metricsRegistry.emitToString())))
        }
        registrar.open(.get, "/openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        ClusterRoutes(service: service).register(on: registrar)
        PaymentRoutes(service: service).register(on: registrar)
        EventRoutes(service: service, limits: limits).register(on: registrar)
        return router
    }
}

/// The API as a server serves it: the router, and the channel handler that answers
/// plain reads by id and creates ahead of it (`PaymentFastPath`).
public struct PaymentsHTTP {
    public let router: Router<APIRequestContext>
    let reads: PlainReadByID?
    let creates: PlainCreate?

    /// Makes the handlers for a new connection's pipeline, after HTTP decoding
    /// (`HTTP1Channel.Configuration.additionalChannelHandlers`): the fast path, or none
    /// with tracing on.
    public var channelHandlers: @Sendable () -> [any RemovableChannelHandler] {
        { [reads, creates] in reads.map { [PaymentFastPath(reads: $0, creates: creates)] } ?? [] }
    }
}
