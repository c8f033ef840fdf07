import ReplicaCore

/// Removing what no one needs any more: log entries every peer holds, and change-feed
/// rows past the feed's length. Both are done in bounded steps.
///
/// A backlog can be millions of rows: a region back from a long outage acks its peers'
/// whole log at once, and a store filled while it had no peers keeps every change in its
/// feed. One transaction deleting all of them held the committer for minutes, and the
/// write-ahead log grew by gigabytes, since nothing it held could be checkpointed until
/// it committed. A step deletes at most `options.compactionStepRows` of each and says
/// whether more remain; the node runs steps one after another on the committer's
/// thread, so client commits go in between them. Each step is a transaction of its own and raises the horizon or the
/// feed's floor only as far as it deleted, so a crash between steps leaves a store that
/// is whole and merely compacted less.
extension ReplicaStore {
    /// Deletes up to `options.compactionStepRows` log entries that `vector` covers,
    /// oldest first per origin, and records the horizon each origin reached. True when
    /// covered entries remain.
    @discardableResult
    public func compactLog(through vector: VersionVector) throws -> Bool {
        try db.transaction { () throws(SQLiteError) in
            let boundary = try db.prepare(
                "SELECT seq FROM log WHERE origin = ? AND seq <= ? ORDER BY seq LIMIT 1 OFFSET ?")
            var budget = stepRows
            for (origin, seq) in vector.sortedEntries {
                guard budget > 0 else { return true }
                // The first entry past this step's budget: the step stops just before it.
                boundary.bind(1, origin.name)
                boundary.bind(2, Int64(seq))
                boundary.bind(3, Int64(budget))
                let stop: Int64? = try boundary.step() ? boundary.int(0) : nil
                boundary.reset()
                budget -= try dropLog(of: origin, through: stop.map { $0 - 1 } ?? Int64(seq))
                if stop != nil { return true }
            }
            return false
        }
    }

    /// Trims up to `options.compactionStepRows` of the oldest change-feed rows past its
    /// newest `options.eventsKept`, raising the feed's floor past what goes (per origin,
    /// seqs grow with position, so the largest trimmed is it). True when more are past
    /// the feed's length.
    @discardableResult
    public func trimEvents() throws -> Bool {
        try db.transaction { () throws(SQLiteError) in
            guard let last = try db.scalarInt("SELECT max(position) FROM events") else { return false }
            let excess = last - Int64(options.eventsKept)
            guard excess > 0, let first = try db.scalarInt("SELECT min(position) FROM events"), first <= excess
            else { return false }
            let (end, overflow) = first.addingReportingOverflow(Int64(stepRows) - 1)
            let through = overflow ? excess : min(excess, end)
            try db.execute(
                """
                INSERT INTO event_floor (origin, seq)
                SELECT origin, max(seq) FROM events WHERE position <= \(through) GROUP BY origin
                ON CONFLICT (origin) DO UPDATE SET seq = max(seq, excluded.seq)
                """)
            try db.execute("DELETE FROM events WHERE position <= \(through)")
            return through < excess
        }
    }

    private var stepRows: Int { max(1, options.compactionStepRows) }
}
