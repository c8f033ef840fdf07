import ReplicaCore

/// The change feed's JSON: an event is the change (origin, seq, stamp, actor, the fields
/// it wrote) and the payment after it; a page adds the cursor to resume from.
enum EventJSON {
    static func page(_ page: EventPage) -> String {
        "{\"data\":[" + page.events.map(event).joined(separator: ",") + "],\"cursor\":"
            + JSONString.quote(page.cursor.description) + "}"
    }

    static func event(_ e: PaymentEvent) -> String {
        let entry = e.entry
        var s = "{\"cursor\":\(JSONString.quote(e.cursor.description))"
        s += ",\"payment_id\":\(JSONString.quote(entry.paymentID.rawValue))"
        s += ",\"origin\":\(JSONString.quote(entry.origin.name))"
        s += ",\"seq\":\(entry.seq)"
        s += ",\"stamp\":\(JSONString.quote(entry.stamp.description))"
        // Who made it: the id of the API key (replicated with the change); null for
        // changes made before changes recorded one.
        s += ",\"actor\":" + (entry.actor.map(JSONString.quote) ?? "null")
        s += ",\"position\":\(e.position)"
        // The request fingerprint is internal (it tells a replayed create from a reused key).
        let changes = entry.changes.filter { $0.field != .requestFingerprint }
        s +=
            ",\"changes\":{"
            + changes.map { "\(JSONString.quote($0.field.description)):\(value($0.value))" }.joined(separator: ",")
            + "}"
        s += ",\"payment\":" + (e.record.flatMap(Payment.init).map(PaymentJSON.payment) ?? "null")
        return s + "}"
    }

    static func value(_ v: FieldValue) -> String {
        switch v {
        case .absent: "null"
        case .text(let t): JSONString.quote(t)
        case .integer(let n): "\(n)"
        case .metadata(let pairs):
            "{" + pairs.map { "\(JSONString.quote($0.key)):\(JSONString.quote($0.value))" }.joined(separator: ",") + "}"
        }
    }
}
