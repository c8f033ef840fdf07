import Hummingbird
import ReplicaCore

/// The outermost middleware: finds which configured key, if any, the request's
/// `Authorization: Bearer <key>` is, and records it in the context (`authentication`)
/// and in the request's logger (`key_id`, so the access log line and every line the
/// request causes name the key). It refuses nothing: `APIKeyAuthorization`, inside the
/// error middleware, answers 401 and 429, and each route checks its scope. Being first, it
/// lets the server span, the request metrics and the access log all name the caller.
///
/// The keys are read per request (`PaymentService.apiKeys()`), so a reload applies to the
/// next request; a request sees the old set or the new one.
package struct APIKeyIdentification: RouterMiddleware {
    package typealias Context = APIRequestContext

    let keys: @Sendable () -> [APIKey]
    let nowMillis: @Sendable () -> UInt64

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws
        -> Response
    {
        var context = context
        context.authentication = Self.identify(request.headers[.authorization], among: keys(), nowMillis: nowMillis)
        if let id = context.keyID { context.logger[metadataKey: "key_id"] = .string(id) }
        return try await next(request, context)
    }

    /// What `header` proves among `keys`. The presented key's SHA-256 is compared with
    /// every configured hash, each byte of each, without stopping at a match: how long it
    /// takes does not depend on which key matched or how much of a hash did.
    package static func identify(_ header: String?, among keys: [APIKey], nowMillis: () -> UInt64)
        -> APIAuthentication
    {
        guard let header else { return .none }
        let prefix = "Bearer ".utf8
        guard header.utf8.count > prefix.count, header.utf8.starts(with: prefix) else { return .invalid }
        let presented = SHA256.hash(Array(header.utf8.dropFirst(prefix.count)))
        var matched: APIKey?
        for key in keys {
            var diff: UInt8 = key.sha256.count == presented.count ? 0 : 1
            for i in 0..<min(key.sha256.count, presented.count) { diff |= key.sha256[i] ^ presented[i] }
            if diff == 0 { matched = key }
        }
        guard let key = matched else { return .invalid }
        return key.isExpired(at: nowMillis()) ? .expired(key) : .valid(key)
    }
}

/// With `tracing:` only: Hummingbird's server span per request, plus `paynode.key_id`
/// (the id of the key the caller presented, never the key or its hash). Inside the
/// identification, so the span knows the key; outside everything else, so it holds
/// every span of the request and records the status the client gets.
struct KeyedTracingMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let id = context.keyID else {
            return try await TracingMiddleware<Context>().handle(request, context: context, next: next)
        }
        return try await TracingMiddleware<Context>(attributes: ["paynode.key_id": "\(id)"])
            .handle(request, context: context, next: next)
    }
}
