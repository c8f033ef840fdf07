import PaymentsWire
import ReplicaCore

// MARK: - Refusals of the caller's key
//
// 401 when the request does not prove a key in force, 403 when the key may not do this,
// 429 when it asks too much. Messages name the key by its id (the caller holds the key,
// so the id tells them nothing new) and never by its secret or hash.

extension APIError {
    /// 401: no `Authorization: Bearer` header.
    static let keyRequired = APIError(.unauthorized, "unauthorized", "send an API key: Authorization: Bearer <key>")
    /// 401: a key no configured hash matches.
    static let keyInvalid = APIError(.unauthorized, "unauthorized", "the API key is not valid")

    /// 401: the key's `expires` time has passed.
    static func keyExpired(_ key: APIKey) -> APIError {
        let when = key.expiresAtMillis.map { RFC3339.format(millis: $0) } ?? "an earlier time"
        return APIError(.unauthorized, "key_expired", "this key (id \(key.id)) expired at \(when)")
    }

    /// On an event stream only: the key it was opened with is no longer configured.
    static func keyRevoked(_ id: String) -> APIError {
        APIError(.unauthorized, "key_revoked", "this key (id \(id)) is no longer accepted")
    }

    /// 403: the route needs a scope the key does not hold.
    static func scopeMissing(_ key: APIKey, _ scope: APIScope) -> APIError {
        APIError(.forbidden, "scope_missing", "this key (id \(key.id)) lacks the scope \(scope.rawValue)")
    }

    /// 403: a merchant-bound key writing for a merchant outside its bounds.
    static func merchantForbidden(_ key: APIKey, _ merchantID: String) -> APIError {
        APIError(
            .forbidden, "merchant_forbidden",
            "this key (id \(key.id)) may not write payments of merchant \(merchantID)",
            field: "merchant_id")
    }

    /// 429: the key's token bucket is empty.
    static func rateLimited(_ key: APIKey, retryAfterSeconds: Int) -> APIError {
        let rate = key.ratePerSecond.map { $0.rounded() == $0 && $0 < 1e15 ? "\(Int64($0))" : "\($0)" } ?? "?"
        return APIError(
            .tooManyRequests, "rate_limited",
            "this key (id \(key.id)) is over its rate of \(rate) requests per second (burst \(key.burst)); "
                + "retry in \(retryAfterSeconds) s",
            retryAfterSeconds: retryAfterSeconds)
    }

    /// 429: the key holds as many event streams as it may.
    static func streamsExhausted(_ key: APIKey) -> APIError {
        APIError(
            .tooManyRequests, "streams_exhausted",
            "this key (id \(key.id)) holds its \(key.streamsMax) event streams already: close one first")
    }

    /// The key a request proved, or the 401 it gets.
    static func requireKey(_ authentication: APIAuthentication) throws(APIError) -> APIKey {
        switch authentication {
        case .valid(let key): key
        case .expired(let key): throw keyExpired(key)
        case .invalid: throw keyInvalid
        case .none: throw keyRequired
        }
    }
}
