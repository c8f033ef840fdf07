/// The engine's records by id, each held in its wire encoding and decoded on access.
///
/// Two modes. *Complete* (`capacityBytes` nil): the table holds every record, and an id
/// it does not hold has no record (unit tests, tools). *Bounded*: the table is a cache of
/// the store; the shell loads the records an input names before the engine runs it
/// (`admit`, prefetch-then-execute), an id the store does not have is remembered as
/// absent until evicted, records written and not yet committed are pinned, and the
/// oldest admitted unpinned ones are evicted once the table holds more than its
/// capacity. Touching an id that is not resident is a bug in the shell: it traps rather
/// than take a record the store holds for a new one.
///
/// A `PaymentRecord` value takes about 1.4 KB in memory; its encoding about 360 bytes.
/// The records stored or admitted last (`decodedMax` of them) are also kept decoded,
/// so the engine's repeated reads of the records it is working on decode nothing.
struct RecordTable: Sendable {
    /// A resident record: its encoding, and (for the newest few) its decoded value.
    struct Slot: Sendable {
        let bytes: [UInt8]
        /// Nil, or exactly what `bytes` decode to.
        var record: PaymentRecord?
    }

    private var encoded: [PaymentID: Slot] = [:]
    /// Ids whose slots were given a decoded value, oldest first (from `decodedHead`); may
    /// hold ids since dropped or re-stored, skipped when reached.
    private var decodedOrder: [PaymentID] = []
    private var decodedHead = 0
    /// Slots holding a decoded value.
    private var decodedCount = 0
    /// Decoded values kept at most: about 360 KB.
    static let decodedMax = 256
    /// Bounded mode: ids the store was asked for and does not hold.
    private var absent: Set<PaymentID> = []
    /// Bounded mode: ids with writes not yet committed, and how many pending persists hold them.
    private var pins: [PaymentID: Int] = [:]
    /// Bounded mode: ids in the order they became resident (eviction order); may hold
    /// ids no longer resident, skipped when reached.
    private var order: [PaymentID] = []
    private var orderHead = 0
    /// Bounded mode: what the resident records and absent ids take, approximately.
    private(set) var bytes = 0
    /// Nil: complete.
    let capacityBytes: Int?

    /// Per resident id, beyond its encoding: the dictionary slot, the array header, the order slot.
    static let overheadBytes = 96

    init(capacityBytes: Int? = nil) {
        self.capacityBytes = capacityBytes
    }

    /// A complete table holding `records` (the last one wins for a repeated id).
    init(_ records: [PaymentRecord], capacity: Int = 0) {
        self.capacityBytes = nil
        encoded.reserveCapacity(max(capacity, records.count))
        for r in records { self[r.id] = r }
    }

    /// Adds a record given in its encoding (from a store), keyed by the id it starts with.
    mutating func insert(encoded bytes: [UInt8]) {
        store(Self.id(of: bytes), bytes, decoded: nil)
    }

    /// The id a record's encoding starts with.
    static func id(of bytes: [UInt8]) -> PaymentID {
        var reader = ByteReader(bytes)
        do { return try reader.readPaymentID() } catch {
            preconditionFailure("a store's record does not start with a payment id: \(error)")
        }
    }

    /// Number of records held.
    var count: Int { encoded.count }

    /// Ids in the eviction order, stale ones (dropped or evicted since) included.
    var trackedIDs: Int { order.count - orderHead }

    /// Ids the decoded values' order holds, those already let go included.
    var decodedTrackedIDs: Int { decodedOrder.count }

    /// Whether what the table keeps beside its records stays within bounds set by what
    /// it holds: the eviction order a few times the ids resident or absent, the decoded
    /// values' order a few times `decodedMax`. Either growing with every record ever
    /// stored is a leak (a region catching up a million records would keep a million ids).
    var bookkeepingIsBounded: Bool {
        order.count <= 4 * (encoded.count + absent.count) + 16_384 && decodedOrder.count <= 8 * Self.decodedMax
    }

