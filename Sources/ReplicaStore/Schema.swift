import ReplicaCore

/// The store's schema, as append-only migrations: a shipped migration is never edited;
/// changes come as new ones. `PRAGMA user_version` records how many have run.
enum Schema {
    static let migrations: [String] = [
        // 1: the log, materialized payments, vectors, clock, conflicts. (`peer_acked` was
        // never written or read; it stays, as a shipped migration is never edited. So does
        // `payments.stamps`: rows are written with '{}' there, the stamps being in
        // `registers`.)
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE log (
            origin     TEXT    NOT NULL,
            seq        INTEGER NOT NULL CHECK (seq > 0),
            hlc        INTEGER NOT NULL,
            payment_id TEXT    NOT NULL,
            entry      BLOB    NOT NULL,
            PRIMARY KEY (origin, seq)
        ) WITHOUT ROWID;

        CREATE TABLE log_horizon (
            origin TEXT PRIMARY KEY,
            seq    INTEGER NOT NULL CHECK (seq >= 0)
        ) WITHOUT ROWID;

        CREATE TABLE vector (
            origin TEXT PRIMARY KEY,
            seq    INTEGER NOT NULL CHECK (seq >= 0)
        ) WITHOUT ROWID;

        CREATE TABLE peer_acked (
            peer   TEXT    NOT NULL,
            origin TEXT    NOT NULL,
            seq    INTEGER NOT NULL CHECK (seq >= 0),
            PRIMARY KEY (peer, origin)
        ) WITHOUT ROWID;

        CREATE TABLE payments (
            row           INTEGER PRIMARY KEY,
            id            TEXT NOT NULL UNIQUE,
            complete      INTEGER NOT NULL CHECK (complete IN (0, 1)),
            merchant_id   TEXT,
            order_id      TEXT,
            amount        INTEGER CHECK (amount IS NULL OR amount BETWEEN 1 AND 1000000000000000),
            currency      TEXT CHECK (currency IS NULL OR length(currency) = 3),
            method        TEXT CHECK (method IS NULL OR method IN ('card', 'bank_transfer')),
            status        TEXT CHECK (status IS NULL OR status IN
                              ('pending', 'authorized', 'completed', 'failed', 'canceled', 'refunded')),
            payment_key   TEXT,
            customer_id   TEXT,
            description   TEXT,
            metadata      TEXT,
            created_at_ms INTEGER,
            updated_at_ms INTEGER,
            region        TEXT,
            version       INTEGER,
            stamps        TEXT NOT NULL,
            registers     BLOB NOT NULL
        );
        CREATE INDEX payments_by_created  ON payments (created_at_ms DESC, id DESC) WHERE complete = 1;
        CREATE INDEX payments_by_merchant ON payments (merchant_id, created_at_ms DESC, id DESC) WHERE complete = 1;
        CREATE INDEX payments_by_order    ON payments (merchant_id, order_id) WHERE complete = 1;
        CREATE INDEX payments_by_status   ON payments (status, created_at_ms DESC, id DESC) WHERE complete = 1;

        CREATE TABLE conflicts (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            payment_id   TEXT    NOT NULL,
            field        TEXT    NOT NULL,
            winner_value TEXT    NOT NULL,
            winner_stamp TEXT    NOT NULL,
            loser_value  TEXT    NOT NULL,
            loser_stamp  TEXT    NOT NULL,
            detected_hlc INTEGER NOT NULL
        );
        CREATE INDEX conflicts_by_payment ON conflicts (payment_id);
        """,
        // 2: the region the store belongs to (one row, written when a node first opens it).
        """
        CREATE TABLE identity (
            id     INTEGER PRIMARY KEY CHECK (id = 1),
            region TEXT NOT NULL
        );
        """,
        // 3: the change feed: every change committed, in commit order, with the payment
        // as it stood after it; and per origin the last change no longer shown.
        """
        CREATE TABLE events (
            position INTEGER PRIMARY KEY,
            origin   TEXT    NOT NULL,
            seq      INTEGER NOT NULL CHECK (seq > 0),
            entry    BLOB    NOT NULL,
            record   BLOB
        );
        CREATE UNIQUE INDEX events_by_origin ON events (origin, seq);

        CREATE TABLE event_floor (
            origin TEXT PRIMARY KEY,
            seq    INTEGER NOT NULL CHECK (seq >= 0)
        ) WITHOUT ROWID;
        """,
        // 4: a change says who made it. An encoded entry now ends with its actor: entries
        // kept in format 3 get an empty one (one zero byte). And a payment's changes can
        // be read in order (its history): rows written before get their payment id from
        // their entry (`backfillEventPayments`).
        """
        UPDATE log SET entry = CAST(entry || x'00' AS BLOB);
        UPDATE events SET entry = CAST(entry || x'00' AS BLOB);
        ALTER TABLE events ADD COLUMN payment_id TEXT;
        CREATE INDEX events_by_payment ON events (payment_id, position);
        """,
    ]

    /// Runs the migrations not yet run, each in its own transaction.
    static func migrate(_ db: SQLiteDatabase) throws(SQLiteError) {
        let done = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
        guard done <= migrations.count else {
            throw SQLiteError(
                code: 1,
                message:
                    "the store's schema is version \(done) and this binary knows \(migrations.count): a newer release wrote it. Run that release (or a newer one); to go back, restore the backup taken before the upgrade",
                sql: nil)
        }
        for (i, sql) in migrations.enumerated() where i >= done {
            try db.transaction { () throws(SQLiteError) in
                try db.execute(sql)
                if i == 3 { try backfillEventPayments(db) }
                try db.execute("PRAGMA user_version = \(i + 1)")
            }
        }
    }

    /// Sets `events.payment_id` on rows written before the column existed, from their entry.
    static func backfillEventPayments(_ db: SQLiteDatabase) throws(SQLiteError) {
        let select = try db.prepare("SELECT position, entry FROM events WHERE payment_id IS NULL")
        var rows: [(Int64, String)] = []
        while try select.step() {
            var reader = ByteReader(select.blob(1))
            guard let entry = try? reader.readEntry() else {
                throw SQLiteError(
                    code: 1, message: "change feed row \(select.int(0)) holds an entry that does not decode", sql: nil)
            }
            rows.append((select.int(0), entry.paymentID.rawValue))
        }
        let update = try db.prepare("UPDATE events SET payment_id = ?2 WHERE position = ?1")
        for (position, id) in rows {
            update.bind(1, position)
            update.bind(2, id)
            try update.run()
        }
    }
}
