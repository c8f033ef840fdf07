import ReplicaCore

/// Filters of the reporting list (`GET /v1/payments`).
public struct PaymentFilter: Sendable, Hashable {
    public var merchantID: String?
    public var orderID: String?
    public var status: PaymentStatus?
    /// Created at or after (ms since the epoch).
    public var createdFromMillis: UInt64?
    /// Created before (ms since the epoch).
    public var createdToMillis: UInt64?

    public init(merchantID: String? = nil, orderID: String? = nil, status: PaymentStatus? = nil,
                createdFromMillis: UInt64? = nil, createdToMillis: UInt64? = nil) {
        self.merchantID = merchantID
        self.orderID = orderID
        self.status = status
        self.createdFromMillis = createdFromMillis
        self.createdToMillis = createdToMillis
    }
}

/// A page of the list, newest first, and where the next page starts.
public struct PaymentPage: Sendable {
    public let payments: [Payment]
    /// Opaque; nil on the last page.
    public let nextCursor: String?
}

/// A place in the reporting list: the created time and id of the last payment of a page,
/// written `<created ms>_<payment id>`. The one reader and writer of that text.
public struct ListCursor: Hashable, Sendable {
    public let createdMillis: Int64
    public let id: PaymentID

    public init(createdMillis: Int64, id: PaymentID) {
        self.createdMillis = createdMillis
        self.id = id
    }

    /// Reads `text`; nil unless it is 1-15 digits, `_`, and a payment id.
    public init?(text: String) {
        guard let underscore = text.firstIndex(of: "_") else { return nil }
        let millis = text[..<underscore]
        guard (1...15).contains(millis.count), millis.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let created = Int64(millis),
              let id = PaymentID(String(text[text.index(after: underscore)...])) else { return nil }
        self.init(createdMillis: created, id: id)
    }

    public var text: String { "\(createdMillis)_\(id.rawValue)" }
}

/// A list cursor that could not be read (HTTP 400).
public struct InvalidCursor: Error, CustomStringConvertible {
    public let description = "cursor is not one this server issued"
}

extension StoreReader {
    /// The largest page.
    public static let listLimitMax = 500

    /// Payments matching `filter`, newest first (by created time, then id), after
    /// `cursor`. Paging is stable: rows inserted while a client pages do not shift the
    /// pages (no gaps, no repeats), since the cursor is a position in that order.
    public func list(_ filter: PaymentFilter, limit: Int, cursor: String?) throws -> PaymentPage {
        let limit = min(max(limit, 1), Self.listLimitMax)
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
            guard let parsed = ListCursor(text: cursor) else { throw InvalidCursor() }
            let (created, id) = (parsed.createdMillis, parsed.id.rawValue)
            clauses.append("(created_at_ms < \(bind(created)) OR (created_at_ms = \(bind(created)) AND id < \(bind(id))))")
        }
        let sql = "SELECT registers, created_at_ms, id FROM payments WHERE " + clauses.joined(separator: " AND ")
            + " ORDER BY created_at_ms DESC, id DESC LIMIT \(bind(Int64(limit + 1)))"
        let s = try db.prepare(sql)
        for (i, v) in binds {
            if let n = v as? Int64 { s.bind(i, n) } else { s.bind(i, v as? String) }
        }
        var payments: [Payment] = []
        var last: (Int64, String)?
        while try s.step() {
            if payments.count == limit {
                return PaymentPage(payments: payments, nextCursor: last.flatMap { l in PaymentID(l.1).map { ListCursor(createdMillis: l.0, id: $0).text } })
            }
            guard let p = Payment(try RowEncoding.record(s.blob(0))) else { throw CorruptRow(description: "incomplete row listed") }
            payments.append(p)
            last = (s.int(1), s.text(2) ?? "")
        }
        return PaymentPage(payments: payments, nextCursor: nil)
    }

    /// One conflict-log row.
    public struct ConflictRow: Sendable, Hashable {
        public let sequence: Int64
        public let paymentID: String
        public let field: String
        public let winnerValueJSON: String
        public let winnerStamp: String
        public let loserValueJSON: String
        public let loserStamp: String
    }

    /// The conflict log, newest first; `cursor` is the sequence to continue below.
    public func conflicts(limit: Int, before cursor: Int64?) throws -> [ConflictRow] {
        let s = try db.prepare("""
            SELECT id, payment_id, field, winner_value, winner_stamp, loser_value, loser_stamp FROM conflicts
            WHERE id < ? ORDER BY id DESC LIMIT ?
            """)
        s.bind(1, cursor ?? Int64.max)
        s.bind(2, Int64(min(max(limit, 1), Self.listLimitMax)))
        var rows: [ConflictRow] = []
        while try s.step() {
            rows.append(ConflictRow(sequence: s.int(0), paymentID: s.text(1) ?? "", field: s.text(2) ?? "",
                                    winnerValueJSON: s.text(3) ?? "", winnerStamp: s.text(4) ?? "",
                                    loserValueJSON: s.text(5) ?? "", loserStamp: s.text(6) ?? ""))
        }
        return rows
    }
}
