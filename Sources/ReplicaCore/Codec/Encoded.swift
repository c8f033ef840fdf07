/// A log entry with its wire encoding, made once where the entry is made. The store's
/// log table, the memory log and the DELTAs a region sends all carry these same bytes:
/// nothing on the way from a write to a peer encodes the entry again.
public struct EncodedEntry: Hashable, Sendable {
    public let entry: LogEntry
    /// What `ByteWriter.writeEntry` writes for `entry`.
    public let bytes: [UInt8]

    /// Encodes `entry`.
    public init(_ entry: LogEntry) {
        var w = ByteWriter(capacity: 256)
        w.writeEntry(entry)
        self.entry = entry
        self.bytes = w.exactBytes
    }
}

/// A payment record with its wire encoding: the bytes the record cache holds, the store
/// writes to its `registers` column, and a snapshot chunk sends as they are.
public struct EncodedRecord: Hashable, Sendable {
    public let record: PaymentRecord
    /// What `ByteWriter.writeRecord` writes for `record`.
    public let bytes: [UInt8]

    /// Encodes `record`.
    public init(_ record: PaymentRecord) {
        self.init(record, bytes: RecordTable.encode(record))
    }

    /// `record` with `bytes`, which MUST be its encoding (the cache's copy of it).
    init(_ record: PaymentRecord, bytes: [UInt8]) {
        self.record = record
        self.bytes = bytes
    }
}

/// The start of an entry's encoding: origin, seq and stamp, read without decoding the rest.
public struct EntryHeader: Hashable, Sendable {
    public let origin: RegionID
    public let seq: UInt64
    public let hlc: HLCTimestamp

    /// Reads the header of `bytes`, an entry's encoding.
    public init(of bytes: [UInt8]) throws(DecodingError) {
        var reader = ByteReader(bytes)
        origin = try reader.readRegion()
        seq = try reader.readVarint()
        hlc = HLCTimestamp(rawValue: try reader.readUInt64())
    }
}

extension PaymentRecord {
    /// The id at the start of a record's encoding, read without decoding the rest.
    public static func id(ofEncoded bytes: [UInt8]) throws(DecodingError) -> PaymentID {
        var reader = ByteReader(bytes)
        return try reader.readPaymentID()
    }
}

extension LogEntry {
    /// The payment an entry's encoding changes, read without decoding the rest.
    public static func paymentID(ofEncoded bytes: [UInt8]) throws(DecodingError) -> PaymentID {
        var reader = ByteReader(bytes)
        _ = try reader.readRegion()
        _ = try reader.readVarint()
        _ = try reader.readUInt64()
        return try reader.readPaymentID()
    }
}

extension EntryHeader {
    /// The header of `entry`.
    public init(_ entry: LogEntry) {
        origin = entry.origin
        seq = entry.seq
        hlc = entry.hlc
    }
}
