import ReplicaCore

/// Reads from a node's store on one connection: payments by id, the reporting list with
/// a stable cursor, conflicts, log pages for deltas, snapshots, and recovery.
public final class StoreReader: @unchecked Sendable {
    let db: SQLiteDatabase
    /// The point read by id, prepared once per connection (`storedRecord`): the API's
    /// reads by id and the engine's loads are most of what a reader runs, and preparing
    /// it each time put SQLite's parser alone at 0.6% of a node serving reads.
    private var recordByID: SQLiteStatement?
    /// The read of a payment's columns by id (`paymentBody`), prepared once per connection.
    var columnsByID: SQLiteStatement?

    init(db: SQLiteDatabase) { self.db = db }

    /// A read-only reader of the store file at `path`, e.g. one a running node writes
    /// (WAL lets readers in other processes see every committed transaction).
    public convenience init(readOnlyPath path: String) throws {
        self.init(db: try SQLiteDatabase(path: path, readOnly: true))
    }

    /// A store file's data could not be decoded (it was written by this code, so this
    /// means corruption or a foreign writer).
    public struct CorruptRow: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `body` inside one read transaction, so everything it reads is one snapshot.
    public func consistent<T>(_ body: () throws -> T) throws -> T {
        try db.execute("BEGIN")
        defer { try? db.execute("COMMIT") }
        return try body()
    }

    // MARK: Recovery

    /// What a restarting engine needs. `includingRecords` false leaves the payments out:
    /// an engine with a bounded record cache loads them on demand, so a restart reads
    /// vectors, clock, horizons, the log tail and cursors only.
    /// `logTailPerOrigin` set: of the log, only the newest that many entries of each
    /// origin (an engine with `logCacheEntries` reads older ones when a peer needs them).
    public func recover(includingRecords: Bool = true, logTailPerOrigin: Int? = nil) throws -> RecoveredState {
        try consistent {
            var state = RecoveredState()
            state.vector = try readVector("SELECT origin, seq FROM vector")
            state.logHorizon = try readVector("SELECT origin, seq FROM log_horizon")
            state.clockHighWater = HLCTimestamp(
                rawValue: UInt64(
                    bitPattern: try db.scalarInt(
                        "SELECT value FROM meta WHERE key = 'hlc_high_water'") ?? 0))
            // No row: a store written before the flag existed holds its history if it holds anything.
            let ownHistory = try db.scalarInt("SELECT value FROM meta WHERE key = 'own_history_complete'")
            state.ownHistoryComplete = ownHistory.map { $0 != 0 } ?? !state.vector.sortedEntries.isEmpty
            try readWire(into: &state)
            try readMembership(into: &state)
            state.heldIDs = try heldIDs()
            // Row order, not id order: a sequential scan of the table. "ORDER BY id" walks the
            // id index and fetches rows at random: 14 s instead of 1.2 s for 1M payments read
            // from a cold cache. The engine indexes the records by id itself.
            let records = try db.prepare("SELECT registers FROM payments")
            while includingRecords, try records.step() {
                // Checked here, so a corrupt row stops the start with an error; handed over
                // encoded, so a restart never holds every record decoded at once.
                let bytes = records.blob(0)
                _ = try RowEncoding.record(bytes)
                state.encodedRecords.append(bytes)
            }
            let log = try db.prepare("SELECT entry FROM log WHERE origin = ? AND seq > ? ORDER BY seq")
            for origin in state.vector.origins {
                let top = state.vector[origin]
                let from = logTailPerOrigin.map { top > UInt64($0) ? top - UInt64($0) : 0 } ?? 0
                log.bind(1, origin.name)
                log.bind(2, Int64(max(from, state.logHorizon[origin])))
                while try log.step() {
                    let bytes = log.blob(0)
                    _ = try RowEncoding.entry(bytes)  // checked, then handed over encoded, as records are
                    state.encodedLogTail.append(bytes)
                }
                log.reset()
            }
            return state
        }
    }

    func readVector(_ sql: String) throws -> VersionVector {
        var v = VersionVector()
        let s = try db.prepare(sql)
        while try s.step() {
            guard let origin = s.text(0).flatMap(RegionID.init) else {
                throw CorruptRow(description: "invalid region in \(sql)")
            }
            v[origin] = UInt64(s.int(1))
        }
        return v
    }

