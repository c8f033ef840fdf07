import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ReplicaCore

/// What the fast path's answers (`PlainReadByID`, `PlainCreate`) share with the router's:
/// the caller's key as the router identifies and limits it, and what every answer carries
/// (`Content-Length`, `X-Region`, `X-Request-Id`, `Date`, `Server`), counted in the
/// router's request metrics and written to its access log line.
struct RouterParity: Sendable {
    let service: any PaymentService
    let limits: APIKeyLimits
    let metrics: HTTPRequestMetrics
    let accessLog: Bool
    let logger: Logger
    let serverName: String

    /// The request's key at `now`: valid, holding `scope`, with a token left in its rate
    /// limit (none is taken: as the router does, a key past its limit is refused first).
    /// Nil when the router is to answer.
    func key(_ request: HTTPRequest, scope: APIScope, now: UInt64) -> APIKey? {
        let authentication = APIKeyIdentification.identify(
            request.headerFields[.authorization], among: service.apiKeys(), nowMillis: { now })
        guard case .valid(let key) = authentication, key.allows(scope), limits.hasToken(key, nowMillis: now) else {
            return nil
        }
        return key
    }

    /// The answer `status`, `fields` and `body` with what every answer carries, counted
    /// and logged as the router counts and logs `method` on `route`.
    func answer(
        _ status: HTTPResponse.Status, _ fields: HTTPFields, _ body: ByteBuffer, method: String, route: String,
        path: String, keyID: String, requestID: String, since start: UInt64, date: inout HTTPDate
    ) -> (HTTPResponse, ByteBuffer) {
        var fields = fields
        fields[.contentLength] = String(body.readableBytes)
        fields[.xRegion] = service.apiSettings.region.name
        fields[.xRequestID] = requestID
        fields[.date] = date.text(atMillis: service.nowMillis())
        fields[.server] = serverName
        metrics.record(route: route, method, status.code, keyID: keyID, since: start)
        if accessLog {
            var logger = logger
            logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
            logger[metadataKey: "key_id"] = .string(keyID)
            logger[metadataKey: "request_id"] = .string(requestID)
            AccessLog<APIRequestContext>.write(
                logger, method: method, route: route, path: path, status: status.code, since: start)
        }
        return (HTTPResponse(status: status, headerFields: fields), body)
    }
}
