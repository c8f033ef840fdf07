/// A node's committed state in memory, with the SQLite store's promises (requests applied
/// atomically and in order; `recover` gives back exactly what was committed): the
/// simulated disk's contents and the unit tests' store. A value type, so a crash is
/// simply dropping what was never committed.
public struct InMemoryStorage: Sendable {
    public private(set) var records: [PaymentID: EncodedRecord] = [:]
    /// Ids in the order they were first committed (SQLite's rowid order): a record's
    /// store position is its index here plus one.
    private var rowOrder: [PaymentID] = []
    public private(set) var vector = VersionVector()
    public private(set) var log = OutgoingLog()
    public private(set) var clockHighWater = HLCTimestamp.zero
    public private(set) var conflicts: [ConflictRecord] = []
    /// Every change committed, in commit order: the change feed.
    public private(set) var events = InMemoryEventLog()
    /// The store holds the region's own history (see `RecoveredState.ownHistoryComplete`).
    public var ownHistoryComplete = false
    /// The cluster's active wire format and what each peer speaks (`WireRecord`): a new
    /// store's is the newest format (a cluster founded by this binary).
    public var wireActive: UInt8 = WireVersion.current
    public private(set) var wireSpeaks: [RegionID: UInt8] = [:]
    /// Retired regions, with what each was last heard to hold, and whether this region
    /// was retired (`MembershipRecord`).
    public private(set) var retired: [RegionID: UInt64] = [:]
    public private(set) var selfRetired = false
    /// Commit groups so far (each one would be one fsync).
    public private(set) var groupsCommitted: UInt64 = 0

    public init() {}

    public mutating func commit(_ requests: [PersistRequest]) {
        for r in requests {
            if let horizon = r.compactThrough {
                log.trim(through: horizon)
                events.snapshotApplied(horizon)
            }
            for e in r.entries { log.append(e) }
            for rec in r.records {
                if records.updateValue(rec, forKey: rec.record.id) == nil { rowOrder.append(rec.record.id) }
            }
            for e in r.entries { events.append(e, record: records[e.entry.paymentID]) }
            conflicts += r.conflicts
            vector = r.vector
            clockHighWater = max(clockHighWater, r.clockHighWater)
            ownHistoryComplete = ownHistoryComplete || r.ownHistoryComplete
            if let wire = r.wire {
                wireActive = max(wireActive, wire.active)
                for s in wire.speaks { wireSpeaks[s.region] = s.version }
            }
            if let membership = r.membership {
                for g in membership.retired { retired[g.region] = max(retired[g.region] ?? 0, g.lastHeard) }
                selfRetired = selfRetired || membership.selfRetired
            }
        }
        groupsCommitted += 1
    }

    /// One payment's history (`PaymentHistory.assemble`), as the SQLite store answers it.
    public func history(_ id: PaymentID, limit: Int) throws(PaymentHistoryError) -> PaymentHistory? {
        try PaymentHistory.assemble(record: records[id]?.record, entries: events.entries(of: id), limit: limit)
    }

    public mutating func compactLog(through vector: VersionVector) {
        log.trim(through: vector)
    }

    /// What a restarting engine needs; `includingRecords` false leaves the records out
    /// (an engine with a bounded record cache loads them on demand).
    /// `logTailPerOrigin` set: of the log, only the newest that many entries of each origin.
    public func recover(includingRecords: Bool = true, logTailPerOrigin: Int? = nil) -> RecoveredState {
        let tail =
            logTailPerOrigin.map { n in
                log.origins.flatMap { o in
                    log.entries(
                        of: o, after: max(log.firstAvailable(o) - 1, vector[o] > UInt64(n) ? vector[o] - UInt64(n) : 0),
                        limit: n)
                }
            } ?? log.allEntries()
        var state = RecoveredState(
            records: includingRecords ? records.keys.sortedByID().map { records[$0]!.record } : [], vector: vector,
            logTail: tail, logHorizon: log.horizon, clockHighWater: clockHighWater,
            ownHistoryComplete: ownHistoryComplete, wireActive: wireActive, wireSpeaks: wireSpeaks)
        state.retired = retired
        state.selfRetired = selfRetired
        if records.count <= RecoveredState.heldIDsMax { state.heldIDs = records.keys.sortedByID() }
        return state
    }

    /// The log entries of `origin` with seq above `after` that fit `limit`, in order, encoded.
    public func encodedLogEntries(of origin: RegionID, after: UInt64, limit: MessageBudget) -> [[UInt8]] {
        var budget = limit
        return log.encodedEntries(of: origin, after: after, seqAtMost: .max, within: &budget)
    }

    /// The records of those of `ids` held, each in its wire encoding.
    public func encodedRecords(_ ids: [PaymentID]) -> [[UInt8]] {
        ids.compactMap { records[$0]?.bytes }
    }

    /// The records of those of `ids` held, each decoded beside its encoding.
    public func records(_ ids: [PaymentID]) -> [EncodedRecord] {
        ids.compactMap { records[$0] }
    }

    /// The records after store position `after` (0: from the first) that fit `limit`, in
    /// the order they were first committed, encoded; the last one's position; and whether
    /// more may follow: the read stopped at the limit's bytes or count (as a store on disk
    /// answers, which cannot tell whether a row follows the last one it was allowed).
    public func encodedRecords(after: UInt64, limit: MessageBudget) -> (
        records: [[UInt8]], position: UInt64, more: Bool
    ) {
        var budget = limit
        var end = Int(clamping: min(after, UInt64(rowOrder.count)))
        var out: [[UInt8]] = []
        while end < rowOrder.count {
            let bytes = records[rowOrder[end]]!.bytes
            guard budget.take(bytes.count) else { break }
            out.append(bytes)
            end += 1
        }
        return (out, UInt64(end), budget.stoppedAtLimit)
    }
}