    /// The wire state kept in `meta`. With no row: a store made before the release that
    /// records it (its cluster ran format 3), or one not made by plain `paynode init` (a
    /// wiped or joining region), which runs the oldest format this binary speaks until
    /// its peers tell it the cluster's.
    func readWire(into state: inout RecoveredState) throws {
        state.wireActive = UInt8(
            clamping: try db.scalarInt("SELECT value FROM meta WHERE key = 'wire_active'")
                ?? Int64(WireVersion.supported.lowerBound))
        let rows = try db.prepare("SELECT substr(key, 13), value FROM meta WHERE key LIKE 'wire_speaks:%' ORDER BY key")
        state.wireSpeaks = [:]
        while try rows.step() {
            guard let name = rows.text(0), let region = RegionID(name) else { continue }
            state.wireSpeaks[region] = UInt8(clamping: rows.int(1))
        }
    }

    /// Retired regions (`retired:<region>`, what each was last heard to hold) and this
    /// region's own retirement (`region_retired`), kept in `meta`.
    func readMembership(into state: inout RecoveredState) throws {
        let rows = try db.prepare("SELECT substr(key, 9), value FROM meta WHERE key LIKE 'retired:%' ORDER BY key")
        state.retired = [:]
        while try rows.step() {
            guard let name = rows.text(0), let region = RegionID(name) else {
                throw CorruptRow(description: "invalid region in meta's retired rows")
            }
            state.retired[region] = UInt64(clamping: rows.int(1))
        }
        state.selfRetired = (try db.scalarInt("SELECT value FROM meta WHERE key = 'region_retired'") ?? 0) != 0
    }

    /// Every payment id held, when there are at most `RecoveredState.heldIDsMax`; else
    /// nil. Nil too when a row's id is not a payment id (the list only spares reads, so a
    /// row it cannot vouch for turns it off rather than stop the start).
    func heldIDs() throws -> [PaymentID]? {
        let rows = try db.prepare("SELECT id FROM payments LIMIT \(RecoveredState.heldIDsMax + 1)")
        var ids: [PaymentID] = []
        while try rows.step() {
            guard ids.count < RecoveredState.heldIDsMax, let text = rows.text(0), let id = PaymentID(text) else {
                return nil
            }
            ids.append(id)
        }
        return ids
    }

    /// The committed version vector.
    public func vector() throws -> VersionVector { try readVector("SELECT origin, seq FROM vector") }

    // MARK: Payments

    /// The payment with this id, if complete.
    public func payment(_ id: PaymentID) throws -> Payment? {
        try record(id).flatMap(Payment.init)
    }

    /// The replicated record with this id (complete or not).
    public func record(_ id: PaymentID) throws -> PaymentRecord? {
        try storedRecord(id).map(RowEncoding.record)
    }

    /// The stored encodings of those of `ids` that exist, each checked to decode.
    public func encodedRecords(_ ids: [PaymentID]) throws -> [[UInt8]] {
        try consistent {
            var out: [[UInt8]] = []
            out.reserveCapacity(ids.count)
            for id in ids {
                guard let bytes = try storedRecord(id) else { continue }
                _ = try RowEncoding.record(bytes)
                out.append(bytes)
            }
            return out
        }
    }

    /// The stored encoding of one record, through the connection's one prepared point
    /// read (the API's reads by id and the engine's loads, a create's among them, all
    /// come here).
    private func storedRecord(_ id: PaymentID) throws -> [UInt8]? {
        let s = try recordByID ?? db.prepare("SELECT registers FROM payments WHERE id = ?")
        recordByID = s
        defer { s.reset() }
        s.bind(1, id.rawValue)
        return try s.step() ? s.blob(0) : nil
    }

