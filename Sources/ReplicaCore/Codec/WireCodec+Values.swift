// MARK: - Encoding of identifiers, stamps, values, vectors, entries and records

extension ByteWriter {
    mutating func writeRegion(_ r: RegionID) { writeString(r.name) }

    mutating func writeStamp(_ s: Stamp) {
        writeUInt64(s.time.rawValue)
        writeRegion(s.region)
    }

    /// A field value: tag byte, then the value.
    public mutating func writeFieldValue(_ v: FieldValue) {
        switch v {
        case .absent: writeUInt8(0)
        case .text(let s):
            writeUInt8(1)
            writeString(s)
        case .integer(let n):
            writeUInt8(2)
            writeSignedVarint(n)
        case .metadata(let pairs):
            writeUInt8(3)
            writeVarint(UInt64(pairs.count))
            for p in pairs {
                writeString(p.key)
                writeString(p.value)
            }
        }
    }

    /// A vector, origins in sorted order (so equal vectors encode to equal bytes).
    public mutating func writeVector(_ v: VersionVector) {
        let entries = v.sortedEntries
        writeVarint(UInt64(entries.count))
        for e in entries {
            writeRegion(e.origin)
            writeVarint(e.seq)
        }
    }

    /// A payment id as its 26 base-32 symbols packed in 17 bytes (the `pay_` prefix is implied).
    mutating func writePaymentID(_ id: PaymentID) {
        for b in CrockfordBase32.pack(id.rawValue.dropFirst(PaymentID.prefix.count))! { writeUInt8(b) }
    }

    /// An entry as the newest format (and the store) keeps it; format 3 (`wire` 3) has no
    /// actor at the end.
    public mutating func writeEntry(_ e: LogEntry, wire: UInt8 = WireVersion.current) {
        writeRegion(e.origin)
        writeVarint(e.seq)
        writeUInt64(e.hlc.rawValue)
        writePaymentID(e.paymentID)
        // A create's fingerprint is derivable from its fields: flag it (low bit of the
        // count) instead of sending 26 random characters the receiver can compute.
        var changes = e.changes[...]
        var derived = false
        if let last = changes.last, last.field == .requestFingerprint, last.base == nil, last.depth == 1,
            last.value == .text(CreatePayment.fingerprint(of: changes.dropLast().map { ($0.field, $0.value) }))
        {
            changes = changes.dropLast()
            derived = true
        }
        writeVarint(UInt64(changes.count) << 1 | (derived ? 1 : 0))
        for c in changes {
            writeUInt8(c.field.rawValue)
            writeFieldValue(c.value)
            writeOptionalStamp(c.base)
            writeVarint(UInt64(c.depth))
        }
        // Last, so that format 3's entries (kept in stores made before) become this
        // format's by appending one byte: an empty actor.
        if wire >= WireVersion.actorSince { writeString(e.actor ?? "") }
    }

    /// A record: its id and every present register, in field order.
    public mutating func writeRecord(_ r: PaymentRecord) {
        writePaymentID(r.id)
        writeVarint(UInt64(r.presentCount))
        for (f, reg) in r.presentRegisters {
            writeUInt8(f.rawValue)
            writeFieldValue(reg.value)
            writeStamp(reg.stamp)
            writeOptionalStamp(reg.base)
            writeVarint(UInt64(reg.depth))
        }
    }

    mutating func writeOptionalStamp(_ s: Stamp?) {
        if let s {
            writeUInt8(1)
            writeStamp(s)
        } else {
            writeUInt8(0)
        }
    }
}

// MARK: - Decoding, with every limit checked

extension ByteReader {
    mutating func readRegion() throws(DecodingError) -> RegionID {
        let start = offset
        let name = try readString(maxBytes: WireLimits.identifierBytesMax, what: "region")
        guard let region = RegionID(name) else { throw DecodingError("invalid region name", at: start) }
        return region
    }

    mutating func readPaymentID() throws(DecodingError) -> PaymentID {
        let start = offset
        let packed = try readBytes(PaymentID.packedBytes)
        guard let body = CrockfordBase32.unpack(packed, characters: PaymentID.bodyLength),
            let id = PaymentID(PaymentID.prefix + body)
        else { throw DecodingError("invalid payment id", at: start) }
        return id
    }

    mutating func readStamp() throws(DecodingError) -> Stamp {
        let time = HLCTimestamp(rawValue: try readUInt64())
        return Stamp(time: time, region: try readRegion())
    }

    mutating func readOptionalStamp() throws(DecodingError) -> Stamp? {
        let start = offset
        switch try readUInt8() {
        case 0: return nil
        case 1: return try readStamp()
        default: throw DecodingError("invalid optional-stamp tag", at: start)
        }
    }

    public mutating func readFieldValue() throws(DecodingError) -> FieldValue {
        let start = offset
        switch try readUInt8() {
        case 0: return .absent
        case 1: return .text(try readString(maxBytes: WireLimits.textBytesMax, what: "text value"))
        case 2: return .integer(try readSignedVarint())
        case 3:
            let n = try readCount(max: WireLimits.metadataPairsMax, what: "metadata pair")
            var pairs: [MetadataPair] = []
            pairs.reserveCapacity(n)
            for _ in 0..<n {
                let key = try readString(maxBytes: WireLimits.textBytesMax, what: "metadata key")
                let value = try readString(maxBytes: WireLimits.textBytesMax, what: "metadata value")
                if let last = pairs.last, !last.key.utf8.lexicographicallyPrecedes(key.utf8) {
                    throw DecodingError("metadata keys not strictly sorted", at: start)
                }
                pairs.append(MetadataPair(key: key, value: value))
            }
            return .metadata(pairs)
        default:
            throw DecodingError("unknown field value tag", at: start)
        }
    }

