import PaymentsWire
import ReplicaCore

/// The list's and the conflict log's pages, around PaymentsWire's payment writer: the
/// items, then where the next page starts (`null` on the last one).
extension PaymentJSON {
    static func page(_ page: PaymentPage) -> String {
        "{\"data\":[" + page.payments.map(payment).joined(separator: ",") + "],\"next_cursor\":"
            + optional(page.nextCursor?.text) + "}"
    }

    /// A conflict's values are JSON text as the store's log keeps them (written by
    /// `PaymentJSON.value`).
    static func conflicts(_ page: ConflictLogPage) -> String {
        let items = page.rows.map { c in
            "{\"id\":\(c.sequence),\"payment_id\":\(JSONString.quote(c.paymentID)),\"field\":\(JSONString.quote(c.field))"
                + ",\"winner\":{\"value\":\(c.winnerValueJSON),\"stamp\":\(JSONString.quote(c.winnerStamp))}"
                + ",\"loser\":{\"value\":\(c.loserValueJSON),\"stamp\":\(JSONString.quote(c.loserStamp))}}"
        }
        return "{\"data\":[" + items.joined(separator: ",") + "],\"next_cursor\":"
            + optional(page.nextBefore.map(String.init)) + "}"
    }
}
