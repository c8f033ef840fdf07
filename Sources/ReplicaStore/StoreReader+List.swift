import ReplicaCore

extension StoreReader {
    /// Payments matching `filter`, newest first (by created time, then id), after
    /// `cursor`. Paging is stable: rows inserted while a client pages do not shift the
    /// pages (no gaps, no repeats), since the cursor is a position in that order.
    public func list(_ filter: PaymentFilter, limit: Int, cursor: ListCursor?) throws -> PaymentPage {
        let limit = min(max(limit, 1), PaymentPage.limitMax)
        var clauses = ["complete = 1"]
        var binds: [(Int32, Any)] = []
        func bind(_ v: Any) -> String {
            binds.append((Int32(binds.count + 1), v))
            return "?"
        }
        if let m = filter.merchantID { clauses.append("merchant_id = \(bind(m))") }
        if let o = filter.orderID { clauses.append("order_id = \(bind(o))") }
        if let s = filter.status { clauses.append("status = \(bind(s.rawValue))") }
        if let f = filter.createdFromMillis { clauses.append("created_at_ms >= \(bind(Int64(f)))") }
        if let t = filter.createdToMillis { clauses.append("created_at_ms < \(bind(Int64(t)))") }
        if let cursor {
            let (created, id) = (cursor.createdMillis, cursor.id.rawValue)
            clauses.append(
                "(created_at_ms < \(bind(created)) OR (created_at_ms = \(bind(created)) AND id < \(bind(id))))")
        }
        let sql =
            "SELECT registers, created_at_ms, id FROM payments WHERE " + clauses.joined(separator: " AND ")
            + " ORDER BY created_at_ms DESC, id DESC LIMIT \(bind(Int64(limit + 1)))"
        let s = try db.prepare(sql)
        for (i, v) in binds {
            if let n = v as? Int64 { s.bind(i, n) } else { s.bind(i, v as? String) }
        }
        var payments: [Payment] = []
        var last: (Int64, String)?
        while try s.step() {
            if payments.count == limit {
                return PaymentPage(
                    payments: payments,
                    nextCursor: last.flatMap { l in PaymentID(l.1).map { ListCursor(createdMillis: l.0, id: $0) } })
            }
            guard let p = Payment(try RowEncoding.record(s.blob(0))) else {
                throw CorruptRow(description: "incomplete row listed")
            }
            payments.append(p)
            last = (s.int(1), s.text(2) ?? "")
        }
        return PaymentPage(payments: payments, nextCursor: nil)
    }

    /// A page of the conflict log, newest first, below sequence `cursor`: at most `limit`
    /// rows (1 to `PaymentPage.limitMax`), and where the next page starts when more follow.
    public func conflicts(limit: Int, before cursor: Int64?) throws -> ConflictLogPage {
        let limit = min(max(limit, 1), PaymentPage.limitMax)
        let s = try db.prepare(
            """
            SELECT id, payment_id, field, winner_value, winner_stamp, loser_value, loser_stamp FROM conflicts
            WHERE id < ? ORDER BY id DESC LIMIT ?
            """)
        s.bind(1, cursor ?? Int64.max)
        // One row more than the page: it tells whether another page follows.
        s.bind(2, Int64(limit + 1))
        var rows: [ConflictLogRow] = []
        while try s.step() {
            rows.append(
                ConflictLogRow(
                    sequence: s.int(0), paymentID: s.text(1) ?? "", field: s.text(2) ?? "",
                    winnerValueJSON: s.text(3) ?? "", winnerStamp: s.text(4) ?? "",
                    loserValueJSON: s.text(5) ?? "", loserStamp: s.text(6) ?? ""))
        }
        let page = Array(rows.prefix(limit))
        return ConflictLogPage(rows: page, nextBefore: rows.count > limit ? page.last?.sequence : nil)
    }
}
