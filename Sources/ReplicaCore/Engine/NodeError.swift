/// Why the node could not do what a client asked; the API maps each case to a status.
public enum NodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The engine refused the write (validation, idempotency, transition, not found).
    case rejected(PaymentError)
    /// A read's session token is ahead of this region and it did not catch up in time.
    case sessionNotAvailable(wanted: VersionVector, have: VersionVector)
    /// A change feed cursor older than what this region keeps; `oldest` is the oldest it
    /// can serve.
    case eventCursorTooOld(oldest: EventCursor)
    /// This region no longer holds every change a payment's history needs.
    case historyTruncated(PaymentHistoryError)
    /// The node cannot take writes: its store failed, or it is shutting down.
    case unavailable(String)

    public var description: String {
        switch self {
        case .rejected(let e): e.description
        case .sessionNotAvailable(let wanted, let have):
            "this region has not caught up to the session token yet (token \(wanted), region has \(have))"
        case .eventCursorTooOld(let oldest):
            "this region no longer keeps the changes after this cursor; the oldest cursor it serves is \"\(oldest)\""
        case .historyTruncated(let e): e.description
        case .unavailable(let why): why
        }
    }
}
