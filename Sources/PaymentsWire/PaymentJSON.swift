import ReplicaCore

/// The JSON of a payment, of a field's value and of the fields a change wrote, built by
/// hand so names, order and number formats are exactly the contract's: snake_case names,
/// amounts as integers in minor units, times in RFC 3339 UTC with milliseconds, metadata
/// as an object of strings. The one writer of these: the API's bodies (a payment, the
/// list, the change feed, a payment's history) and the store's columns that hold JSON
/// (the conflict log's values, which `/v1/conflicts` serves as they are, and the
/// payments table's metadata).
public enum PaymentJSON {
    /// A payment as the API returns it.
    public static func payment(_ p: Payment) -> String {
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
        s += ",\"metadata\":" + (p.metadata.map(metadata) ?? "null")
        s += ",\"created_at\":\"\(RFC3339.format(millis: p.createdAtMillis))\""
        s += ",\"updated_at\":\"\(RFC3339.format(millis: p.updatedAtMillis))\""
        s += ",\"region\":\(JSONString.quote(p.region.name))"
        s += ",\"version\":\(JSONString.quote(p.version.description))"
        return s + "}"
    }

    /// A field's value: a string, an integer, a metadata object, or `null` when absent.
    public static func value(_ v: FieldValue) -> String {
        switch v {
        case .absent: "null"
        case .text(let t): JSONString.quote(t)
        case .integer(let n): String(n)
        case .metadata(let pairs): metadata(pairs)
        }
    }

    /// Metadata as an object of strings, in the pairs' order.
    public static func metadata(_ pairs: [MetadataPair]) -> String {
        "{" + pairs.map { "\(JSONString.quote($0.key)):\(JSONString.quote($0.value))" }.joined(separator: ",") + "}"
    }

    /// The fields a change wrote, as an object of field name to value. The request
    /// fingerprint is left out: it is internal (it tells a replayed create from a reused
    /// key).
    public static func changes(_ entry: LogEntry) -> String {
        let changes = entry.changes.filter { $0.field != .requestFingerprint }
        return "{"
            + changes.map { "\(JSONString.quote($0.field.description)):\(value($0.value))" }
            .joined(separator: ",") + "}"
    }

    /// A quoted string, or `null`.
    public static func optional(_ s: String?) -> String { s.map(JSONString.quote) ?? "null" }
}
