/// The engine's records by id, each held in its wire encoding and decoded on access.
///
/// A `PaymentRecord` value (an array of optional registers, each with its value, stamps
/// and region names) takes about 1.4 KB per payment in memory; its encoding about 360
/// bytes. The engine touches a record only to merge a write into it, validate a client
/// write against it or stream it in a snapshot, so decoding on access costs a few
/// microseconds per write while the table holding every payment shrinks severalfold.
struct RecordTable: Sendable {
    private var encoded: [PaymentID: [UInt8]] = [:]

    init() {}

    /// A table holding `records` (the last one wins for a repeated id).
    init(_ records: [PaymentRecord], capacity: Int = 0) {
        encoded.reserveCapacity(max(capacity, records.count))
        for r in records { self[r.id] = r }
    }

    /// Adds a record given in its encoding (from a store), keyed by the id it starts with.
    mutating func insert(encoded bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        do {
            encoded[try reader.readPaymentID()] = bytes
        } catch {
            preconditionFailure("a recovered record does not start with a payment id: \(error)")
        }
    }

    /// Number of records held.
    var count: Int { encoded.count }

    /// The ids held, in no particular order.
    var ids: Dictionary<PaymentID, [UInt8]>.Keys { encoded.keys }

    /// The record of `id`, if held; setting nil removes it.
    subscript(id: PaymentID) -> PaymentRecord? {
        get { encoded[id].map(Self.decode) }
        set { encoded[id] = newValue.map(Self.encode) }
    }

    /// The record's encoding (exactly what `ByteWriter.writeRecord` writes for it).
    func encoding(of id: PaymentID) -> [UInt8]? { encoded[id] }

    /// The record's encoding, in a buffer of exactly its size.
    static func encode(_ record: PaymentRecord) -> [UInt8] {
        var w = ByteWriter(capacity: 512)
        w.writeRecord(record)
        return w.exactBytes
    }

    /// Decodes what `encode` wrote. It cannot fail short of memory corruption: the bytes
    /// never left this process.
    static func decode(_ bytes: [UInt8]) -> PaymentRecord {
        ByteReader.decodeOwn(bytes, "a payment record") { (r: inout ByteReader) throws(DecodingError) in try r.readRecord() }
    }
}
