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
        switch (filter.merchantID, filter.merchantIDs) {
        case (let m?, let bounds?) where !bounds.contains(m):
            return PaymentPage(payments: [], nextCursor: nil)
        case (let m?, _):
            clauses.append("merchant_id = \(bind(m))")
        case (nil, let bounds?) where bounds.isEmpty:
            return PaymentPage(payments: [], nextCursor: nil)
        case (nil, let bounds?) where bounds.count == 1:
            // One merchant: the merchant index's order is the list's, as for merchant_id.
            clauses.append("merchant_id = \(bind(bounds.first!))")
        case (nil, let bounds?):
            clauses.append("merchant_id IN (" + bounds.sorted().map { bind($0) }.joined(separator: ", ") + ")")
        case (nil, nil):
            break
        }
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
    /// With `merchantIDs`, only rows about payments of those merchants (a payment this
    /// region holds only part of has no merchant yet: its rows are left out); such a page
    /// looks at no more than `scanLimit` rows, so a narrow bound over a long log answers in
    /// bounded time: it may hold fewer rows than `limit` and still say where to go on.
    public func conflicts(
        limit: Int, before cursor: Int64?, merchantIDs: Set<String>? = nil, scanLimit: Int = 10_000
    ) throws -> ConflictLogPage {
        let limit = min(max(limit, 1), PaymentPage.limitMax)
        let s: SQLiteStatement
        if merchantIDs == nil {
            s = try db.prepare(
                """
                SELECT id, payment_id, field, winner_value, winner_stamp, loser_value, loser_stamp FROM conflicts
                WHERE id < ? ORDER BY id DESC LIMIT ?
                """)
            // One row more than the page: it tells whether another page follows.
            s.bind(2, Int64(limit + 1))
        } else {
            s = try db.prepare(
                """
                SELECT c.id, c.payment_id, c.field, c.winner_value, c.winner_stamp, c.loser_value, c.loser_stamp,
                       p.merchant_id
                FROM conflicts c LEFT JOIN payments p ON p.id = c.payment_id
                WHERE c.id < ? ORDER BY c.id DESC LIMIT ?
                """)
            s.bind(2, Int64(max(1, scanLimit)))
        }
        s.bind(1, cursor ?? Int64.max)
        var rows: [ConflictLogRow] = []
        var looked = 0
        var lastLooked: Int64?
        while rows.count <= limit, try s.step() {
            looked += 1
            lastLooked = s.int(0)
            if let bounds = merchantIDs {
                guard let merchant = s.text(7), bounds.contains(merchant) else { continue }
            }
            rows.append(
                ConflictLogRow(
                    sequence: s.int(0), paymentID: s.text(1) ?? "", field: s.text(2) ?? "",
                    winnerValueJSON: s.text(3) ?? "", winnerStamp: s.text(4) ?? "",
                    loserValueJSON: s.text(5) ?? "", loserStamp: s.text(6) ?? ""))
        }
        let page = Array(rows.prefix(limit))
        if rows.count > limit { return ConflictLogPage(rows: page, nextBefore: page.last?.sequence) }
        // The scan stopped at its bound: rows below the last one looked at may still match.
        if merchantIDs != nil, looked >= max(1, scanLimit), let lastLooked {
            return ConflictLogPage(rows: page, nextBefore: lastLooked)
        }
        return ConflictLogPage(rows: page, nextBefore: nil)
    }
}