    /// A value for `field`: its kind must match the field, and statuses and methods must
    /// be known ones, so a peer cannot plant a value no client could have written.
    mutating func readValue(for field: PaymentField) throws(DecodingError) -> FieldValue {
        let start = offset
        let value = try readFieldValue()
        guard let kind = value.kind else {
            if field.isOptional { return value }
            throw DecodingError("field \(field) cannot be absent", at: start)
        }
        guard kind == field.valueKind else { throw DecodingError("wrong value kind for field \(field)", at: start) }
        if field == .status, PaymentStatus(rawValue: value.text!) == nil {
            throw DecodingError("unknown status", at: start)
        }
        if field == .method, PaymentMethod(rawValue: value.text!) == nil {
            throw DecodingError("unknown method", at: start)
        }
        return value
    }

    mutating func readDepth() throws(DecodingError) -> UInt32 {
        let start = offset
        let depth = try readVarint()
        guard depth >= 1 && depth <= UInt64(UInt32.max) else {
            throw DecodingError("field depth out of range", at: start)
        }
        return UInt32(depth)
    }

    mutating func readField() throws(DecodingError) -> PaymentField {
        let start = offset
        guard let field = PaymentField(rawValue: try readUInt8()) else {
            throw DecodingError("unknown field number", at: start)
        }
        return field
    }

    public mutating func readVector() throws(DecodingError) -> VersionVector {
        let start = offset
        let n = try readCount(max: WireLimits.regionsMax, what: "vector region")
        var vector = VersionVector()
        var previous: RegionID?
        for _ in 0..<n {
            let region = try readRegion()
            if let previous, !(previous < region) {
                throw DecodingError("vector regions not strictly sorted", at: start)
            }
            previous = region
            vector[region] = try readVarint()
        }
        return vector
    }

    /// An entry in format `wire` (the store keeps the newest).
    public mutating func readEntry(wire: UInt8 = WireVersion.current) throws(DecodingError) -> LogEntry {
        let origin = try readRegion()
        let seqAt = offset
        let seq = try readVarint()
        guard seq > 0 else { throw DecodingError("sequence numbers start at 1", at: seqAt) }
        let hlc = HLCTimestamp(rawValue: try readUInt64())
        let id = try readPaymentID()
        let start = offset
        let countAndFlag = try readVarint()
        let derived = countAndFlag & 1 == 1
        guard countAndFlag >> 1 <= UInt64(WireLimits.changesPerEntryMax) else {
            throw DecodingError(
                "\(countAndFlag >> 1) field changes exceed the limit of \(WireLimits.changesPerEntryMax)", at: start)
        }
        let n = Int(countAndFlag >> 1)
        guard n > 0 else { throw DecodingError("an entry must change at least one field", at: start) }
        var changes: [FieldChange] = []
        changes.reserveCapacity(n)
        for _ in 0..<n {
            let field = try readField()
            if let last = changes.last, !(last.field < field) {
                throw DecodingError("entry fields not strictly ascending", at: start)
            }
            let value = try readValue(for: field)
            let base = try readOptionalStamp()
            changes.append(FieldChange(field: field, value: value, base: base, depth: try readDepth()))
        }
        if derived {
            guard changes.last!.field < .requestFingerprint else {
                throw DecodingError("a derived fingerprint follows the last field", at: start)
            }
            let fingerprint = CreatePayment.fingerprint(of: changes.map { ($0.field, $0.value) })
            changes.append(FieldChange(field: .requestFingerprint, value: .text(fingerprint), base: nil, depth: 1))
        }
        guard wire >= WireVersion.actorSince else {
            return LogEntry(origin: origin, seq: seq, hlc: hlc, paymentID: id, changes: changes, actor: nil)
        }
        let actorAt = offset
        let actor = try readString(maxBytes: ActorName.bytesMax, what: "actor")
        if !actor.isEmpty, let problem = ActorName.problem(actor) { throw DecodingError(problem, at: actorAt) }
        return LogEntry(
            origin: origin, seq: seq, hlc: hlc, paymentID: id, changes: changes, actor: actor.isEmpty ? nil : actor)
    }

    public mutating func readRecord() throws(DecodingError) -> PaymentRecord {
        var record = PaymentRecord(id: try readPaymentID())
        let start = offset
        let n = try readCount(max: PaymentRecord.fields.count, what: "register")
        var previous: PaymentField?
        for _ in 0..<n {
            let field = try readField()
            if let previous, !(previous < field) {
                throw DecodingError("record fields not strictly ascending", at: start)
            }
            previous = field
            let value = try readValue(for: field)
            let stamp = try readStamp()
            let base = try readOptionalStamp()
            record.merge(FieldRegister(value: value, stamp: stamp, base: base, depth: try readDepth()), into: field)
        }
        return record
    }
}
