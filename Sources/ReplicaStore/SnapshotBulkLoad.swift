import ReplicaCore

/// A region that starts empty and catches up from a snapshot writes every payment once,
/// in random id order: each row would dirty pages all over the four list indexes. While
/// such a catch-up runs, those indexes are dropped, and they are built again (one sorted
/// pass each) in the transaction that commits the snapshot's last chunk. Nothing else
/// changes: the payments table and its unique id index take every row as before, reads
/// stay correct (a list scans the table meanwhile, so it is slower), and a store opened
/// with an index missing (a crash mid-catch-up) builds it before anything else.
enum SnapshotBulkLoad {
    /// The list indexes, as migration 1 made them.
    static let listIndexes = [
        "CREATE INDEX IF NOT EXISTS payments_by_created ON payments (created_at_ms DESC, id DESC) WHERE complete = 1",
        "CREATE INDEX IF NOT EXISTS payments_by_merchant ON payments (merchant_id, created_at_ms DESC, id DESC) WHERE complete = 1",
        "CREATE INDEX IF NOT EXISTS payments_by_order ON payments (merchant_id, order_id) WHERE complete = 1",
        "CREATE INDEX IF NOT EXISTS payments_by_status ON payments (status, created_at_ms DESC, id DESC) WHERE complete = 1",
    ]
    static let listIndexNames = [
        "payments_by_created", "payments_by_merchant", "payments_by_order", "payments_by_status",
    ]

    /// Whether the list indexes are dropped now (a bulk catch-up is under way).
    static func isLoading(_ db: SQLiteDatabase) throws(SQLiteError) -> Bool {
        try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'payments_by_created'")
            == 0
    }

    /// Inside the transaction of a snapshot's chunk: drops the list indexes when the
    /// payments table is still empty (the region started empty).
    static func beginIfEmpty(_ db: SQLiteDatabase) throws(SQLiteError) {
        guard try db.scalarInt("SELECT EXISTS (SELECT 1 FROM payments)") == 0, !(try isLoading(db)) else { return }
        for name in listIndexNames { try db.execute("DROP INDEX IF EXISTS \(name)") }
    }

    /// Builds any list index that is missing (after the snapshot's last chunk, or when a
    /// store is opened).
    static func finish(_ db: SQLiteDatabase) throws(SQLiteError) {
        for sql in listIndexes { try db.execute(sql) }
    }
}
