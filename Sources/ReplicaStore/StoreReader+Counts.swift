import ReplicaCore

extension StoreReader {
    /// Money at risk: per currency, the sum of the amounts of the payments that have a
    /// write of `origin` above `seq` in the log (each payment once, at its amount now).
    /// With `seq` the most of `origin`'s writes any other region holds, it is what losing
    /// `origin` now would lose; with one peer's, what that peer lacks. Counted over the
    /// log the store still keeps (compaction only drops entries every peer acknowledged,
    /// or beyond `log_entries_max`). Sorted by currency.
    public func amountsAbove(_ seq: UInt64, of origin: RegionID) throws -> [(currency: String, minorUnits: Int64)] {
        let s = try db.prepare(
            """
            SELECT currency, sum(amount) FROM payments
            WHERE complete = 1 AND id IN (SELECT payment_id FROM log WHERE origin = ? AND seq > ?)
            GROUP BY currency ORDER BY currency
            """)
        s.bind(1, origin.name)
        s.bind(2, Int64(clamping: seq))
        var out: [(String, Int64)] = []
        while try s.step() {
            guard let currency = s.text(0) else { continue }
            out.append((currency, s.int(1)))
        }
        return out
    }
}

extension StoreReader {
    /// Payments stored (complete or not).
    public func count() throws -> Int { Int(try db.scalarInt("SELECT count(*) FROM payments") ?? 0) }

    /// The highest row number of the payments table (0 when empty).
    public func maxRow() throws -> UInt64 { UInt64(max(0, try db.scalarInt("SELECT max(row) FROM payments") ?? 0)) }

    /// The ids of the payments at `rows` (rows without one are skipped), in row order.
    public func ids(atRows rows: [UInt64]) throws -> [String] {
        let s = try db.prepare("SELECT id FROM payments WHERE row = ?")
        var out: [String] = []
        for row in rows {
            s.bind(1, Int64(clamping: row))
            if try s.step(), let id = s.text(0) { out.append(id) }
            s.reset()
        }
        return out
    }
}
