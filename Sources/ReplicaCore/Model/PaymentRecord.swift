/// A payment as replicas hold it: one register per field. Merging two records takes,
/// field by field, the winning register (see `FieldRegister.wins(over:field:)`).
///
/// A record may be *incomplete*: an update made at one region can reach a third region
/// before the create it follows. Such a record merges like any other but is not shown
/// to clients until its create arrives.
public struct PaymentRecord: Hashable, Sendable {
    public let id: PaymentID
    /// Registers indexed by `PaymentField.rawValue` (index 0 unused).
    private var registers: [FieldRegister?]

    /// Every field, in field order (`allCases` builds a new array on each call).
    static let fields = PaymentField.allCases
    /// Slots in `registers`: one per field number, and 0.
    static let slotCount = Int(fields.map(\.rawValue).max()!) + 1

    /// An empty record.
    public init(id: PaymentID) {
        self.id = id
        self.registers = Array(repeating: nil, count: Self.slotCount)
    }

    /// The register of `field`, if it was ever written.
    public subscript(field: PaymentField) -> FieldRegister? {
        registers[Int(field.rawValue)]
    }

    /// The fields that hold a register, in field order.
    public var presentFields: [PaymentField] { presentRegisters.map(\.field) }

    /// How many fields hold a register.
    public var presentCount: Int { registers.reduce(0) { $1 == nil ? $0 : $0 + 1 } }

    /// The fields that hold a register, each with it, in field order: `presentFields`
    /// without building an array (the engine walks every record it merges, checks and
    /// encodes this way).
    public var presentRegisters: PresentRegisters { PresentRegisters(registers: registers) }

    /// The sequence of `presentRegisters`.
    public struct PresentRegisters: Sequence, IteratorProtocol {
        let registers: [FieldRegister?]
        var slot = 0

        public mutating func next() -> (field: PaymentField, register: FieldRegister)? {
            while slot < registers.count {
                defer { slot += 1 }
                if let register = registers[slot] { return (PaymentField(rawValue: UInt8(slot))!, register) }
            }
            return nil
        }
    }

    /// Whether the create has arrived (every required field is present).
    public var isComplete: Bool {
        self[.merchantID] != nil && self[.orderID] != nil && self[.amount] != nil
            && self[.currency] != nil && self[.method] != nil && self[.status] != nil
    }

    /// The newest stamp on any field: a local write to this record is stamped above it.
    public var maxStamp: Stamp? {
        var newest: Stamp?
        for register in registers {
            guard let stamp = register?.stamp else { continue }
            if let n = newest, !(n < stamp) { continue }
            newest = stamp
        }
        return newest
    }

    /// The outcome of merging one register into a record.
    public enum MergeOutcome: Equatable, Sendable {
        /// The incoming register was older (or the same write again); nothing changed.
        case kept
        /// The incoming register replaced the old value (or filled an empty field).
        case replaced
    }

    /// Merges `incoming` into `field`; when a concurrent write loses, `conflict` holds
    /// (winner, loser).
    @discardableResult
    public mutating func merge(
        _ incoming: FieldRegister, into field: PaymentField
    ) -> (outcome: MergeOutcome, conflict: (winner: FieldRegister, loser: FieldRegister)?) {
        let index = Int(field.rawValue)
        guard let current = registers[index] else {
            registers[index] = incoming
            return (.replaced, nil)
        }
        if current.stamp == incoming.stamp { return (.kept, nil) }
        if incoming.wins(over: current, field: field) {
            registers[index] = incoming
            let conflict = FieldRegister.isConflict(winner: incoming, loser: current) ? (incoming, current) : nil
            return (.replaced, conflict)
        }
        let conflict = FieldRegister.isConflict(winner: current, loser: incoming) ? (current, incoming) : nil
        return (.kept, conflict)
    }

    /// Merges every register of `other` (a record with the same id).
    public mutating func merge(_ other: PaymentRecord) {
        precondition(other.id == id, "merging records of different payments: \(id) and \(other.id)")
        for (field, register) in other.presentRegisters { merge(register, into: field) }
    }
}
