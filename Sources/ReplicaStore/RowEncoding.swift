import ReplicaCore

/// Stored records and log entries, read back from their columns.
enum RowEncoding {
    static func record(_ bytes: [UInt8]) throws -> PaymentRecord {
        var reader = ByteReader(bytes)
        let r = try reader.readRecord()
        try reader.expectEnd()
        return r
    }

    static func entry(_ bytes: [UInt8]) throws -> LogEntry {
        var reader = ByteReader(bytes)
        let e = try reader.readEntry()
        try reader.expectEnd()
        return e
    }
}
