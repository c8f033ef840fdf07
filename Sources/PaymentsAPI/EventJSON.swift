import PaymentsWire
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
        s += ",\"actor\":" + PaymentJSON.optional(entry.actor)
        s += ",\"position\":\(e.position)"
        s += ",\"changes\":" + PaymentJSON.changes(entry)
        s += ",\"payment\":" + (e.record.flatMap(Payment.init).map(PaymentJSON.payment) ?? "null")
        return s + "}"
    }
}
