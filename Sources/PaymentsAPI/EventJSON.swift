import PaymentsWire
import ReplicaCore

/// The change feed's JSON: an event is the change (origin, seq, stamp, actor, the fields
/// it wrote) and the payment after it; a page adds the cursor to resume from. Written as
/// bytes (`JSONBytes`): a stream's page of events goes out as one buffer.
enum EventJSON {
    static func page(_ page: EventPage) -> String {
        var json = JSONBytes(capacity: 600 * page.events.count + 64)
        json.raw("{\"data\":[")
        for (i, e) in page.events.enumerated() {
            if i > 0 { json.raw(",") }
            event(e, cursor: e.cursor.description, into: &json)
        }
        json.raw("],\"cursor\":")
        json.quoted(page.cursor.description)
        json.raw("}")
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// Events as Server-Sent Events, each `id: <cursor>`, `event: change` and its JSON
    /// as `data`, appended to `text`.
    static func stream(_ events: [PaymentEvent], into text: inout JSONBytes) {
        for e in events {
            let cursor = e.cursor.description
            text.raw("id: ")
            text.unquoted(cursor)
            text.raw("\nevent: change\ndata: ")
            event(e, cursor: cursor, into: &text)
            text.raw("\n\n")
        }
    }

    private static func event(_ e: PaymentEvent, cursor: String, into json: inout JSONBytes) {
        let entry = e.entry
        json.raw("{\"cursor\":")
        json.quoted(cursor)
        json.raw(",\"payment_id\":")
        json.quoted(entry.paymentID.rawValue)
        json.raw(",\"origin\":")
        json.quoted(entry.origin.name)
        json.raw(",\"seq\":")
        json.integer(entry.seq)
        json.raw(",\"stamp\":")
        json.quoted(entry.stamp.description)
        // Who made it: the id of the API key (replicated with the change); null for
        // changes made before changes recorded one.
        json.raw(",\"actor\":")
        json.optional(entry.actor)
        json.raw(",\"position\":")
        json.integer(e.position)
        json.raw(",\"changes\":")
        json.changes(entry)
        json.raw(",\"payment\":")
        if let payment = e.record.flatMap(Payment.init) { json.payment(payment) } else { json.raw("null") }
        json.raw("}")
    }
}
