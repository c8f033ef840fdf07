import PaymentsWire
import ReplicaCore

extension StoreReader {
    /// The payment with this id as the API's JSON, written from its row's columns, if it
    /// is complete: no record is decoded and no `Payment` built (decoding the record and
    /// building its JSON from Strings were most of a read's own work). The columns are
    /// written from the record in the same statement as the record itself
    /// (`PaymentRow`), so they say what it says; the bytes are those of
    /// `PaymentJSON.payment` for the record's payment (a test compares the two over
    /// generated payments). Columns are checked like any file input: a NULL where a
    /// payment has a value, a value out of its range, or metadata that is not what
    /// `PaymentJSON.metadata` writes give nil, as for a payment not held, and the caller
    /// reads the record instead (which says what is wrong with it).
    public func paymentBody(_ id: PaymentID) throws -> PaymentBody? {
        let s =
            try columnsByID
            ?? db.prepare(
                """
                SELECT complete, merchant_id, order_id, amount, currency, method, status, payment_key, customer_id,
                    description, metadata, created_at_ms, updated_at_ms, region, version
                FROM payments WHERE id = ?
                """)
        columnsByID = s
        defer { s.reset() }
        s.bind(1, id.rawValue)
        guard try s.step(), s.int(0) == 1 else { return nil }
        return Self.body(of: id, from: s)
    }

    /// The body of the complete payment `id` from the current row of `s` (columns as
    /// `paymentBody` selects them), or nil when a column is not as written.
    private static func body(of id: PaymentID, from s: SQLiteStatement) -> PaymentBody? {
        // NULLs first: a column's type is not defined once it was read as another.
        guard !s.isNull(3), !s.isNull(11), !s.isNull(12), !s.isNull(14) else { return nil }
        let amount = s.int(3)
        let created = s.int(11)
        let updated = s.int(12)
        guard let merchant = s.text(1), let method = s.text(5), PaymentMethod(rawValue: method) != nil,
            let status = s.text(6), PaymentStatus(rawValue: status) != nil,
            (PaymentValidation.amountMinorMin...PaymentValidation.amountMinorMax).contains(amount),
            created >= 0, updated >= 0
        else { return nil }
        var out = JSONBytes(capacity: 512)
        out.raw("{\"id\":")
        out.quoted(id.rawValue)
        out.raw(",\"merchant_id\":")
        out.quoted(merchant)
        guard let order = s.textBytes(2) else { return nil }
        out.raw(",\"order_id\":")
        out.quoted(order)
        out.raw(",\"amount\":")
        out.integer(amount)
        guard let currency = s.textBytes(4) else { return nil }
        out.raw(",\"currency\":")
        out.quoted(currency)
        out.raw(",\"method\":")
        out.quoted(method)
        out.raw(",\"status\":")
        out.quoted(status)
        out.raw(",\"payment_key\":")
        optional(s.textBytes(7), &out)
        out.raw(",\"customer_id\":")
        optional(s.textBytes(8), &out)
        out.raw(",\"description\":")
        optional(s.textBytes(9), &out)
        out.raw(",\"metadata\":")
        if let metadata = s.textBytes(10) {
            guard PaymentJSON.isMetadata(metadata) else { return nil }
            out.raw(metadata)
        } else {
            out.raw("null")
        }
        out.raw(",\"created_at\":")
        out.time(millis: UInt64(created))
        out.raw(",\"updated_at\":")
        out.time(millis: UInt64(updated))
        guard let region = s.textBytes(13) else { return nil }
        out.raw(",\"region\":")
        out.quoted(region)
        out.raw(",\"version\":")
        out.version(HLCTimestamp(rawValue: UInt64(bitPattern: s.int(14))))
        out.raw("}")
        return PaymentBody(merchantID: merchant, json: out.bytes)
    }

    private static func optional(_ text: UnsafeRawBufferPointer?, _ out: inout JSONBytes) {
        if let text { out.quoted(text) } else { out.raw("null") }
    }
}
