import Hummingbird
import PaymentsWire
import ReplicaCore

/// `GET /v1/payments/{id}/history`: who changed a payment, where and when.
///
/// The changes this region holds of the payment, oldest first (stamp order, the same at
/// every region that holds them): each with its actor (the id of the API key that made
/// it), origin (the region it came through), seq, stamp, the time of the stamp, and the
/// fields it wrote. The actor and origin travel with the change itself, so any region
/// answers the same after the origin is gone. 410 `history_truncated` when the region no
/// longer holds a change that wrote one of the payment's fields (see `PaymentHistory`).
/// A merchant-bound key sees only its merchants' payments (404 for another one's).
extension PaymentRoutes {
    func history(_ request: Request, id text: String, key: APIKey) async throws -> Response {
        let id = try paymentID(text)
        let query = request.uri.queryParameters
        var limit = 100
        if let given = query["limit"] {
            guard let n = Int(String(given)), (1...PaymentHistory.limitMax).contains(n) else {
                throw APIError.invalid("limit", "limit must be an integer from 1 to \(PaymentHistory.limitMax)")
            }
            limit = n
        }
        let found: PaymentHistory?
        do { found = try await service.history(id, limit: limit) } catch {
            // Another merchant's payment is, to a merchant-bound key, one this region does
            // not hold: its history's 410 (which names a stamp) must not say otherwise.
            if case .historyTruncated = error, key.merchants != nil {
                let payment = try? await service.readPayment(id, sessionToken: nil)
                guard let payment, key.covers(merchantID: payment.merchantID) else { throw notHeld(id) }
            }
            throw APIError(error)
        }
        guard let history = found, key.covers(merchantID: history.payment.merchantID) else { throw notHeld(id) }
        return APIResponses.json(.ok, PaymentHistoryJSON.history(history))
    }
}

/// The history's JSON.
enum PaymentHistoryJSON {
    static func history(_ h: PaymentHistory) -> String {
        "{\"payment_id\":\(JSONString.quote(h.payment.id.rawValue)),\"data\":["
            + h.changes.map(change).joined(separator: ",") + "],\"has_more\":\(h.hasMore)}"
    }

    static func change(_ entry: LogEntry) -> String {
        // A create is the change that wrote the merchant (only a create may).
        let kind = entry.changes.contains { $0.field == .merchantID } ? "create" : "patch"
        var s = "{\"kind\":\"\(kind)\""
        s += ",\"actor\":" + PaymentJSON.optional(entry.actor)
        s += ",\"origin\":\(JSONString.quote(entry.origin.name))"
        s += ",\"seq\":\(entry.seq)"
        s += ",\"stamp\":\(JSONString.quote(entry.stamp.description))"
        s += ",\"at\":\(JSONString.quote(RFC3339.format(millis: entry.hlc.wallMillis)))"
        s += ",\"changes\":" + PaymentJSON.changes(entry)
        return s + "}"
    }
}
