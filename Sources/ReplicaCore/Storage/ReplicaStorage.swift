/// The durable state of one node, as the engine's shell uses it. The SQLite store and
/// the simulator's in-memory store both implement it, so both run the same shell logic.
///
/// Contract:
/// - `commit` MUST apply every request atomically and in order: after a crash, the
///   store holds a prefix of the committed groups, never part of one.
/// - `recover` returns exactly what was committed (records, vector, log tail, horizon,
///   clock high-water mark, conflicts are kept but not needed to resume).
public protocol ReplicaStorage {
    /// Commits several persist requests as one group (one transaction, one fsync).
    mutating func commit(_ requests: [PersistRequest]) throws
    /// Deletes log entries covered by `vector`.
    mutating func compactLog(through vector: VersionVector) throws
    /// What a restarting engine needs.
    func recover() throws -> RecoveredState
}

/// `ReplicaStorage` in memory: what the simulator and unit tests use. A value type, so
/// "crash" is simply dropping the requests that were never committed.
public struct InMemoryStorage: ReplicaStorage, Sendable {
    public private(set) var records: [PaymentID: PaymentRecord] = [:]
    public private(set) var vector = VersionVector()
    public private(set) var log = OutgoingLog()
    public private(set) var clockHighWater = HLCTimestamp.zero
    public private(set) var conflicts: [ConflictRecord] = []
    /// The store holds the region's own history (see `RecoveredState.ownHistoryComplete`).
    public var ownHistoryComplete = false
    /// Commit groups so far (each one would be one fsync).
    public private(set) var groupsCommitted: UInt64 = 0

    public init() {}

    public mutating func commit(_ requests: [PersistRequest]) {
        for r in requests {
            if let horizon = r.compactThrough { log.trim(through: horizon) }
            for e in r.entries { log.append(e) }
            for rec in r.records { records[rec.id] = rec }
            conflicts += r.conflicts
            vector = r.vector
            clockHighWater = max(clockHighWater, r.clockHighWater)
            ownHistoryComplete = ownHistoryComplete || r.ownHistoryComplete
        }
        groupsCommitted += 1
    }

    public mutating func compactLog(through vector: VersionVector) {
        log.trim(through: vector)
    }

    public func recover() -> RecoveredState {
        return RecoveredState(records: records.keys.sortedByID().map { records[$0]! }, vector: vector, logTail: log.allEntries(),
                              logHorizon: log.horizon, clockHighWater: clockHighWater, ownHistoryComplete: ownHistoryComplete)
    }
}