    /// The records after row `after` (0: from the first) that fit `limit` (a chunk's
    /// count and bytes), in row order (the table's own order on disk: a snapshot reads it
    /// sequentially, where id order would jump across the file for every record), each in
    /// its stored encoding; the last row read; and whether more may follow (the read
    /// stopped at the limit, not at the table's end): a snapshot chunk, sent to a peer as
    /// it is. Each is checked to start with its row's id; the receiving peer checks the
    /// rest like any peer input, so the sender decodes nothing.
    public func encodedRecords(after: UInt64, limit: MessageBudget) throws -> (
        records: [[UInt8]], position: UInt64, more: Bool
    ) {
        let s = try db.prepare("SELECT row, id, registers FROM payments WHERE row > ? ORDER BY row LIMIT ?")
        s.bind(1, Int64(clamping: after))
        s.bind(2, Int64(limit.countMax))
        var budget = limit
        var out: [[UInt8]] = []
        var position = after
        while try s.step() {
            let bytes = s.blob(2)
            guard budget.take(bytes.count) else { break }
            guard let id = try? PaymentRecord.id(ofEncoded: bytes), id.rawValue == s.text(1) else {
                throw CorruptRow(description: "payment \(s.text(1) ?? "?"): its registers do not start with its id")
            }
            out.append(bytes)
            position = UInt64(s.int(0))
        }
        return (out, position, budget.stoppedAtLimit)
    }

    // MARK: Log pages and snapshots

    /// The log entries of `origin` with seq above `after` that fit `limit` (a batch's
    /// count and bytes), in order, each in its stored encoding, sent to a peer as it is.
    /// Each is checked to start with its row's origin and seq; the receiving peer checks
    /// the rest.
    public func encodedLogEntries(of origin: RegionID, after: UInt64, limit: MessageBudget) throws -> [[UInt8]] {
        let s = try db.prepare("SELECT seq, entry FROM log WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?")
        s.bind(1, origin.name)
        s.bind(2, Int64(after))
        s.bind(3, Int64(limit.countMax))
        var budget = limit
        var out: [[UInt8]] = []
        while try s.step() {
            let bytes = s.blob(1)
            guard budget.take(bytes.count) else { break }
            guard let header = try? EntryHeader(of: bytes), header.origin == origin,
                header.seq == UInt64(bitPattern: s.int(0))
            else {
                throw CorruptRow(
                    description: "log entry \(origin):\(s.int(0)): its bytes do not start with its origin and seq")
            }
            out.append(bytes)
        }
        return out
    }

    /// Up to `limit` log entries not covered by `vector`, by origin then seq.
    public func entries(above vector: VersionVector, limit: Int) throws -> [LogEntry] {
        var out: [LogEntry] = []
        let origins = try db.prepare("SELECT DISTINCT origin FROM log ORDER BY origin")
        var names: [String] = []
        while try origins.step() { if let n = origins.text(0) { names.append(n) } }
        let page = try db.prepare("SELECT entry FROM log WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?")
        for name in names where out.count < limit {
            guard let origin = RegionID(name) else { throw CorruptRow(description: "invalid origin \(name) in log") }
            page.bind(1, name)
            page.bind(2, Int64(vector[origin]))
            page.bind(3, Int64(limit - out.count))
            while try page.step() { out.append(try RowEncoding.entry(page.blob(0))) }
            page.reset()
        }
        return out
    }

    /// Streams every record in pages of `pageSize`, by id, and returns the vector they
    /// cover, all from one read transaction: a consistent snapshot for a peer behind
    /// the compaction horizon.
    public func snapshot(pageSize: Int, _ body: ([PaymentRecord]) throws -> Void) throws -> VersionVector {
        try consistent {
            let vector = try readVector("SELECT origin, seq FROM vector")
            let s = try db.prepare("SELECT registers FROM payments WHERE id > ? ORDER BY id LIMIT ?")
            var after = ""
            while true {
                s.bind(1, after)
                s.bind(2, Int64(pageSize))
                var page: [PaymentRecord] = []
                while try s.step() { page.append(try RowEncoding.record(s.blob(0))) }
                s.reset()
                guard let last = page.last else { break }
                try body(page)
                after = last.id.rawValue
            }
            return vector
        }
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws -> String { try db.scalarText("PRAGMA integrity_check") ?? "no answer" }
}

extension StoreReader {
    /// `StateDigest` over every committed record in id order, streamed from one read
    /// transaction (equal to the engine's digest of the same records).
    public func stateDigest() throws -> String {
        try consistent {
            var digest = StateDigest()
            let rows = try db.prepare("SELECT registers FROM payments ORDER BY id")
            while try rows.step() { digest.add(encodedRecord: rows.blob(0)) }
            return digest.hex()
        }
    }
}
