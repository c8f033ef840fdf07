import ReplicaCore

extension StoreReader {
    /// A page of the change feed: the committed changes after `query.cursor`, in this
    /// region's commit order, as `EventSelection` chooses them. Throws `EventFeedError`
    /// when the cursor is older than what the store keeps.
    public func events(_ query: EventQuery, region: RegionID, ownVisibleThrough: UInt64) throws -> EventPage {
        try consistent {
            try EventSelection.check(query.cursor, against: try eventFloor())
            var selection = EventSelection(region: region, ownVisibleThrough: ownVisibleThrough, query: query)
            let find = try db.prepare("SELECT position FROM events WHERE origin = ? AND seq = ?")
            // Every origin with a change here is in the vector.
            let known = try vector().origins
            let start = try EventSelection.startPosition(
                cursor: query.cursor, region: region, ownVisibleThrough: ownVisibleThrough,
                origins: known
            ) { origin, seq in
                defer { find.reset() }
                find.bind(1, origin.name)
                find.bind(2, Int64(clamping: seq))
                return try find.step() ? UInt64(find.int(0)) : nil
            }
            guard let start else { return selection.page }
            let rows = try db.prepare(
                "SELECT position, origin, seq, entry, record FROM events WHERE position >= ? ORDER BY position LIMIT ?")
            rows.bind(1, Int64(start))
            rows.bind(2, Int64(max(1, query.scanLimit)))
            while selection.wantsMore, try rows.step() {
                guard let origin = rows.text(1).flatMap(RegionID.init) else {
                    throw CorruptRow(description: "event with a bad origin")
                }
                try selection.look(origin: origin, seq: UInt64(rows.int(2))) { () throws in
                    PaymentEvent(
                        position: UInt64(rows.int(0)), entry: try RowEncoding.entry(rows.blob(3)),
                        record: rows.isNull(4) ? nil : try RowEncoding.record(rows.blob(4)))
                }
            }
            return selection.page
        }
    }

    /// Per origin, the last change the feed no longer shows.
    public func eventFloor() throws -> VersionVector {
        try readVector("SELECT origin, seq FROM event_floor")
    }
}

extension StoreReader {
    /// The history of one payment from the feed's rows about it (`PaymentHistory`): nil
    /// when the payment is not held whole. Throws `PaymentHistoryError` when a change that
    /// wrote one of its fields is no longer held.
    public func history(_ id: PaymentID, limit: Int) throws -> PaymentHistory? {
        try consistent {
            guard let record = try record(id) else { return nil }
            let rows = try db.prepare("SELECT entry FROM events WHERE payment_id = ? ORDER BY position")
            rows.bind(1, id.rawValue)
            var entries: [LogEntry] = []
            while try rows.step() { entries.append(try RowEncoding.entry(rows.blob(0))) }
            return try PaymentHistory.assemble(record: record, entries: entries, limit: limit)
        }
    }
}
