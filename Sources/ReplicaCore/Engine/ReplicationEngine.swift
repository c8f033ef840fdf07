/// One region's replication logic as a pure state machine.
///
/// The engine is a value type with one mutating method per input: a client write
/// (`submit`), a commit finished (`didPersist`), a peer connected, disconnected or sent
/// a message, a timer tick. Each returns `EngineDirective`s for the shell to carry out.
/// The engine MUST NOT read clocks, draw random numbers, do I/O or start Tasks: the
/// time is an argument (`nowMillis`), so the node and the simulator run the very same code.
///
/// Invariants:
/// - `vector` covers what is applied in memory; `durableVector` what is committed.
///   Only committed entries are sent to peers or acknowledged to clients.
/// - Entries of one origin are applied in sequence order, each once.
/// - Records merge field by field (`PaymentRecord.merge`), so any delivery order,
///   duplicate or relay ends in the same state.
public struct ReplicationEngine: Sendable {
    /// The tuning and the cluster's regions (`addPeer` adds one while it runs).
    public internal(set) var config: EngineConfig
    public var region: RegionID { config.region }

    // MARK: Replicated state
    var clock: HybridLogicalClock
    var records: RecordTable
    /// Applied in memory (includes writes not yet committed).
    public internal(set) var vector: VersionVector
    /// Committed to the store.
    public internal(set) var durableVector: VersionVector
    /// Durable entries kept for peers, or the newest of them (`logCacheEntries`).
    var log: OutgoingLog
    /// What the store's log table no longer holds: a peer behind it gets a snapshot.
    var storeHorizon: VersionVector

    // MARK: Protocol state
    var peers: RegionMap<PeerState>
    var nextPersistID: UInt64 = 1
    var pendingPersists: [PendingPersist] = []
    var waitingRemote: [RemoteWait] = []
    var waitingRemoteHead = 0
    /// The highest seq of our own origin a peer reported in its HELLO while this
    /// region's store did not hold its own history: below it, that history is still
    /// arriving back (a new or wiped store), and local writes wait.
    var ownHistorySeen: UInt64 = 0
    /// Peers whose HELLO a store without its own history still waits for (empty once
    /// the store holds it). Until every peer has said what it holds of this region's
    /// writes, a new write could reuse a sequence number the region used before.
    var ownHistoryAwaited: Set<RegionID> = []
    /// Set once the own history is complete.
    var ownHistoryKnown = false
    /// This region's own seq when its history became complete in this process (nil when
    /// the store held it at start). Until it writes past it, a peer may still show more of
    /// its old history (one that committed it after its HELLO): that reopens the recovery.
    var ownHistoryResumedAt: UInt64?
    var nextBatchID: UInt64 = 1
    /// The peer streaming this region a snapshot now, and when its last chunk came:
    /// chunks from any other peer are declined meanwhile (one source at a time).
    var snapshotSource: (peer: RegionID, lastChunkMillis: UInt64)?
    /// Numbers the store reads made for peers (snapshot chunks, older log entries).
    var nextStoreRead: UInt64 = 1
    /// The wall time of the last input: a step from it moves every clock reading (see
    /// `noteWallTime`).
    var lastWallMillis: UInt64
    /// The cluster's active wire format and what each peer's binary speaks.
    var wire: WireState
    /// Regions retired from the cluster, with the most of their own writes each was last
    /// heard to hold (`RetiredRegion`).
    var retired: [RegionID: UInt64] = [:]
    /// This region is being retired: it takes no client writes.
    var retiring = false
    /// This region has been retired (drained, recorded): its store serves no more.
    var selfRetired = false
    /// The membership changed since the store last got it.
    var membershipUnrecorded = false
    public internal(set) var counters = EngineCounters()

