import ReplicaCore

/// How records, entries and values become columns, and back.
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

    /// `{"field":"wall.counter@region",…}`: the per-field stamps, readable in `sqlite3`.
    static func stampsJSON(_ r: PaymentRecord) -> String {
        // Built as bytes: this runs for every write on the commit path.
        var out: [UInt8] = [0x7B]
        out.reserveCapacity(400)
        for field in r.presentFields {
            let stamp = r[field]!.stamp
            if out.count > 1 { out.append(0x2C) }
            out.append(0x22)
            out += field.description.utf8
            out += [0x22, 0x3A, 0x22]
            appendDecimal(stamp.time.wallMillis, to: &out)
            out.append(0x2E)
            appendDecimal(UInt64(stamp.time.counter), to: &out)
            out.append(0x40)
            out += stamp.region.name.utf8
            out.append(0x22)
        }
        out.append(0x7D)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                buf[count] = UInt8(0x30 + n % 10)
                n /= 10
                count += 1
            } while n > 0
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buf[i]) }
        }
    }
}
