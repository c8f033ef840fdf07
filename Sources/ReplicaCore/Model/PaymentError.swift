/// Why a client's request about a payment was refused. Errors are data: each has a
/// stable `code` for programs, a message for people, and the field it concerns.
///
/// A struct over a private code, so new cases can be added without breaking callers.
public struct PaymentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of refusal.
    public enum Code: String, Sendable {
        /// A field is missing, malformed or out of range (HTTP 422).
        case invalidField = "invalid_field"
        /// A patch names a field that cannot change after creation (HTTP 422).
        case immutableField = "immutable_field"
        /// The requested status cannot follow the current one (HTTP 409).
        case invalidStatusTransition = "invalid_status_transition"
        /// The idempotency key was used before with other parameters (HTTP 409).
        case idempotencyKeyReused = "idempotency_key_reused"
        /// No such payment in this region (HTTP 404).
        case notFound = "not_found"
        /// This region is catching up on its own history and takes no writes yet (HTTP 503).
        case regionRecovering = "region_recovering"
        /// This region's clock is off from most of the cluster's by more than the skew
        /// bound, and it takes no writes until it is back in bound (HTTP 503).
        case clockOutOfBound = "clock_out_of_bound"
        /// This region has not yet read enough of its peers' clocks to know its own is in
        /// bound (just started, or links just came back), and takes no writes until it
        /// has, or until no peer answered for `clock_first_reading_ms` (HTTP 503).
        case clockUnverified = "clock_unverified"
        /// This region is being retired from the cluster and takes no writes (HTTP 503).
        case regionRetiring = "region_retiring"
    }

    public let code: Code
    public let message: String
    /// The JSON name of the field concerned, when there is one.
    public let field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// A field that is missing, malformed or out of range.
    public static func invalid(_ field: String, _ message: String) -> PaymentError {
        PaymentError(.invalidField, message, field: field)
    }

    public var description: String {
        field.map { "\(code.rawValue) (\($0)): \(message)" } ?? "\(code.rawValue): \(message)"
    }
}
