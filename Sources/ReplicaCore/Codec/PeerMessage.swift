/// What regions say to each other. Encoded as `version byte, type byte, body`; the
/// transport adds the length prefix and compresses DELTA and SNAPSHOT bodies.
public enum PeerMessage: Hashable, Sendable {
    /// First message on a connection: who I am and what I durably hold.
    case hello(region: RegionID, vector: VersionVector)
    /// A batch of log entries, any origins, in per-origin sequence order.
    case delta(batchID: UInt64, entries: [LogEntry])
    /// What I durably hold now (sent after I stored a batch).
    case ack(vector: VersionVector)
    /// Periodic: what I durably hold, a clock reading to estimate the offset between our
    /// clocks, and the region streaming me a snapshot now, if any (the others hold theirs
    /// back); doubles as a liveness signal and a repair trigger.
    case ping(vector: VersionVector, clock: ClockSample = .none, snapshotFrom: RegionID? = nil)
    /// Part of a snapshot for a peer behind the log horizon. `vector` is set on the last
    /// chunk only: once every chunk is merged, the receiver holds everything it covers.
    /// `part` numbers the chunks of one stream from 0: a receiver merges a stream only
    /// from its first chunk on.
    case snapshot(records: [PaymentRecord], vector: VersionVector?, part: UInt64 = 0)
    /// A DELTA as its sender holds it: each entry in the encoding its memory log and store
    /// keep, written as it is (the same bytes on the wire as `delta`; decoding gives `delta`).
    case encodedDelta(batchID: UInt64, entries: [[UInt8]])
    /// A SNAPSHOT chunk as its sender's store keeps the records: each record's stored
    /// encoding, written as it is (decoding gives `snapshot`).
    case encodedSnapshot(records: [[UInt8]], vector: VersionVector?, part: UInt64)

    /// The wire format version this code writes and reads. 4: a log entry ends with its
    /// actor (who made the change).
    public static let formatVersion: UInt8 = 4

    /// The message type byte.
    public enum Kind: UInt8, Sendable, CaseIterable {
        case hello = 1
        case delta = 2
        case ack = 3
        case ping = 4
        case snapshot = 5
    }

    /// The type of this message.
    public var kind: Kind {
        switch self {
        case .hello: .hello
        case .delta, .encodedDelta: .delta
        case .ack: .ack
        case .ping: .ping
        case .snapshot, .encodedSnapshot: .snapshot
        }
    }

    // MARK: Encoding

    /// The message's bytes.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.writeUInt8(Self.formatVersion)
        w.writeUInt8(kind.rawValue)
        switch self {
        case .hello(let region, let vector):
            w.writeRegion(region)
            w.writeVector(vector)
        case .delta(let batchID, let entries):
            w.writeVarint(batchID)
            w.writeVarint(UInt64(entries.count))
            for e in entries { w.writeEntry(e) }
        case .encodedDelta(let batchID, let entries):
            w.writeVarint(batchID)
            w.writeVarint(UInt64(entries.count))
            for e in entries { w.writeEncoded(e) }
        case .ack(let vector):
            w.writeVector(vector)
        case .ping(let vector, let clock, let snapshotFrom):
            w.writeVector(vector)
            w.writeVarint(clock.sentAtMillis)
            w.writeVarint(clock.echoMillis)
            w.writeVarint(clock.heldMillis)
            w.writeString(snapshotFrom?.name ?? "")
        case .snapshot(let records, let vector, let part):
            w.writeVarint(part)
            w.writeVarint(UInt64(records.count))
            for r in records { w.writeRecord(r) }
            w.writeSnapshotVector(vector)
        case .encodedSnapshot(let records, let vector, let part):
            w.writeVarint(part)
            w.writeVarint(UInt64(records.count))
            for r in records { w.writeEncoded(r) }
            w.writeSnapshotVector(vector)
        }
        return w.bytes
    }

    /// The message as a receiver sees it: the encoded forms decoded (`delta`, `snapshot`),
    /// the others as they are. Throws when held bytes do not decode.
    public func decodedForm() throws(DecodingError) -> PeerMessage {
        switch self {
        case .encodedDelta, .encodedSnapshot: try Self.decode(encoded())
        case .hello, .delta, .ack, .ping, .snapshot: self
        }
    }

    // MARK: Decoding

    /// Decodes one whole message; any malformed, oversized or trailing input throws.
    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> PeerMessage {
        guard bytes.count <= WireLimits.messageBytesMax else {
            throw DecodingError("message of \(bytes.count) bytes exceeds \(WireLimits.messageBytesMax)", at: 0)
        }
        var r = ByteReader(bytes)
        let version = try r.readUInt8()
        guard version == formatVersion else { throw DecodingError("unsupported format version \(version)", at: 0) }
        guard let kind = Kind(rawValue: try r.readUInt8()) else { throw DecodingError("unknown message type", at: 1) }
        let message: PeerMessage
        switch kind {
        case .hello:
            message = .hello(region: try r.readRegion(), vector: try r.readVector())
        case .delta:
            let batchID = try r.readVarint()
            let n = try r.readCount(max: WireLimits.entriesPerBatchMax, what: "entry")
            var entries: [LogEntry] = []
            entries.reserveCapacity(n)
            for _ in 0..<n { entries.append(try r.readEntry()) }
            message = .delta(batchID: batchID, entries: entries)
        case .ack:
            message = .ack(vector: try r.readVector())
        case .ping:
            let vector = try r.readVector()
            let clock = ClockSample(
                sentAtMillis: try r.readVarint(), echoMillis: try r.readVarint(), heldMillis: try r.readVarint())
            let at = r.offset
            let name = try r.readString(maxBytes: WireLimits.identifierBytesMax, what: "region")
            var snapshotFrom: RegionID?
            if !name.isEmpty {
                guard let region = RegionID(name) else { throw DecodingError("invalid region name", at: at) }
                snapshotFrom = region
            }
            message = .ping(vector: vector, clock: clock, snapshotFrom: snapshotFrom)
        case .snapshot:
            let part = try r.readVarint()
            let n = try r.readCount(max: WireLimits.recordsPerChunkMax, what: "record")
            var records: [PaymentRecord] = []
            records.reserveCapacity(n)
            for _ in 0..<n { records.append(try r.readRecord()) }
            let at = r.offset
            let vector: VersionVector?
            switch try r.readUInt8() {
            case 0: vector = nil
            case 1: vector = try r.readVector()
            default: throw DecodingError("invalid snapshot vector tag", at: at)
            }
            message = .snapshot(records: records, vector: vector, part: part)
        }
        try r.expectEnd()
        return message
    }
}

extension ByteWriter {
    /// A snapshot chunk's trailer: 0, or 1 and the vector (last chunk only).
    mutating func writeSnapshotVector(_ vector: VersionVector?) {
        if let vector {
            writeUInt8(1)
            writeVector(vector)
        } else {
            writeUInt8(0)
        }
    }
}
