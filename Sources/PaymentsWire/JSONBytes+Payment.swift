import ReplicaCore

/// The payment, value and change JSON of `PaymentJSON`, written as bytes: the one writer
/// of each (`PaymentJSON`'s Strings are these bytes), so a body built of several (a page
/// of the change feed) is written into one buffer with no String between.
extension JSONBytes {
    /// A payment as the API returns it: every field in the contract's order, `null` for
    /// an absent optional one.
    public mutating func payment(_ p: Payment) {
        raw("{\"id\":")
        quoted(p.id.rawValue)
        raw(",\"merchant_id\":")
        quoted(p.merchantID)
        raw(",\"order_id\":")
        quoted(p.orderID)
        raw(",\"amount\":")
        integer(p.amount)
        raw(",\"currency\":")
        quoted(p.currency)
        raw(",\"method\":")
        quoted(p.method.rawValue)
        raw(",\"status\":")
        quoted(p.status.rawValue)
        raw(",\"payment_key\":")
        optional(p.paymentKey)
        raw(",\"customer_id\":")
        optional(p.customerID)
        raw(",\"description\":")
        optional(p.description)
        raw(",\"metadata\":")
        if let pairs = p.metadata { metadata(pairs) } else { raw("null") }
        raw(",\"created_at\":")
        time(millis: p.createdAtMillis)
        raw(",\"updated_at\":")
        time(millis: p.updatedAtMillis)
        raw(",\"region\":")
        quoted(p.region.name)
        raw(",\"version\":")
        version(p.version)
        raw("}")
    }

    /// A field's value: a string, an integer, a metadata object, or `null` when absent.
    public mutating func value(_ v: FieldValue) {
        switch v {
        case .absent: raw("null")
        case .text(let t): quoted(t)
        case .integer(let n): integer(n)
        case .metadata(let pairs): metadata(pairs)
        }
    }

    /// Metadata as an object of strings, in the pairs' order.
    public mutating func metadata(_ pairs: [MetadataPair]) {
        raw("{")
        for (i, pair) in pairs.enumerated() {
            if i > 0 { raw(",") }
            quoted(pair.key)
            raw(":")
            quoted(pair.value)
        }
        raw("}")
    }

    /// The fields a change wrote, as an object of field name to value, without the
    /// request fingerprint (internal: it tells a replayed create from a reused key).
    public mutating func changes(_ entry: LogEntry) {
        raw("{")
        var first = true
        for change in entry.changes where change.field != .requestFingerprint {
            if !first { raw(",") }
            first = false
            quoted(change.field.description)
            raw(":")
            value(change.value)
        }
        raw("}")
    }

    /// A quoted string, or `null`.
    public mutating func optional(_ text: String?) {
        if let text { quoted(text) } else { raw("null") }
    }
}
