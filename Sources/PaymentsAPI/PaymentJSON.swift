import Foundation
import ReplicaCore
import ReplicaStore

/// The JSON the API writes (DESIGN section 2), built by hand so field names, order and
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
            s += ",\"metadata\":{" + metadata.map { "\(JSONString.quote($0.key)):\(JSONString.quote($0.value))" }
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
            + optional(page.nextCursor) + "}"
    }

    static func conflicts(_ rows: [StoreReader.ConflictRow], nextCursor: String?) -> String {
        let items = rows.map { c in
            "{\"id\":\(c.sequence),\"payment_id\":\(JSONString.quote(c.paymentID)),\"field\":\(JSONString.quote(c.field))"
                + ",\"winner\":{\"value\":\(c.winnerValueJSON),\"stamp\":\(JSONString.quote(c.winnerStamp))}"
                + ",\"loser\":{\"value\":\(c.loserValueJSON),\"stamp\":\(JSONString.quote(c.loserStamp))}}"
        }
        return "{\"data\":[" + items.joined(separator: ",") + "],\"next_cursor\":" + optional(nextCursor) + "}"
    }

    static func vector(_ v: VersionVector) -> String {
        "{" + v.sortedEntries.map { "\(JSONString.quote($0.origin.name)):\($0.seq)" }.joined(separator: ",") + "}"
    }

    static func optional(_ s: String?) -> String { s.map(JSONString.quote) ?? "null" }
}

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-22T22:30:07.123Z`).
enum RFC3339 {
    static func format(millis: UInt64) -> String {
        let seconds = Int64(millis / 1_000)
        let ms = Int(millis % 1_000)
        var days = seconds / 86_400
        let secondOfDay = Int(seconds % 86_400)
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719_468
        let era = days / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3_600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(ms, 3))Z"
    }

    /// Parses an RFC 3339 time (with or without fractional seconds, any offset).
    static func parse(_ text: String) -> UInt64? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        guard let date = withFraction.date(from: text) ?? plain.date(from: text), date.timeIntervalSince1970 >= 0 else {
            return nil
        }
        return UInt64((date.timeIntervalSince1970 * 1_000).rounded())
    }
}
