import ReplicaCore

/// The JSON of a payment, of a field's value and of the fields a change wrote, built by
/// hand so names, order and number formats are exactly the contract's: snake_case names,
/// amounts as integers in minor units, times in RFC 3339 UTC with milliseconds, metadata
/// as an object of strings. The one writer of these: the API's bodies (a payment, the
/// list, the change feed, a payment's history) and the store's columns that hold JSON
/// (the conflict log's values, which `/v1/conflicts` serves as they are, and the
/// payments table's metadata).
public enum PaymentJSON {
    /// A payment as the API returns it (`JSONBytes.payment` writes it).
    public static func payment(_ p: Payment) -> String {
        var json = JSONBytes(capacity: 512)
        json.payment(p)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// A field's value: a string, an integer, a metadata object, or `null` when absent
    /// (`JSONBytes.value` writes it).
    public static func value(_ v: FieldValue) -> String {
        var json = JSONBytes(capacity: 64)
        json.value(v)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// Metadata as an object of strings, in the pairs' order (`JSONBytes.metadata`
    /// writes it).
    public static func metadata(_ pairs: [MetadataPair]) -> String {
        var json = JSONBytes(capacity: 128)
        json.metadata(pairs)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// The fields a change wrote, as an object of field name to value. The request
    /// fingerprint is left out: it is internal (it tells a replayed create from a reused
    /// key). `JSONBytes.changes` writes it.
    public static func changes(_ entry: LogEntry) -> String {
        var json = JSONBytes(capacity: 256)
        json.changes(entry)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// A quoted string, or `null`.
    public static func optional(_ s: String?) -> String { s.map(JSONString.quote) ?? "null" }
}
