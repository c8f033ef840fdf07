import ReplicaCore

/// How records, entries and values become columns, and back.
enum RowEncoding {
    static func recordBytes(_ r: PaymentRecord) -> [UInt8] {
        var w = ByteWriter(capacity: 256)
        w.writeRecord(r)
        return w.bytes
    }

    static func record(_ bytes: [UInt8]) throws -> PaymentRecord {
        var reader = ByteReader(bytes)
        let r = try reader.readRecord()
        try reader.expectEnd()
        return r
    }

    static func entryBytes(_ e: LogEntry) -> [UInt8] {
        var w = ByteWriter(capacity: 160)
        w.writeEntry(e)
        return w.bytes
    }

    static func entry(_ bytes: [UInt8]) throws -> LogEntry {
        var reader = ByteReader(bytes)
        let e = try reader.readEntry()
        try reader.expectEnd()
        return e
    }

    /// `{"field":"wall.counter@region",…}`: the per-field stamps, readable in `sqlite3`.
    static func stampsJSON(_ r: PaymentRecord) -> String {
        var out = "{"
        for field in r.presentFields {
            let stamp = r[field]!.stamp
            if out.utf8.count > 1 { out += "," }
            out += "\"" + field.description + "\":\"" + String(stamp.time.wallMillis) + "." + String(stamp.time.counter)
                + "@" + stamp.region.name + "\""
        }
        return out + "}"
    }

    /// A field value as JSON text (for the conflict log and metadata column).
    static func json(_ v: FieldValue) -> String {
        switch v {
        case .absent: "null"
        case .text(let s): quote(s)
        case .integer(let n): String(n)
        case .metadata(let pairs): "{" + pairs.map { "\(quote($0.key)):\(quote($0.value))" }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { return "\"" + s + "\"" }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
