import Dispatch
import Hummingbird
import Prometheus

/// The outermost middleware but for traces: counts every request by route, method and
/// the status the client got (a 4xx is a 4xx, not the 500 an inner error would look
/// like), times it, and tracks requests in flight, into the service's own registry (each
/// region in a process has one: the demo's three regions never mix their figures).
///
/// `paynode_http_requests_total{route,method,status_code}`,
/// `paynode_http_request_duration_seconds{route,method}` (histogram),
/// `paynode_http_requests_in_flight`. `route` is the matched route's pattern
/// (`/v1/payments/{id}`), or `unmatched`: an id never becomes a label.
///
/// Per caller: `paynode_api_requests_by_key_total{key_id,status_code}` counts the requests
/// that presented a configured key (in force or expired), by its id. Ids come from the
/// configuration, so the label stays bounded; a key no hash matches is never a label.
struct HTTPRequestMetrics: RouterMiddleware {
    typealias Context = APIRequestContext
    let registry: PrometheusCollectorRegistry
    let inFlight: Gauge

    static var durationBuckets: [Duration] {
        [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(20),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        ]
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        inFlight = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "paynode", metricName: "http_requests", unitName: "in_flight",
                helpText: "HTTP requests being handled now"))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        inFlight.increment()
        do {
            let response = try await next(request, context)
            record(context, request.method.rawValue, response.status.code, since: start)
            return response
        } catch {
            // The error middleware inside answers every error; this is a last resort.
            record(
                context, request.method.rawValue, (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func record(_ context: Context, _ method: String, _ status: Int, since start: UInt64) {
        inFlight.decrement()
        let route = context.endpointPath ?? "unmatched"
        if let keyID = context.keyID {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "paynode", metricName: "api_requests_by_key", unitName: "total",
                    helpText: "HTTP requests that presented a configured API key, by key id and status code"),
                labels: [("key_id", keyID), ("status_code", String(status))]
            ).increment()
        }
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "paynode", metricName: "http_requests", unitName: "total",
                helpText: "HTTP requests answered, by route, method and status code"),
            labels: [("route", route), ("method", method), ("status_code", String(status))]
        ).increment()
        let elapsed = Duration.nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- start))
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "paynode", metricName: "http_request_duration", unitName: "seconds",
                helpText: "Time from a request's arrival until its answer is ready to write"),
            labels: [("route", route), ("method", method)], buckets: Self.durationBuckets
        ).record(elapsed)
    }
}
