/// What the engine asks its shell to do. The shell carries directives out in order.
public enum EngineDirective: Hashable, Sendable {
    /// Commit this atomically (one transaction), after every earlier request, then call
    /// `didPersist(requestID:nowMillis:)`. Requests MUST be committed in id order; several
    /// may share one transaction (group commit).
    case persist(PersistRequest)
    /// Send a message to a peer (dropped if it is not connected).
    case send(to: RegionID, PeerMessage)
    /// Answer a client's write: it is durable at `ack.achieved`.
    case acknowledge(WriteTicket, WriteAck)
    /// The store may delete log entries covered by this vector.
    case compactLog(through: VersionVector)
    /// Close the connection to a peer that broke the protocol.
    case disconnect(RegionID, reason: String)
    /// Read the committed records after store position `after` (0: from the first) that
    /// fit `limit` (a chunk's count and bytes), in the store's own order, and hand their
    /// encodings, the last one's position and whether more may follow to
    /// `snapshotChunkRead` (a snapshot for `peer`, when records are held in a bounded
    /// cache). The order does not matter to the receiver; the store's own order makes the
    /// read sequential on disk.
    case readSnapshotChunk(for: RegionID, read: UInt64, after: UInt64, limit: MessageBudget)
    /// Read the committed log entries of `origin` with seq above `after` that fit `limit`
    /// (a batch's count and bytes), in order, and hand their encodings to
    /// `logEntriesRead` (entries for `peer` older than the ones kept in memory).
    case readLog(for: RegionID, read: UInt64, origin: RegionID, after: UInt64, limit: MessageBudget)
}

/// One atomic unit for the store: new log entries, the new state of every record they
/// touched, conflicts detected, and the vector and clock after them.
public struct PersistRequest: Hashable, Sendable {
    public let id: UInt64
    /// New log entries, each with the encoding the store's log keeps and peers are sent.
    public let entries: [EncodedEntry]
    /// The records these entries (or a snapshot chunk) changed, each once, as they stand
    /// now, with the encoding the store keeps.
    public let records: [EncodedRecord]
    public let conflicts: [ConflictRecord]
    /// The version vector once this request is committed.
    public let vector: VersionVector
    /// The clock high-water mark to store (a restarted node resumes above it).
    public let clockHighWater: HLCTimestamp
    /// When set, log entries covered by this vector must be deleted in the same
    /// transaction (after a snapshot, the log restarts above it).
    public let compactThrough: VersionVector?
    /// This region holds its own history (every write it made that survives anywhere):
    /// the store records it, so a restart does not wait for the peers again.
    public var ownHistoryComplete: Bool = true
    /// The wire state to record (the active format, what each peer speaks), when it
    /// changed: in the same transaction as (or before) the first entry it shapes.
    public var wire: WireRecord? = nil
    /// The membership to record (retired regions, this region's own retirement), when
    /// it changed.
    public var membership: MembershipRecord? = nil
    /// The records are a chunk of a peer's snapshot (the last one sets `compactThrough`):
    /// a store may load them in bulk (see the store's README section).
    public var snapshotChunk = false

    /// Whether a power failure may take this request's commit with nothing lost that
    /// anyone was told: a snapshot chunk before the last, which brings records and no
    /// log entries, wire or membership record. The vector it carries is durable already
    /// (it rises only with committed entries and with the last chunk), so its
    /// acknowledgement claims nothing new; a store that lost it holds no snapshot
    /// vector, and the stream starts over and brings its records again. A store may
    /// commit a group of only such requests without waiting for its fsync; the next
    /// commit that waits for one makes them durable too (the WAL is written in order).
    /// paysim's disk loses such groups when it loses power.
    public var durableLater: Bool {
        snapshotChunk && compactThrough == nil && entries.isEmpty && wire == nil && membership == nil
    }

    /// A chunk of a peer's snapshot as the engine hands one to the store (`vector` on the
    /// last chunk only), for tools that load or time the store without an engine.
    public static func snapshotChunk(id: UInt64, records: [EncodedRecord], lastWithVector vector: VersionVector?)
        -> PersistRequest
    {
        var r = PersistRequest(
            id: id, entries: [], records: records, conflicts: [], vector: vector ?? VersionVector(),
            clockHighWater: HLCTimestamp(rawValue: 0), compactThrough: vector)
        r.snapshotChunk = true
        return r
    }

    /// The same request with other record states (the simulator's faulty disk writes
    /// what it gets wrong).
    public func replacingRecords(_ records: [EncodedRecord]) -> PersistRequest {
        var r = PersistRequest(
            id: id, entries: entries, records: records, conflicts: conflicts, vector: vector,
            clockHighWater: clockHighWater, compactThrough: compactThrough)
        r.ownHistoryComplete = ownHistoryComplete
        r.wire = wire
        r.membership = membership
        r.snapshotChunk = snapshotChunk
        return r
    }
}

/// The shell's handle for a client write awaiting its acknowledgement.
public struct WriteTicket: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (l: WriteTicket, r: WriteTicket) -> Bool { l.rawValue < r.rawValue }
    public var description: String { "ticket-\(rawValue)" }
}

/// How durable a write must be before the client hears back.
public enum Durability: String, Hashable, Sendable, CaseIterable {
    /// Committed to this region's disk.
    case local
    /// Also durable in at least one other region: survives the loss of this region.
    case remote
}

/// The answer to a client write.
public struct WriteAck: Hashable, Sendable {
    /// The payment after the write.
    public let payment: Payment
    /// The version vector that includes the write: a read that presents it sees the write.
    public let sessionToken: VersionVector
    /// The durability reached (`local` when `remote` was asked but timed out).
    public let achieved: Durability
    /// True when the create was an identical replay of an earlier one (nothing written).
    public let replayed: Bool
    /// The write's sequence number in this region's log; nil when nothing was written
    /// (a replay or a patch that changed nothing).
    public let seq: UInt64?

    public init(payment: Payment, sessionToken: VersionVector, achieved: Durability, replayed: Bool, seq: UInt64? = nil)
    {
        self.payment = payment
        self.sessionToken = sessionToken
        self.achieved = achieved
        self.replayed = replayed
        self.seq = seq
    }

    /// The same answer at another durability.
    public func achieving(_ durability: Durability) -> WriteAck {
        WriteAck(payment: payment, sessionToken: sessionToken, achieved: durability, replayed: replayed, seq: seq)
    }
}

/// The immediate answer of `submit`.
public enum SubmitResult: Hashable, Sendable {
    /// Refused; nothing changed.
    case rejected(PaymentError)
    /// Nothing to write (identical replay or no-op patch): answer now with this.
    case answered(WriteAck)
    /// An `.acknowledge` directive for the ticket follows once durable: a new write
    /// (applied in memory with this `seq`), or an answer that wrote nothing (`seq` nil:
    /// an identical replay or a no-op patch) but shows state not yet durable.
    case pending(seq: UInt64?)
}