    /// The ids held, in no particular order.
    var ids: Dictionary<PaymentID, Slot>.Keys { encoded.keys }

    var isBounded: Bool { capacityBytes != nil }

    /// Whether the engine may look `id` up: held, known absent, or the table is complete.
    func isResident(_ id: PaymentID) -> Bool { capacityBytes == nil || encoded[id] != nil || absent.contains(id) }

    /// The record of `id` (nil: it has none); setting nil removes it.
    subscript(id: PaymentID) -> PaymentRecord? {
        get {
            if let slot = encoded[id] { return slot.record ?? Self.decode(slot.bytes) }
            precondition(isResident(id), "record \(id) used before the shell loaded it")
            return nil
        }
        set {
            if let newValue { store(id, Self.encode(newValue), decoded: newValue) } else { remove(id) }
        }
    }

    /// The record's encoding (exactly what `ByteWriter.writeRecord` writes for it).
    func encoding(of id: PaymentID) -> [UInt8]? { encoded[id]?.bytes }

    // MARK: Bounded mode

    /// Takes in what the store holds for `asked`: the records found, by their encodings
    /// (each MUST decode: the store checks what it reads); the others are absent. An id
    /// already resident keeps what the table has (it may be newer than the store).
    /// Records admitted are decoded here, unless more than `decodedMax` came: the input
    /// that asked for them reads them next.
    mutating func admit(_ found: [[UInt8]], asked: [PaymentID]) {
        guard isBounded else { return }
        let decodeAll = found.count <= Self.decodedMax
        var seen = Set<PaymentID>()
        for bytes in found {
            let id = Self.id(of: bytes)
            seen.insert(id)
            if !isResident(id) { store(id, bytes, decoded: decodeAll ? Self.decode(bytes) : nil) }
        }
        markAbsent(asked, except: seen)
    }

    /// `admit` of records the store holds decoded beside their encodings (each `record`
    /// MUST be what its `bytes` decode to): nothing is decoded.
    mutating func admit(decoded found: [EncodedRecord], asked: [PaymentID]) {
        guard isBounded else { return }
        var seen = Set<PaymentID>()
        for found in found {
            let id = found.record.id
            seen.insert(id)
            if !isResident(id) { store(id, found.bytes, decoded: found.record) }
        }
        markAbsent(asked, except: seen)
    }

    /// Those of `asked` not found and not resident are absent.
    private mutating func markAbsent(_ asked: [PaymentID], except found: Set<PaymentID>) {
        for id in asked where !found.contains(id) && !isResident(id) {
            absent.insert(id)
            order.append(id)
            bytes += Self.overheadBytes
        }
    }

    /// Pins `ids` until as many `unpin`s: their records are written and not yet committed.
    mutating func pin(_ ids: [PaymentID]) {
        guard isBounded else { return }
        for id in ids { pins[id, default: 0] += 1 }
    }

    mutating func unpin(_ ids: [PaymentID]) {
        guard isBounded else { return }
        for id in ids {
            guard let n = pins[id] else { continue }
            pins[id] = n > 1 ? n - 1 : nil
        }
    }

    /// Drops those of `ids` that are not pinned (bounded mode): the store has them.
    mutating func drop(_ ids: [PaymentID]) {
        guard isBounded else { return }
        for id in ids where pins[id] == nil {
            if let e = removeSlot(id) { bytes -= e.bytes.count + Self.overheadBytes }
        }
        compactOrderIfStale()
    }

    /// Rebuilds the eviction order without the ids no longer held once they are most of
    /// it (a dropped record leaves its id behind): amortized O(1) per id, and the order
    /// stays bounded by what the table holds.
    private mutating func compactOrderIfStale() {
        guard order.count - orderHead > 2 * (encoded.count + absent.count) + 1_024 else { return }
        var kept = Set<PaymentID>()
        order = order[orderHead...].filter { id in
            (encoded[id] != nil || absent.contains(id)) && kept.insert(id).inserted
        }
        orderHead = 0
    }

