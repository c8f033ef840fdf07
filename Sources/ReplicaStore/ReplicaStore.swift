import CSQLite
import PaymentsWire
import ReplicaCore

/// A node's durable state in one SQLite file (WAL, `synchronous=FULL` by default):
/// the log, the materialized `payments` table, the version vector, the clock's
/// high-water mark and the conflict log. See the README for the schema.
///
/// The writer connection is used by one thread at a time (the `GroupCommitter`'s);
/// reads go through `StoreReader`s, each with its own connection (WAL lets them run
/// beside the writer).
public final class ReplicaStore: @unchecked Sendable {
    public let options: StoreOptions
    let db: SQLiteDatabase
    /// Held while this store is open: no second process writes the same file.
    private let lock: StoreLock
    private let insertEntry: SQLiteStatement
    private let upsertPayment: SQLiteStatement
    private let insertConflict: SQLiteStatement
    private let upsertVector: SQLiteStatement
    private let raiseHighWater: SQLiteStatement
    private let raiseOwnHistory: SQLiteStatement
    private let raiseWireActive: SQLiteStatement
    private let setWireSpeaks: SQLiteStatement
    private let raiseRetired: SQLiteStatement
    private let markSelfRetired: SQLiteStatement
    private let deleteLog: SQLiteStatement
    private let upsertHorizon: SQLiteStatement
    private let insertEvent: SQLiteStatement
    private let raiseEventFloor: SQLiteStatement
    /// Checkpoints the WAL off the committing thread.
    let checkpointer: WALCheckpointer

