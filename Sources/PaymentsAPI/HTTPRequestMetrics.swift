import Dispatch
import Hummingbird
import Prometheus
import Synchronization

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
    /// The series each (route, method, status, key) records into, made once: the
    /// registry's lookup validates names and formats help text on every call.
    let cache: RequestSeriesCache

    static var durationBuckets: [Duration] {
        [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(20),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        ]
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.cache = RequestSeriesCache(registry: registry)
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
        record(route: context.endpointPath ?? "unmatched", method, status, keyID: context.keyID, since: start)
    }

    /// Counts one answered request (what the middleware records for each, and the read
    /// fast path for the reads it answers).
    func record(route: String, _ method: String, _ status: Int, keyID: String?, since start: UInt64) {
        let elapsed = Duration.nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- start))
        let series = cache.series(route: route, method: method, status: status, keyID: keyID)
        series.byKey?.increment()
        series.requests.increment()
        series.duration.record(elapsed)
    }
}

/// The request metrics' series by label values, looked up in the registry once each.
/// Route patterns, methods, status codes and key ids are bounded sets, so the map is too.
final class RequestSeriesCache: Sendable {
    struct Series: Sendable {
        let requests: Counter
        let duration: DurationHistogram
        let byKey: Counter?
    }

    private struct Labels: Hashable {
        let route: String
        let method: String
        let status: Int
        let keyID: String?
    }

    private let registry: PrometheusCollectorRegistry
    private let made = Mutex<[Labels: Series]>([:])

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func series(route: String, method: String, status: Int, keyID: String?) -> Series {
        let labels = Labels(route: route, method: method, status: status, keyID: keyID)
        if let known = made.withLock({ $0[labels] }) { return known }
        let series = Series(
            requests: registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "paynode", metricName: "http_requests", unitName: "total",
                    helpText: "HTTP requests answered, by route, method and status code"),
                labels: [("route", route), ("method", method), ("status_code", String(status))]),
            duration: registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "paynode", metricName: "http_request_duration", unitName: "seconds",
                    helpText: "Time from a request's arrival until its answer is ready to write"),
                labels: [("route", route), ("method", method)], buckets: HTTPRequestMetrics.durationBuckets),
            byKey: keyID.map { keyID in
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        namespace: "paynode", metricName: "api_requests_by_key", unitName: "total",
                        helpText: "HTTP requests that presented a configured API key, by key id and status code"),
                    labels: [("key_id", keyID), ("status_code", String(status))])
            })
        made.withLock { $0[labels] = series }
        return series
    }
}
