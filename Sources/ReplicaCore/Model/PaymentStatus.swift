/// Where a payment is in its life. Statuses only move forward:
/// `pending → authorized → completed → refunded`; `pending`/`authorized → failed | canceled`;
/// `pending → completed` (a confirmed bank transfer).
public enum PaymentStatus: String, Sendable, CaseIterable, Codable {
    case pending, authorized, completed, failed, canceled, refunded

    /// Whether a client may move a payment from `self` to `next`.
    public func canTransition(to next: PaymentStatus) -> Bool {
        switch (self, next) {
        case (.pending, .authorized), (.pending, .completed), (.pending, .failed), (.pending, .canceled),
            (.authorized, .completed), (.authorized, .failed), (.authorized, .canceled),
            (.completed, .refunded):
            return true
        default:
            return false
        }
    }

    /// How far along the life cycle a status is. Replicas merge `status` by
    /// (rank, stamp), so a status never moves backwards when concurrent writes meet:
    /// a region that captured a payment is not undone by one that, concurrently and with
    /// a later clock, only authorized it. Terminal outcomes share a rank; among them the
    /// higher stamp wins and the loser goes to the conflict log.
    public var rank: UInt8 {
        switch self {
        case .pending: 0
        case .authorized: 1
        case .completed, .failed, .canceled: 2
        case .refunded: 3
        }
    }
}

/// How the customer pays.
public enum PaymentMethod: String, Sendable, CaseIterable, Codable {
    case card
    case bankTransfer = "bank_transfer"
}