    /// A node resuming from what its store holds (all empty for a brand-new node), at
    /// wall time `nowMillis`: it takes no write before it has read its peers' clocks, or
    /// `clockFirstReadingMillis` after this. `counters` and `clockReadings` carry what an
    /// engine this one replaces in the same process knew (counts only grow, as metrics
    /// require; the clock is the same one, so its fresh readings still hold).
    public init(
        config: EngineConfig, recovered: RecoveredState = RecoveredState(), counters: EngineCounters = EngineCounters(),
        clockReadings: [RegionID: ClockOffset] = [:], nowMillis: UInt64
    ) {
        self.counters = counters
        self.lastWallMillis = nowMillis
        do { try config.validate() } catch {
            preconditionFailure("invalid engine config (validate it before starting): \(error)")
        }
        self.config = config
        self.clock = HybridLogicalClock(
            highWaterMark: recovered.clockHighWater, maxForwardSkewMillis: config.maxClockSkewMillis)
        var table =
            config.recordCacheBytes == nil
            ? RecordTable(recovered.records, capacity: recovered.records.count + recovered.encodedRecords.count)
            : RecordTable(capacityBytes: config.recordCacheBytes)
        if table.isBounded { for r in recovered.records { table[r.id] = r } }
        for bytes in recovered.encodedRecords { table.insert(encoded: bytes) }
        table.evictToCapacity()
        self.records = table
        self.vector = recovered.vector
        self.durableVector = recovered.vector
        // A tail of only the newest entries starts each origin's memory where it begins.
        self.log = OutgoingLog(
            entries: recovered.logTail, encoded: recovered.encodedLogTail, horizon: recovered.logHorizon)
        self.storeHorizon = recovered.logHorizon
        // The store's retirements stand even if the config forgot them (a node refuses
        // such a config before it gets here).
        var config = config
        for r in recovered.retired.keys.sorted() where !config.retired.contains(r) && r != config.region {
            config.peers.removeAll { $0 == r }
            config.retired.append(r)
        }
        self.config = config
        for r in config.retired { retired[r] = max(recovered.retired[r] ?? 0, recovered.vector[r]) }
        self.membershipUnrecorded = config.retired.contains { recovered.retired[$0] == nil }
        self.selfRetired = recovered.selfRetired
        self.retiring = recovered.selfRetired
        self.peers = [:]
        for p in config.peers {
            peers[p] = PeerState(acked: VersionVector(), clockWaitSinceMillis: nowMillis)
            peers[p]!.clockOffset = clockReadings[p]
        }
        self.ownHistorySeen = recovered.vector[config.region]
        self.ownHistoryAwaited = recovered.ownHistoryComplete ? [] : Set(config.peers)
        self.ownHistoryKnown = recovered.ownHistoryComplete
        var speaks: [RegionID: UInt8] = [:]
        for p in config.peers { speaks[p] = recovered.wireSpeaks[p] }
        self.wire = WireState(active: min(recovered.wireActive, config.wireVersions.upperBound), speaks: speaks)
    }

    // MARK: Own history

    /// Whether this region holds every write it made that survives anywhere, so new
    /// writes get sequence numbers never used before.
    public var ownHistoryComplete: Bool {
        ownHistoryKnown || (ownHistoryAwaited.isEmpty && vector[region] >= ownHistorySeen)
    }

    /// The region has written since its history was complete (or its store held it): from
    /// then on it believes only its own store about its own writes.
    var ownHistoryFrozen: Bool { ownHistoryKnown && (ownHistoryResumedAt.map { vector[region] > $0 } ?? true) }

    /// Latches the own history as complete once it is.
    mutating func latchOwnHistory() {
        guard !ownHistoryKnown && ownHistoryComplete else { return }
        ownHistoryKnown = true
        ownHistoryResumedAt = vector[region]
    }

    /// A peer shows `seq` of this region's own writes. Before the region has written
    /// anything new, more than it holds means its history is not complete after all.
    mutating func noteOwnClaim(_ seq: UInt64) {
        guard !ownHistoryFrozen, seq > vector[region] else { return }
        ownHistorySeen = max(ownHistorySeen, seq)
        ownHistoryKnown = false
    }

    /// Why local writes are refused while the own history is missing (nil once complete).
    public var ownHistoryMissing: String? {
        guard !ownHistoryComplete else { return nil }
        if !ownHistoryAwaited.isEmpty {
            let waiting = ownHistoryAwaited.sorted().map(\.name).joined(separator: ", ")
            return
                "this region's store is new or was wiped: it takes writes once every peer has said which of its writes it holds (waiting for \(waiting))"
        }
        return "this region is getting its own writes back from its peers (\(vector[region]) of \(ownHistorySeen))"
    }

    // MARK: Reads (of records in memory: every one when the engine holds them all, else
    // only those the cache holds; a node reads payments from its store)

    /// The payment as this region holds it in memory (nil if unknown or its create has
    /// not arrived).
    public func payment(_ id: PaymentID) -> Payment? { records[id].flatMap(Payment.init) }

    /// The replicated record, complete or not.
    public func record(_ id: PaymentID) -> PaymentRecord? { records[id] }

    /// Number of records held.
    public var recordCount: Int { records.count }

    /// Whether the record cache's bookkeeping (its eviction order, the order of its
    /// decoded values) is bounded by what the cache holds, not by every record it ever held.
    public var recordCacheBookkeepingIsBounded: Bool { records.bookkeepingIsBounded }

    /// Whether a read presenting `token` may be served: this region has committed
    /// everything the token covers.
    public func canServe(sessionToken token: VersionVector) -> Bool { durableVector.dominates(token) }

    /// The current clock high-water mark.
    public var clockHighWater: HLCTimestamp { clock.last }

    /// SHA-256 (hex) over every record, sorted by id: equal digests mean equal state.
    public func stateDigest() -> String {
        var digest = StateDigest()
        for id in records.ids.sortedByID() { digest.add(encodedRecord: records.encoding(of: id)!) }
        return digest.hex()
    }
}

