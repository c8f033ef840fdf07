import HTTPTypes
import PaymentsWire
import ReplicaCore

/// An API error as clients see it: a status and `{"error": {"code", "message", "field"}}`
/// Every refusal the API makes is one of these; no bad input gives 500.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public let field: String?
    /// For 405: the methods the path allows (sent as `Allow`).
    public let allow: [String]?
    /// For 410 on the change feed: the oldest cursor the region can serve.
    public let oldestCursor: String?
    /// For 429 `rate_limited`: whole seconds until the key may ask again (sent as `Retry-After`).
    public let retryAfterSeconds: Int?

    public init(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil, allow: [String]? = nil,
        oldestCursor: String? = nil, retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.allow = allow
        self.oldestCursor = oldestCursor
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The JSON body.
    public var json: String {
        var body = "{\"error\":{\"code\":\(JSONString.quote(code)),\"message\":\(JSONString.quote(message))"
        if let field { body += ",\"field\":\(JSONString.quote(field))" }
        if let oldestCursor { body += ",\"oldest_cursor\":\(JSONString.quote(oldestCursor))" }
        return body + "}}"
    }

    static func malformed(_ message: String) -> APIError { APIError(.badRequest, "malformed_request", message) }
    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, "invalid_field", message, field: field)
    }
    /// A `status` (in a patch or a query) that is not a payment status.
    static let invalidStatus = invalid(
        "status", "status must be one of \(PaymentStatus.allCases.map(\.rawValue).joined(separator: ", "))")

    /// The API's answer to an engine refusal.
    init(_ error: PaymentError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .invalidField, .immutableField: .unprocessableContent
            case .invalidStatusTransition, .idempotencyKeyReused: .conflict
            case .notFound: .notFound
            case .regionRecovering, .clockOutOfBound, .clockUnverified, .regionRetiring: .serviceUnavailable
            }
        self.init(status, error.code.rawValue, error.message, field: error.field)
    }

    /// The API's answer to a node refusal.
    init(_ error: NodeError) {
        switch error {
        case .rejected(let e): self.init(e)
        case .sessionNotAvailable: self.init(.preconditionFailed, "session_not_available", error.description)
        case .eventCursorTooOld(let oldest):
            self.init(.gone, "cursor_expired", error.description, oldestCursor: oldest.description)
        case .historyTruncated: self.init(.gone, "history_truncated", error.description, field: "id")
        case .unavailable(let why): self.init(.serviceUnavailable, "unavailable", why)
        }
    }
}
