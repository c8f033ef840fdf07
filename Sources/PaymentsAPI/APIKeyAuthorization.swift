import Hummingbird

/// Inside the error middleware, before the routes: a request for a path that needs a
/// key (every `/v1` path, known or not, and every other route registered with a scope,
/// such as `/metrics`) is refused 401 without a key in force (`unauthorized`,
/// `key_expired`), and 429 `rate_limited` with `Retry-After` beyond its key's rate.
/// Each route then checks its own scope (`RouteRegistrar`), and merchant bounds where
/// payments are touched. Paths that need no key (`/health`, `/ready`, `/openapi.yaml`)
/// pass whatever the header says.
struct APIKeyAuthorization: RouterMiddleware {
    typealias Context = APIRequestContext

    let routes: RouteTable
    let limits: APIKeyLimits
    let nowMillis: @Sendable () -> UInt64

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        guard path.hasPrefix("/v1/") || path == "/v1" || routes.needsKey(path) else {
            return try await next(request, context)
        }
        let key = try APIError.requireKey(context.authentication)
        if let wait = limits.take(key, nowMillis: nowMillis()) {
            throw APIError.rateLimited(key, retryAfterSeconds: wait)
        }
        return try await next(request, context)
    }
}
