import ReplicaCore

/// The JSON the API writes (snake_case fields, money in minor units), built by hand so field names, order and
/// number formats are exactly the contract's: amounts as integers, times in RFC 3339 UTC
/// with milliseconds.
enum PaymentJSON {
    static func payment(_ p: Payment) -> String {
        var s = "{\"id\":\(JSONString.quote(p.id.rawValue))"
        s += ",\"merchant_id\":\(JSONString.quote(p.merchantID))"
        s += ",\"order_id\":\(JSONString.quote(p.orderID))"
        s += ",\"amount\":\(p.amount)"
        s += ",\"currency\":\(JSONString.quote(p.currency))"
        s += ",\"method\":\(JSONString.quote(p.method.rawValue))"
        s += ",\"status\":\(JSONString.quote(p.status.rawValue))"
        s += ",\"payment_key\":\(optional(p.paymentKey))"
        s += ",\"customer_id\":\(optional(p.customerID))"
        s += ",\"description\":\(optional(p.description))"
        if let metadata = p.metadata {
            s +=
                ",\"metadata\":{"
                + metadata.map { "\(JSONString.quote($0.key)):\(JSONString.quote($0.value))" }
                .joined(separator: ",") + "}"
        } else {
            s += ",\"metadata\":null"
        }
        s += ",\"created_at\":\"\(RFC3339.format(millis: p.createdAtMillis))\""
        s += ",\"updated_at\":\"\(RFC3339.format(millis: p.updatedAtMillis))\""
        s += ",\"region\":\(JSONString.quote(p.region.name))"
        s += ",\"version\":\(JSONString.quote(p.version.description))"
        return s + "}"
    }

    static func page(_ page: PaymentPage) -> String {
        "{\"data\":[" + page.payments.map(payment).joined(separator: ",") + "],\"next_cursor\":"
            + optional(page.nextCursor?.text) + "}"
    }

    static func conflicts(_ page: ConflictLogPage) -> String {
        let items = page.rows.map { c in
            "{\"id\":\(c.sequence),\"payment_id\":\(JSONString.quote(c.paymentID)),\"field\":\(JSONString.quote(c.field))"
                + ",\"winner\":{\"value\":\(c.winnerValueJSON),\"stamp\":\(JSONString.quote(c.winnerStamp))}"
                + ",\"loser\":{\"value\":\(c.loserValueJSON),\"stamp\":\(JSONString.quote(c.loserStamp))}}"
        }
        return "{\"data\":[" + items.joined(separator: ",") + "],\"next_cursor\":"
            + optional(page.nextBefore.map(String.init)) + "}"
    }

    static func optional(_ s: String?) -> String { s.map(JSONString.quote) ?? "null" }
}