    /// Opens (creating and migrating if needed) the store at `options.path`, after taking
    /// its exclusive lock (`StoreOwnershipError.inUse` when another process holds it).
    public init(options: StoreOptions) throws {
        self.options = options
        lock = try StoreLock(storePath: options.path)
        db = try SQLiteDatabase(path: options.path)
        try db.execute("PRAGMA journal_mode = WAL")
        try db.execute("PRAGMA synchronous = \(options.synchronous.rawValue)")
        try db.execute("PRAGMA foreign_keys = ON")
        // Keep the hot index pages in memory.
        try db.execute("PRAGMA cache_size = -\(max(1, options.cacheMegabytes) * 1_024)")
        try Schema.migrate(db)
        // A catch-up from a snapshot that stopped before its last chunk left them dropped.
        if try SnapshotBulkLoad.isLoading(db) { try SnapshotBulkLoad.finish(db) }
        insertEntry = try db.prepare(
            "INSERT OR IGNORE INTO log (origin, seq, hlc, payment_id, entry) VALUES (?, ?, ?, ?, ?)")
        // `stamps` is written '{}': the stamps are in `registers`. Spelling them out again as
        // JSON was 40% of a row's bytes, written to the WAL and again by checkpoints. An
        // update writes '{}' too, so no row keeps stamps older than its registers.
        upsertPayment = try db.prepare(
            """
            INSERT INTO payments (id, complete, merchant_id, order_id, amount, currency, method, status, payment_key,
                customer_id, description, metadata, created_at_ms, updated_at_ms, region, version, stamps, registers)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)
            ON CONFLICT (id) DO UPDATE SET complete = excluded.complete, merchant_id = excluded.merchant_id,
                order_id = excluded.order_id, amount = excluded.amount, currency = excluded.currency,
                method = excluded.method, status = excluded.status, payment_key = excluded.payment_key,
                customer_id = excluded.customer_id, description = excluded.description, metadata = excluded.metadata,
                created_at_ms = excluded.created_at_ms, updated_at_ms = excluded.updated_at_ms, region = excluded.region,
                version = excluded.version, stamps = '{}', registers = excluded.registers
            """)
        insertConflict = try db.prepare(
            """
            INSERT INTO conflicts (payment_id, field, winner_value, winner_stamp, loser_value, loser_stamp, detected_hlc)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        upsertVector = try db.prepare(
            """
            INSERT INTO vector (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = max(seq, excluded.seq)
            """)
        raiseHighWater = try db.prepare(
            """
            INSERT INTO meta (key, value) VALUES ('hlc_high_water', ?)
            ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)
            """)
        raiseOwnHistory = try db.prepare(
            """
            INSERT INTO meta (key, value) VALUES ('own_history_complete', ?)
            ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)
            """)
        raiseWireActive = try db.prepare(
            """
            INSERT INTO meta (key, value) VALUES ('wire_active', ?)
            ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)
            """)
        setWireSpeaks = try db.prepare(
            """
            INSERT INTO meta (key, value) VALUES ('wire_speaks:' || ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """)
        raiseRetired = try db.prepare(
            """
            INSERT INTO meta (key, value) VALUES ('retired:' || ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)
            """)
        markSelfRetired = try db.prepare(
            "INSERT INTO meta (key, value) VALUES ('region_retired', 1) ON CONFLICT (key) DO UPDATE SET value = 1")
        deleteLog = try db.prepare("DELETE FROM log WHERE origin = ? AND seq <= ?")
        upsertHorizon = try db.prepare(
            """
            INSERT INTO log_horizon (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = max(seq, excluded.seq)
            """)
        // A change already held (a replayed commit) is not added twice. The record is
        // the one the request carries (?4), or, for a change that moved no field (all
        // its values lost to newer ones), the payment's row as it stands.
        insertEvent = try db.prepare(
            """
            INSERT OR IGNORE INTO events (origin, seq, entry, record, payment_id)
            VALUES (?1, ?2, ?3, coalesce(?4, (SELECT registers FROM payments WHERE id = ?5)), ?5)
            """)
        // A snapshot moved the region past changes it holds no row of: the feed no
        // longer shows anything up to there.
        raiseEventFloor = try db.prepare(
            """
            INSERT INTO event_floor (origin, seq)
            SELECT ?1, ?2 WHERE ?2 > max(coalesce((SELECT max(seq) FROM events WHERE origin = ?1), 0),
                                         coalesce((SELECT seq FROM event_floor WHERE origin = ?1), 0))
            ON CONFLICT (origin) DO UPDATE SET seq = max(seq, excluded.seq)
            """)
        checkpointer = try WALCheckpointer(
            path: options.path, synchronous: options.synchronous, writer: db, startPages: options.checkpointPages)
    }

    deinit { checkpointer.stop(writer: db) }

    /// WAL checkpoints since the store opened: run by the checkpointing thread, run
    /// inline by the writer (the log passed the backstop), and failed.
    public var walCheckpoints: WALCheckpointCounts { checkpointer.counts }

    /// The `synchronous` level in force, read back from SQLite (0 off, 1 normal, 2 full).
    public func synchronousLevel() throws(SQLiteError) -> Int64 { try db.scalarInt("PRAGMA synchronous") ?? -1 }

    // MARK: Writes

    /// Commits `requests` in one transaction: a crash leaves all of them or none.
    /// Re-applying a request already committed changes nothing.
    public func commit(_ requests: [PersistRequest]) throws {
        try commit(prepared: requests.map(PreparedRequest.init))
    }

    /// `commit` of requests whose rows were computed already (on another thread).
    public func commit(prepared: [PreparedRequest]) throws {
        guard !prepared.isEmpty else { return }
        let requests = prepared.map(\.request)
        // A group of snapshot chunks before the last commits without its fsync
        // (`PersistRequest.durableLater`): a region catching up writes several MB per
        // group, and waited for each to reach the disk. If FULL cannot be set again, the
        // commit is reported failed: the committer then refuses every write until a
        // probe finds the store sound.
        let unsynced = options.synchronous == .full && requests.allSatisfy(\.durableLater)
        if unsynced { try db.execute("PRAGMA synchronous = NORMAL") }
        let committed = Result { try commitInOneTransaction(requests, prepared) }
        if unsynced { try db.execute("PRAGMA synchronous = FULL") }
        try committed.get()
    }

    private func commitInOneTransaction(_ requests: [PersistRequest], _ prepared: [PreparedRequest]) throws {
        try db.transaction { () throws(SQLiteError) in
            for (r, rows) in zip(requests, prepared.map(\.rows)) {
                try apply(r, rows: rows)
                // The snapshot's last chunk: the list indexes dropped for it are built again.
                if r.snapshotChunk && r.compactThrough != nil { try SnapshotBulkLoad.finish(db) }
            }
            // The vector and clock only grow: writing the group's last ones is enough.
            let last = requests[requests.count - 1]
            for (origin, seq) in last.vector.sortedEntries {
                upsertVector.bind(1, origin.name)
                upsertVector.bind(2, Int64(seq))
                try upsertVector.run()
            }
            raiseHighWater.bind(1, Int64(bitPattern: requests.map(\.clockHighWater).max()!.rawValue))
            try raiseHighWater.run()
            raiseOwnHistory.bind(1, Int64(requests.contains(where: \.ownHistoryComplete) ? 1 : 0))
            try raiseOwnHistory.run()
            for wire in requests.compactMap(\.wire) { try record(wire) }
            for membership in requests.compactMap(\.membership) { try record(membership) }
        }
    }

    /// The active wire format (it only rises) and what each peer was last heard to speak.
    private func record(_ wire: WireRecord) throws(SQLiteError) {
        raiseWireActive.bind(1, Int64(wire.active))
        try raiseWireActive.run()
        for s in wire.speaks {
            setWireSpeaks.bind(1, s.region.name)
            setWireSpeaks.bind(2, Int64(s.version))
            try setWireSpeaks.run()
        }
    }

    /// Retired regions (a retirement is never undone) and this region's own retirement.
    private func record(_ membership: MembershipRecord) throws(SQLiteError) {
        for g in membership.retired {
            raiseRetired.bind(1, g.region.name)
            raiseRetired.bind(2, Int64(clamping: g.lastHeard))
            try raiseRetired.run()
        }
        if membership.selfRetired { try markSelfRetired.run() }
    }

    private func apply(_ r: PersistRequest, rows: [PaymentRow]) throws(SQLiteError) {
        if r.snapshotChunk && r.compactThrough == nil { try SnapshotBulkLoad.beginIfEmpty(db) }
        if let horizon = r.compactThrough {
            try compact(through: horizon)
            for (origin, seq) in horizon.sortedEntries {
                raiseEventFloor.bind(1, origin.name)
                raiseEventFloor.bind(2, Int64(seq))
                try raiseEventFloor.run()
            }
        }
        for encoded in r.entries {
            let e = encoded.entry
            insertEntry.bind(1, e.origin.name)
            insertEntry.bind(2, Int64(e.seq))
            insertEntry.bind(3, Int64(bitPattern: e.hlc.rawValue))
            insertEntry.bind(4, e.paymentID.rawValue)
            insertEntry.bind(5, blob: encoded.bytes)
            try insertEntry.run()
        }
        for row in rows { try upsert(row) }
        // A request carries each record it changed once.
        let changed =
            r.entries.isEmpty
            ? [:] : Dictionary(r.records.map { ($0.record.id, $0) }, uniquingKeysWith: { _, last in last })
        for encoded in r.entries {
            let id = encoded.entry.paymentID
            insertEvent.bind(1, encoded.entry.origin.name)
            insertEvent.bind(2, Int64(encoded.entry.seq))
            insertEvent.bind(3, blob: encoded.bytes)
            if let record = changed[id] {
                insertEvent.bind(4, blob: record.bytes)
            } else {
                insertEvent.bind(4, nil as String?)
            }
            insertEvent.bind(5, id.rawValue)
            try insertEvent.run()
        }
        for c in r.conflicts {
            insertConflict.bind(1, c.paymentID.rawValue)
            insertConflict.bind(2, c.field.description)
            insertConflict.bind(3, PaymentJSON.value(c.winner.value))
            insertConflict.bind(4, c.winner.stamp.description)
            insertConflict.bind(5, PaymentJSON.value(c.loser.value))
            insertConflict.bind(6, c.loser.stamp.description)
            insertConflict.bind(7, Int64(bitPattern: c.detectedAt.rawValue))
            try insertConflict.run()
        }
    }

    private func upsert(_ row: PaymentRow) throws(SQLiteError) {
        let s = upsertPayment
        let p = row.payment
        s.bind(1, row.id)
        s.bind(2, Int64(p == nil ? 0 : 1))
        s.bind(3, p?.merchantID)
        s.bind(4, p?.orderID)
        s.bind(5, p?.amount)
        s.bind(6, p?.currency)
        s.bind(7, p?.method)
        s.bind(8, p?.status)
        s.bind(9, p?.paymentKey)
        s.bind(10, p?.customerID)
        s.bind(11, p?.description)
        s.bind(12, p?.metadata)
        s.bind(13, p?.createdAt)
        s.bind(14, p?.updatedAt)
        s.bind(15, p?.region)
        s.bind(16, p?.version)
        s.bind(17, blob: row.registers)
        try s.run()
    }

    /// Deletes every log entry `vector` covers (for a snapshot's horizon, in the commit
    /// that installs it) and records the new horizon.
    private func compact(through vector: VersionVector) throws(SQLiteError) {
        for (origin, seq) in vector.sortedEntries { _ = try dropLog(of: origin, through: Int64(seq)) }
    }

    /// Deletes `origin`'s log entries up to `seq` and raises its horizon to it; returns
    /// how many were deleted. Inside a transaction.
    func dropLog(of origin: RegionID, through seq: Int64) throws(SQLiteError) -> Int {
        deleteLog.bind(1, origin.name)
        deleteLog.bind(2, seq)
        try deleteLog.run()
        let deleted = db.changes
        upsertHorizon.bind(1, origin.name)
        upsertHorizon.bind(2, seq)
        try upsertHorizon.run()
        return deleted
    }

    /// Records that this store starts a new region with no history (`paynode init`): it
    /// takes writes at once instead of waiting to hear from every peer. Refused when the
    /// store already holds data: a wiped or restored region must get its history back
    /// from its peers, or it would reuse sequence numbers.
    /// `wireVersion`: the newest wire format its binary speaks, which the new cluster runs.
    public func markNewRegion(wireVersion: UInt8 = WireVersion.current) throws {
        try db.transaction { () throws(SQLiteError) in
            if try db.scalarInt("SELECT count(*) FROM vector") ?? 0 > 0 {
                throw SQLiteError(
                    code: SQLITE_CONSTRAINT, message: "the store already holds data: it is not a new region", sql: nil)
            }
            try db.execute(
                "INSERT INTO meta (key, value) VALUES ('own_history_complete', 1) ON CONFLICT (key) DO UPDATE SET value = 1"
            )
            // A new cluster runs the newest format its binaries speak from the start.
            raiseWireActive.bind(1, Int64(wireVersion))
            try raiseWireActive.run()
        }
    }

    /// Records that the store belongs to `region` (when it records none yet), or checks it
    /// does: a configuration naming another region must not write into this one's data.
    public func claim(region: RegionID) throws {
        let path = options.path
        try db.transaction { () throws(SQLiteError) in
            if try db.scalarText("SELECT region FROM identity WHERE id = 1") == nil {
                let insert = try db.prepare("INSERT INTO identity (id, region) VALUES (1, ?)")
                insert.bind(1, region.name)
                try insert.run()
            }
        }
        if let stored = try db.scalarText("SELECT region FROM identity WHERE id = 1"), stored != region.name {
            throw StoreOwnershipError.otherRegion(path: path, stored: stored, configured: region.name)
        }
    }

    /// The region the store belongs to (nil before a node claimed it).
    public func region() throws -> String? { try db.scalarText("SELECT region FROM identity WHERE id = 1") }

    /// A small write transaction (one meta row): whether the store takes writes again
    /// after a failed commit (a full disk freed).
    public func probeWritable() throws {
        try db.transaction { () throws(SQLiteError) in
            try db.execute(
                "INSERT INTO meta (key, value) VALUES ('write_probe', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1"
            )
        }
    }

    // MARK: Recovery

    /// Everything a restarting engine needs, read in one transaction.
    public func recover(includingRecords: Bool = true, logTailPerOrigin: Int? = nil) throws -> RecoveredState {
        try StoreReader(db: db).recover(includingRecords: includingRecords, logTailPerOrigin: logTailPerOrigin)
    }

    /// A reader with its own connection (one per thread).
    public func reader() throws -> StoreReader {
        try StoreReader(db: SQLiteDatabase(path: options.path, readOnly: true))
    }
}
