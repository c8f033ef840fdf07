/// The durable log entries a node still keeps in memory to send to peers, per origin,
/// in sequence order. Entries below an origin's `firstAvailable` are gone (acked by
/// every peer, or trimmed to bound memory); a peer that still needs them gets a snapshot.
///
/// Entries are held in their wire encoding (about 150 bytes for a create, against some
/// 1.4 KB as `LogEntry` values) and decoded when read; the stamp's wall time is kept
/// beside each so the relay delay can be checked without decoding.
public struct OutgoingLog: Sendable {
    private struct StoredEntry: Sendable {
        let wallMillis: UInt64
        let bytes: [UInt8]

        func decoded() -> LogEntry {
            ByteReader.decodeOwn(bytes, "a log entry") { (r: inout ByteReader) throws(DecodingError) in
                try r.readEntry()
            }
        }
    }

    private struct OriginTail: Sendable {
        var entries: [StoredEntry] = []
        var head = 0
        /// The seq of `entries[head]`, or of the next entry to come when empty.
        var firstSeq: UInt64

        var count: Int { entries.count - head }

        mutating func append(_ entry: StoredEntry, origin: RegionID, seq: UInt64) {
            if count == 0 { firstSeq = seq }
            precondition(
                seq == firstSeq + UInt64(count),
                "log gap: origin \(origin) expected seq \(firstSeq + UInt64(count)), got \(seq)")
            entries.append(entry)
        }

        /// Drops entries up to `target`; returns how many.
        mutating func trim(through target: UInt64) -> Int {
            guard target >= firstSeq else { return 0 }
            let n = Int(min(UInt64(count), target + 1 - firstSeq))
            head += n
            firstSeq = target + 1
            if count == 0 {
                entries.removeAll(keepingCapacity: false)
                head = 0
            }
            compactStorage()
            return n
        }

        mutating func compactStorage() {
            if head > 4_096 && head * 2 > entries.count {
                entries.removeFirst(head)
                head = 0
            }
        }
    }

    private var tails = RegionMap<OriginTail>()
    /// Entries held, over all origins.
    public private(set) var count = 0

    /// A log holding `entries` (sorted by origin then seq, contiguous per origin), whose
    /// older entries up to `horizon` were compacted away.
    /// `encoded` are more entries, after `entries`, each as `ByteWriter.writeEntry` wrote
    /// it (as a store keeps them); each MUST decode.
    public init(entries: [LogEntry] = [], encoded: [[UInt8]] = [], horizon: VersionVector = VersionVector()) {
        for origin in horizon.origins { tails[origin] = OriginTail(firstSeq: horizon[origin] + 1) }
        for e in entries { append(e) }
        for bytes in encoded { append(encoded: bytes) }
    }

    /// The lowest seq of `origin` still held (or the next expected one when none are).
    public func firstAvailable(_ origin: RegionID) -> UInt64 { tails[origin]?.firstSeq ?? 1 }

    /// Origins with a tail, sorted.
    public var origins: [RegionID] { tails.keys }

    /// Adds the next entry of its origin. Entries MUST arrive contiguously per origin.
    public mutating func append(_ entry: LogEntry) {
        var w = ByteWriter(capacity: 512)
        w.writeEntry(entry)
        store(StoredEntry(wallMillis: entry.hlc.wallMillis, bytes: w.exactBytes), origin: entry.origin, seq: entry.seq)
    }

    /// Adds the next entry of its origin with its encoding (as committed), kept as it is.
    public mutating func append(_ entry: EncodedEntry) {
        store(
            StoredEntry(wallMillis: entry.entry.hlc.wallMillis, bytes: entry.bytes), origin: entry.entry.origin,
            seq: entry.entry.seq)
    }

    /// Adds the next entry of its origin given in its encoding (from a store).
    public mutating func append(encoded bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        do {
            let origin = try reader.readRegion()
            let seq = try reader.readVarint()
            let hlc = HLCTimestamp(rawValue: try reader.readUInt64())
            store(StoredEntry(wallMillis: hlc.wallMillis, bytes: bytes), origin: origin, seq: seq)
        } catch {
            preconditionFailure("a recovered log entry does not start with origin, seq and stamp: \(error)")
        }
    }

    private mutating func store(_ entry: StoredEntry, origin: RegionID, seq: UInt64) {
        // Mutate the tail in place: copying it out of the dictionary would copy the array.
        if tails[origin] == nil { tails[origin] = OriginTail(firstSeq: seq) }
        tails[origin]!.append(entry, origin: origin, seq: seq)
        count += 1
    }

