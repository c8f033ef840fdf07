/// One field's replicated state: a last-writer-wins register.
///
/// `base` is the stamp of the value the writer replaced (nil when the field was unset
/// there). It is how a replica tells a concurrent write from a later one: a winner
/// whose writer had not seen a value at least as new as the loser's overwrote it
/// blindly, and that is a conflict.
///
/// `depth` counts the writes of this field the writer had seen, plus one (a create's
/// values have depth 1). A write made after seeing another therefore always has the
/// greater depth, whatever the clocks say: so an update beats a late-arriving copy of
/// the create it followed (a create retried in a second region after a timeout).
public struct FieldRegister: Hashable, Sendable {
    public let value: FieldValue
    public let stamp: Stamp
    public let base: Stamp?
    public let depth: UInt32

    public init(value: FieldValue, stamp: Stamp, base: Stamp?, depth: UInt32 = 1) {
        self.value = value
        self.stamp = stamp
        self.base = base
        self.depth = depth
    }

    /// Whether `self` beats `other` when both are values of `field`.
    ///
    /// A total order on registers, so merge (take the winner) is commutative,
    /// associative and idempotent: (life-cycle rank for `status`, depth, stamp).
    public func wins(over other: FieldRegister, field: PaymentField) -> Bool {
        if field == .status {
            let mine = self.value.text.flatMap(PaymentStatus.init(rawValue:))?.rank ?? 0
            let theirs = other.value.text.flatMap(PaymentStatus.init(rawValue:))?.rank ?? 0
            if mine != theirs { return mine > theirs }
        }
        if depth != other.depth { return depth > other.depth }
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

    public init(
        paymentID: PaymentID, field: PaymentField, winner: FieldRegister, loser: FieldRegister, detectedAt: HLCTimestamp
    ) {
        self.paymentID = paymentID
        self.field = field
        self.winner = winner
        self.loser = loser
        self.detectedAt = detectedAt
    }
}
