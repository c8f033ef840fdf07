/// One field's replicated state: a last-writer-wins register.
///
/// `base` is the stamp of the value the writer replaced (nil when the field was unset
/// there). It is how a replica tells a concurrent write from a later one: a winner
/// whose writer had not seen a value at least as new as the loser's overwrote it
/// blindly, and that is a conflict.
public struct FieldRegister: Hashable, Sendable {
    public let value: FieldValue
    public let stamp: Stamp
    public let base: Stamp?

    public init(value: FieldValue, stamp: Stamp, base: Stamp?) {
        self.value = value
        self.stamp = stamp
        self.base = base
    }

    /// Whether `self` beats `other` when both are values of `field`.
    ///
    /// A total order on registers, so merge (take the winner) is commutative,
    /// associative and idempotent. For `status` the order is (life-cycle rank, stamp);
    /// for every other field it is the stamp alone.
    public func wins(over other: FieldRegister, field: PaymentField) -> Bool {
        if field == .status {
            let mine = self.value.text.flatMap(PaymentStatus.init(rawValue:))?.rank ?? 0
            let theirs = other.value.text.flatMap(PaymentStatus.init(rawValue:))?.rank ?? 0
            if mine != theirs { return mine > theirs }
        }
        return stamp > other.stamp
    }

    /// Whether `winner` overwrote `loser` without having seen it (nor anything newer):
    /// a true conflict, as opposed to an update replacing what its writer read.
    /// Equal values never conflict (the same create made at two regions, say).
    public static func isConflict(winner: FieldRegister, loser: FieldRegister) -> Bool {
        guard winner.value != loser.value else { return false }
        guard let seen = winner.base else { return true }
        return seen < loser.stamp
    }
}

/// A losing write that had not been seen by the winner: what the conflict log holds.
public struct ConflictRecord: Hashable, Sendable {
    public let paymentID: PaymentID
    public let field: PaymentField
    public let winner: FieldRegister
    public let loser: FieldRegister
    /// The local stamp when this region detected it (orders the local conflict log).
    public let detectedAt: HLCTimestamp

    public init(paymentID: PaymentID, field: PaymentField, winner: FieldRegister, loser: FieldRegister, detectedAt: HLCTimestamp) {
        self.paymentID = paymentID
        self.field = field
        self.winner = winner
        self.loser = loser
        self.detectedAt = detectedAt
    }
}