/// What a node's store holds when it starts: enough to resume exactly where it stopped.
public struct RecoveredState: Sendable {
    /// Records, in the store's own order (the engine indexes them by id).
    public var records: [PaymentRecord]
    /// More records, each as `ByteWriter.writeRecord` encodes it: a store hands its rows
    /// over as they are, so a restart never holds every record decoded at once. Each
    /// MUST decode (the store checks them as it reads).
    public var encodedRecords: [[UInt8]] = []
    public var vector: VersionVector
    /// Log entries still kept, sorted by origin then seq: every one, or (for an engine
    /// with `logCacheEntries`) the newest of each origin.
    public var logTail: [LogEntry]
    /// More log entries, after `logTail`, each as `ByteWriter.writeEntry` encodes it (a
    /// store hands its rows over as they are). Each MUST decode.
    public var encodedLogTail: [[UInt8]] = []
    /// The vector of entries compacted out of the log.
    public var logHorizon: VersionVector
    public var clockHighWater: HLCTimestamp
    /// The store holds this region's own history: it was made for a new region
    /// (`paynode init`), or it recovered the history from every peer once. A new or
    /// wiped store does not, and takes no write until its peers have said what they hold.
    public var ownHistoryComplete: Bool
    /// The wire format the cluster has turned on (the store's record; a store made before
    /// it kept one ran format 3). A new engine's default: a cluster founded by this binary.
    public var wireActive: UInt8 = WireVersion.current
    /// What each peer's binary was last heard to speak (its newest format).
    public var wireSpeaks: [RegionID: UInt8] = [:]
    /// Regions retired from the cluster, with the most of their writes each was last
    /// heard to hold.
    public var retired: [RegionID: UInt64] = [:]
    /// This region was retired (`paynode decommission`): its store serves no more.
    public var selfRetired = false
    /// Every payment id the store holds, when it holds few (at most `heldIDsMax`: a new
    /// region, one wiped, one that held a few before a catch-up); nil when it holds more
    /// or a store does not say. For the shell, which then knows every id the store holds
    /// is one of these or one it handed it since (`StoredIDFilter`); the engine does not
    /// read it.
    public var heldIDs: [PaymentID]?
    /// The most ids a store lists in `heldIDs` (reading them costs a restart a few ms).
    public static let heldIDsMax = 10_000

    public init(
        records: [PaymentRecord] = [], vector: VersionVector = VersionVector(), logTail: [LogEntry] = [],
        logHorizon: VersionVector = VersionVector(), clockHighWater: HLCTimestamp = .zero,
        ownHistoryComplete: Bool = false, wireActive: UInt8 = WireVersion.current, wireSpeaks: [RegionID: UInt8] = [:]
    ) {
        self.ownHistoryComplete = ownHistoryComplete
        self.wireActive = wireActive
        self.wireSpeaks = wireSpeaks
        self.records = records
        self.vector = vector
        self.logTail = logTail
        self.logHorizon = logHorizon
        self.clockHighWater = clockHighWater
    }

    /// Every log entry kept, `logTail` and `encodedLogTail` decoded (for tests and tools).
    public func allLogEntries() -> [LogEntry] {
        OutgoingLog(entries: logTail, encoded: encodedLogTail, horizon: logHorizon).allEntries()
    }

    /// Every record, `records` and `encodedRecords` decoded (for tests and tools).
    public func allRecords() -> [PaymentRecord] {
        records + encodedRecords.map(RecordTable.decode)
    }
}

/// Counts of notable events, for metrics and the simulator.
public struct EngineCounters: Hashable, Sendable {
    public var entriesApplied: UInt64 = 0
    public var duplicatesSkipped: UInt64 = 0
    public var gapsSkipped: UInt64 = 0
    public var conflictsDetected: UInt64 = 0
    public var batchesSent: UInt64 = 0
    public var retransmits: UInt64 = 0
    public var snapshotsStarted: UInt64 = 0
    public var snapshotsCompleted: UInt64 = 0
    public var snapshotsReceived: UInt64 = 0
    /// Records merged from peers' snapshot chunks, every stream counted.
    public var snapshotRecordsReceived: UInt64 = 0
    public var protocolViolations: UInt64 = 0
    /// Snapshot chunks declined because another peer was streaming one already.
    public var snapshotChunksDeclined: UInt64 = 0
    /// Client writes refused because this region's clock was out of bound.
    public var writesRefusedForClock: UInt64 = 0
    /// Client writes refused because this region was still waiting for its peers' clock
    /// readings (just started, or links just came back).
    public var writesRefusedForClockReadings: UInt64 = 0
    /// Times this region's wall clock stepped (or the process stalled) between two
    /// inputs: its peers' clock readings were moved by the step and measured again.
    public var clockSteps: UInt64 = 0
    /// Peer entries (or snapshot chunks) held because they were stamped further ahead of
    /// this region's clock than the skew bound.
    public var entriesHeldForClock: UInt64 = 0
    /// Times the cluster's active wire format was raised here (by the gate, or learned
    /// from a peer that raised it).
    public var wireFormatRaised: UInt64 = 0
    /// Links refused because they ran a wire format older than the cluster's active one.
    public var linksRefusedForWire: UInt64 = 0
    /// Regions added to the cluster while this engine ran.
    public var peersAdded: UInt64 = 0
    /// Regions retired from the cluster while this engine ran.
    public var peersRetired: UInt64 = 0
    /// Client writes refused because this region is being retired.
    public var writesRefusedForRetirement: UInt64 = 0

    public init() {}
}
