/// What regions say to each other. Encoded as `version byte, type byte, body`; the
/// transport adds the length prefix and compresses DELTA and SNAPSHOT bodies.
public enum PeerMessage: Hashable, Sendable {
    /// First message on a connection: who I am and what I durably hold; from format 4,
    /// what my binary speaks and the format the cluster has turned on (nil in format 3).
    case hello(region: RegionID, vector: VersionVector, wire: WireAnnouncement? = nil)
    /// A batch of log entries, any origins, in per-origin sequence order.
    case delta(batchID: UInt64, entries: [LogEntry])
    /// What I durably hold now (sent after I stored a batch).
    case ack(vector: VersionVector)
    /// Periodic: what I durably hold, a clock reading to estimate the offset between our
    /// clocks, and the region streaming me a snapshot now, if any (the others hold theirs
    /// back); doubles as a liveness signal and a repair trigger. From format 4 it repeats
    /// the cluster's active format as the sender has recorded it (0 in format 3).
    case ping(vector: VersionVector, clock: ClockSample = .none, snapshotFrom: RegionID? = nil, wireActive: UInt8 = 0)
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

    /// The newest wire format this code writes and reads (`WireVersion`).
    public static let formatVersion: UInt8 = WireVersion.current

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

    /// The message's bytes in the newest format.
    public func encoded() -> [UInt8] {
        // Format 4 can carry every message.
        try! encoded(wire: WireVersion.current)
    }

    /// The message's bytes in format `wire` (one of `WireVersion.supported`). Throws when
    /// that format cannot carry it: a log entry with an actor in format 3.
    public func encoded(wire: UInt8) throws(WireVersionError) -> [UInt8] {
        precondition(WireVersion.supported.contains(wire), "wire format \(wire) is not spoken here")
        var w = ByteWriter()
        w.writeUInt8(wire)
        w.writeUInt8(kind.rawValue)
        switch self {
        case .hello(let region, let vector, let announcement):
            w.writeRegion(region)
            w.writeVector(vector)
            if wire >= 4 { w.writeAnnouncement(announcement) }
        case .delta(let batchID, let entries):
            w.writeVarint(batchID)
            w.writeVarint(UInt64(entries.count))
            for e in entries {
                guard wire >= WireVersion.actorSince || e.actor == nil else { throw Self.actorRefused(e, wire) }
                w.writeEntry(e, wire: wire)
            }
        case .encodedDelta(let batchID, let entries):
            w.writeVarint(batchID)
            w.writeVarint(UInt64(entries.count))
            for e in entries {
                if wire >= WireVersion.actorSince {
                    w.writeEncoded(e)
                } else {
                    // A kept entry ends with its actor; an empty one is a single zero byte
                    // (a name's last byte is never zero), which format 3 leaves out.
                    guard e.last == 0 else {
                        throw WireVersionError("a log entry with an actor cannot be sent in wire format \(wire)")
                    }
                    w.writeEncoded(Array(e.dropLast()))
                }
            }
        case .ack(let vector):
            w.writeVector(vector)
        case .ping(let vector, let clock, let snapshotFrom, let wireActive):
            w.writeVector(vector)
            w.writeVarint(clock.sentAtMillis)
            w.writeVarint(clock.echoMillis)
            w.writeVarint(clock.heldMillis)
            w.writeString(snapshotFrom?.name ?? "")
            if wire >= 4 { w.writeUInt8(wireActive) }
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

    static func actorRefused(_ e: LogEntry, _ wire: UInt8) -> WireVersionError {
        WireVersionError("entry \(e.origin):\(e.seq) has an actor, which wire format \(wire) cannot carry")
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

    /// Decodes one whole message in format `wire` (the link's); any other format, and any
    /// malformed, oversized or trailing input, throws.
    public static func decode(_ bytes: [UInt8], wire: UInt8 = WireVersion.current) throws(DecodingError) -> PeerMessage
    {
        guard bytes.count <= WireLimits.messageBytesMax else {
            throw DecodingError("message of \(bytes.count) bytes exceeds \(WireLimits.messageBytesMax)", at: 0)
        }
        var r = ByteReader(bytes)
        let version = try r.readUInt8()
        guard version == wire else {
            throw DecodingError("format version \(version) on a link that runs format \(wire)", at: 0)
        }
        guard let kind = Kind(rawValue: try r.readUInt8()) else { throw DecodingError("unknown message type", at: 1) }
        let message: PeerMessage
        switch kind {
        case .hello:
            let region = try r.readRegion()
            let vector = try r.readVector()
            message = .hello(region: region, vector: vector, wire: wire >= 4 ? try r.readAnnouncement() : nil)
        case .delta:
            let batchID = try r.readVarint()
            let n = try r.readCount(max: WireLimits.entriesPerBatchMax, what: "entry")
            var entries: [LogEntry] = []
            entries.reserveCapacity(n)
            for _ in 0..<n { entries.append(try r.readEntry(wire: wire)) }
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
            let wireActive: UInt8 = wire >= 4 ? try r.readUInt8() : 0
            message = .ping(vector: vector, clock: clock, snapshotFrom: snapshotFrom, wireActive: wireActive)
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
    /// A format-4 HELLO's announcement: 0, or 1, the formats spoken, the active one and
    /// the release.
    mutating func writeAnnouncement(_ a: WireAnnouncement?) {
        guard let a else { return writeUInt8(0) }
        writeUInt8(1)
        writeUInt8(a.speaks.lowerBound)
        writeUInt8(a.speaks.upperBound)
        writeUInt8(a.active)
        writeString(a.release)
    }

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

extension ByteReader {
    mutating func readAnnouncement() throws(DecodingError) -> WireAnnouncement? {
        let at = offset
        switch try readUInt8() {
        case 0: return nil
        case 1: break
        default: throw DecodingError("invalid announcement tag", at: at)
        }
        let low = try readUInt8()
        let high = try readUInt8()
        guard low >= 1, low <= high else { throw DecodingError("invalid wire format range \(low)-\(high)", at: at) }
        let active = try readUInt8()
        guard active >= 1 else { throw DecodingError("invalid active wire format 0", at: at) }
        let releaseAt = offset
        let release = try readString(maxBytes: WireAnnouncement.releaseBytesMax, what: "release")
        guard !release.isEmpty, release.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw DecodingError(
                "a release is 1-\(WireAnnouncement.releaseBytesMax) printable characters", at: releaseAt)
        }
        return WireAnnouncement(speaks: low...high, active: active, release: release)
    }
}
