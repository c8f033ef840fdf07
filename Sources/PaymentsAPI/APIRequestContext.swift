import Hummingbird

/// The request context of the payments API: Hummingbird's core storage and who the
/// caller is. The outermost middleware (`APIKeyIdentification`) sets `authentication`
/// once per request, so every middleware and route after it (traces, metrics, the
/// access log, the routes) sees the same caller.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// What the request's `Authorization` header proved.
    public internal(set) var authentication: APIAuthentication = .none

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The key the request authenticated with: present, valid and not expired. Nil on
    /// routes that need no key when none (or a bad one) was sent; a route that needs a
    /// scope is never reached without one.
    public var key: APIKey? {
        if case .valid(let key) = authentication { key } else { nil }
    }

    /// The configured id of the key the request presented, valid or expired: what logs,
    /// spans and metrics show. Nil when no configured key matched.
    public var keyID: String? {
        switch authentication {
        case .valid(let key), .expired(let key): key.id
        case .none, .invalid: nil
        }
    }
}

/// What a request's `Authorization` header proved, before any route looked at it.
public enum APIAuthentication: Sendable, Hashable {
    /// No `Authorization` header.
    case none
    /// A header that is not `Bearer <key>`, or a key no configured hash matches.
    case invalid
    /// A configured key past its `expires` time.
    case expired(APIKey)
    /// A configured key, in force.
    case valid(APIKey)
}