    /// Evicts the oldest unpinned ids until the table fits its capacity.
    mutating func evictToCapacity() {
        guard let capacity = capacityBytes, bytes > capacity else { return }
        var budget = order.count - orderHead
        while bytes > capacity && orderHead < order.count && budget > 0 {
            budget -= 1
            let id = order[orderHead]
            orderHead += 1
            if pins[id] != nil {
                order.append(id)  // written and uncommitted: kept, looked at again later
            } else if let e = removeSlot(id) {
                bytes -= e.bytes.count + Self.overheadBytes
            } else if absent.remove(id) != nil {
                bytes -= Self.overheadBytes
            }
        }
        Self.dropConsumed(&order, head: &orderHead, once: 4_096)
    }

    /// Cuts the ids before `head` (already taken from the front of `queue`) once there
    /// are more than `minimum` of them and they are most of it: amortized O(1) per id,
    /// and the queue never grows with every id that ever passed through it.
    private static func dropConsumed(_ queue: inout [PaymentID], head: inout Int, once minimum: Int) {
        guard head > minimum && head * 2 > queue.count else { return }
        queue.removeFirst(head)
        head = 0
    }

    private mutating func store(_ id: PaymentID, _ new: [UInt8], decoded: PaymentRecord?) {
        if decoded != nil { noteDecoded(id) }
        if let old = encoded.updateValue(Slot(bytes: new, record: decoded), forKey: id) {
            if old.record != nil { decodedCount -= 1 }
            bytes += new.count - old.bytes.count
            return
        }
        guard isBounded else { return }
        if absent.remove(id) == nil { order.append(id) } else { bytes -= Self.overheadBytes }
        bytes += new.count + Self.overheadBytes
    }

    private mutating func remove(_ id: PaymentID) {
        if let old = removeSlot(id), isBounded {
            bytes -= old.bytes.count + Self.overheadBytes
            compactOrderIfStale()
        }
    }

    private mutating func removeSlot(_ id: PaymentID) -> Slot? {
        let old = encoded.removeValue(forKey: id)
        if old?.record != nil { decodedCount -= 1 }
        return old
    }

    // MARK: Decoded values

    /// `id` is about to get a decoded value: counts it, and lets the oldest decoded
    /// values go (their encodings stay) once more than `decodedMax` are held.
    private mutating func noteDecoded(_ id: PaymentID) {
        decodedCount += 1
        decodedOrder.append(id)
        while decodedCount > Self.decodedMax && decodedHead < decodedOrder.count {
            let oldest = decodedOrder[decodedHead]
            decodedHead += 1
            if oldest != id, encoded[oldest]?.record != nil {
                encoded[oldest]!.record = nil
                decodedCount -= 1
            }
        }
        Self.dropConsumed(&decodedOrder, head: &decodedHead, once: 4 * Self.decodedMax)
        // Ids dropped or re-stored since leave stale places behind: rebuilt once they
        // are most of it, so the order stays bounded.
        if decodedOrder.count - decodedHead > 4 * Self.decodedMax {
            var kept = Set<PaymentID>()
            decodedOrder = decodedOrder[decodedHead...].filter { id in
                encoded[id]?.record != nil && kept.insert(id).inserted
            }
            decodedOrder.append(id)
            decodedHead = 0
        }
    }

    // MARK: Encoding

    /// The record's encoding, in a buffer of exactly its size.
    static func encode(_ record: PaymentRecord) -> [UInt8] {
        var w = ByteWriter(capacity: 512)
        w.writeRecord(record)
        return w.exactBytes
    }

    /// Decodes what `encode` wrote. It cannot fail short of memory corruption: the bytes
    /// never left this process (or a store checked them as it read them).
    static func decode(_ bytes: [UInt8]) -> PaymentRecord {
        ByteReader.decodeOwn(bytes, "a payment record") { (r: inout ByteReader) throws(DecodingError) in
            try r.readRecord()
        }
    }
}
