/// One write, as replicated: the `seq`-th write made at `origin`, stamped `hlc`,
/// changing some fields of one payment, by `actor`. Every change in an entry carries the
/// entry's stamp `(hlc, origin)`.
///
/// The actor (the id of the API key the write came with; nil for writes made before
/// changes recorded one) travels with the entry, so every region can answer who made a
/// change, and where (`origin`), after the origin is gone. It is part of the change, not
/// of the payment: no field's value depends on it, and a merge never looks at it.
public struct LogEntry: Hashable, Sendable {
    public let origin: RegionID
    public let seq: UInt64
    public let hlc: HLCTimestamp
    public let paymentID: PaymentID
    public let changes: [FieldChange]
    /// Who made the change (an `ActorName`), when known.
    public let actor: String?

    public init(
        origin: RegionID, seq: UInt64, hlc: HLCTimestamp, paymentID: PaymentID, changes: [FieldChange],
        actor: String? = nil
    ) {
        self.origin = origin
        self.seq = seq
        self.hlc = hlc
        self.paymentID = paymentID
        self.changes = changes
        self.actor = actor
    }

    /// The stamp every change of this entry carries.
    public var stamp: Stamp { Stamp(time: hlc, region: origin) }

    /// The register a change of this entry puts in its field.
    public func register(for change: FieldChange) -> FieldRegister {
        FieldRegister(value: change.value, stamp: stamp, base: change.base, depth: change.depth)
    }
}

/// One field set by a log entry, with the stamp and depth of what its writer replaced
/// (see `FieldRegister`).
public struct FieldChange: Hashable, Sendable {
    public let field: PaymentField
    public let value: FieldValue
    public let base: Stamp?
    public let depth: UInt32

    public init(field: PaymentField, value: FieldValue, base: Stamp?, depth: UInt32 = 1) {
        self.field = field
        self.value = value
        self.base = base
        self.depth = depth
    }
}
