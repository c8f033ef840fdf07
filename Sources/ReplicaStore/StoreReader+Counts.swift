import ReplicaCore

extension StoreReader {
    /// Money at risk: per currency, the sum of the amounts of the payments that have a
    /// write of `origin` above `seq` in the log (each payment once, at its amount now).
    /// With `seq` the most of `origin`'s writes any other region holds, it is what losing
    /// `origin` now would lose; with one peer's, what that peer lacks. Counted over the
    /// log the store still keeps (compaction only drops entries every peer acknowledged,
    /// or beyond `log_entries_max`). Sorted by currency.
    public func amountsAbove(_ seq: UInt64, of origin: RegionID) throws -> [(currency: String, minorUnits: Int64)] {
        try amountsAbove([seq], of: origin)[0]
    }

    /// `amountsAbove` for each of `seqs` (in their order), in one pass over the log above
    /// the smallest: the total and every peer's share of one `/v1/cluster` answer cost one
    /// read of the unreplicated log, not one each. Sums saturate at `Int64.max`.
    public func amountsAbove(_ seqs: [UInt64], of origin: RegionID) throws -> [[(currency: String, minorUnits: Int64)]]
    {
        guard let lowest = seqs.min() else { return [] }
        let s = try db.prepare(
            """
            SELECT p.currency, p.amount, m.top FROM
              (SELECT payment_id, max(seq) AS top FROM log WHERE origin = ? AND seq > ? GROUP BY payment_id) AS m
              JOIN payments AS p ON p.id = m.payment_id
            WHERE p.complete = 1
            """)
        s.bind(1, origin.name)
        s.bind(2, Int64(clamping: lowest))
        var sums = [[String: Int64]](repeating: [:], count: seqs.count)
        while try s.step() {
            guard let currency = s.text(0) else { continue }
            let amount = s.int(1)
            let top = UInt64(max(0, s.int(2)))
            for (i, seq) in seqs.enumerated() where top > seq {
                let (sum, overflow) = sums[i][currency, default: 0].addingReportingOverflow(amount)
                sums[i][currency] = overflow ? .max : sum
            }
        }
        return sums.map { byCurrency in byCurrency.keys.sorted().map { ($0, byCurrency[$0]!) } }
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