    /// Up to `limit` entries of `origin` with seq above `after`, in order; with
    /// `wallMillisAtMost`, only those up to the first stamped later than it.
    public func entries(of origin: RegionID, after: UInt64, limit: Int, wallMillisAtMost: UInt64? = nil) -> [LogEntry] {
        stored(of: origin, after: after, limit: limit, wallMillisAtMost: wallMillisAtMost).map { $0.decoded() }
    }

    /// The same entries in their wire encoding, as held (nothing decoded).
    public func encodedEntries(of origin: RegionID, after: UInt64, limit: Int, wallMillisAtMost: UInt64? = nil)
        -> [[UInt8]]
    {
        stored(of: origin, after: after, limit: limit, wallMillisAtMost: wallMillisAtMost).map(\.bytes)
    }

    /// The entries of `origin` with seq above `after` and at most `seqAtMost` that fit
    /// what is left of `budget` (counted in it), in order, in their wire encoding; with
    /// `wallMillisAtMost`, only those up to the first stamped later than it.
    public func encodedEntries(
        of origin: RegionID, after: UInt64, seqAtMost: UInt64, within budget: inout MessageBudget,
        wallMillisAtMost: UInt64? = nil
    ) -> [[UInt8]] {
        guard seqAtMost > after, !budget.isFull else { return [] }
        let limit = min(budget.countMax - budget.count, Int(clamping: seqAtMost - after))
        var out: [[UInt8]] = []
        for entry in stored(of: origin, after: after, limit: limit, wallMillisAtMost: wallMillisAtMost) {
            guard budget.take(entry.bytes.count) else { break }
            out.append(entry.bytes)
        }
        return out
    }

    private func stored(of origin: RegionID, after: UInt64, limit: Int, wallMillisAtMost: UInt64?) -> ArraySlice<
        StoredEntry
    > {
        guard let tail = tails[origin], tail.count > 0, after + 1 >= tail.firstSeq else { return [] }
        let start = tail.head + Int(after + 1 - tail.firstSeq)
        guard start < tail.entries.count else { return [] }
        var slice = tail.entries[start..<(limit >= tail.entries.count - start ? tail.entries.count : start + limit)]
        if let bound = wallMillisAtMost, let late = slice.firstIndex(where: { $0.wallMillis > bound }) {
            slice = slice[..<late]
        }
        return slice
    }

    /// Every entry held, by origin then seq.
    public func allEntries() -> [LogEntry] {
        origins.flatMap { entries(of: $0, after: firstAvailable($0) - 1, limit: Int.max) }
    }

    /// The entry `(origin, seq)`, if still held.
    public func entry(of origin: RegionID, seq: UInt64) -> LogEntry? {
        guard let tail = tails[origin], seq >= tail.firstSeq, seq < tail.firstSeq + UInt64(tail.count) else {
            return nil
        }
        return tail.entries[tail.head + Int(seq - tail.firstSeq)].decoded()
    }

    /// The wall time (ms) of entry `(origin, seq)`'s stamp, if still held: kept beside
    /// the entry, so nothing is decoded.
    public func wallMillis(of origin: RegionID, seq: UInt64) -> UInt64? {
        guard let tail = tails[origin], seq >= tail.firstSeq, seq < tail.firstSeq + UInt64(tail.count) else {
            return nil
        }
        return tail.entries[tail.head + Int(seq - tail.firstSeq)].wallMillis
    }

    /// Drops every entry covered by `vector`. Returns how many were dropped.
    @discardableResult
    public mutating func trim(through vector: VersionVector) -> Int {
        var dropped = 0
        for origin in vector.origins {
            if tails[origin] == nil { tails[origin] = OriginTail(firstSeq: 1) }
            dropped += tails[origin]!.trim(through: vector[origin])
        }
        count -= dropped
        return dropped
    }

    /// The vector covering everything no longer held (the compaction horizon).
    public var horizon: VersionVector {
        var v = VersionVector()
        for origin in origins { v[origin] = firstAvailable(origin) - 1 }
        return v
    }

    /// The horizon that would leave at most `max` entries held, dropping the oldest
    /// quarter of the largest tails first.
    public func horizonKeeping(atMost max: Int) -> VersionVector {
        var target = horizon
        var excess = count - max
        guard excess > 0 else { return target }
        let largestFirst = origins.sorted {
            let (a, b) = (tails[$0]!.count, tails[$1]!.count)
            return a != b ? a > b : $0 < $1
        }
        for origin in largestFirst where excess > 0 {
            let tail = tails[origin]!
            let drop = Swift.min(tail.count, Swift.max(excess, tail.count / 4))
            target[origin] = tail.firstSeq - 1 + UInt64(drop)
            excess -= drop
        }
        return target
    }
}
