import HTTPTypes
import PaymentsWire
import ReplicaCore

/// `POST /v1/payments` as the API takes it, apart from how the request arrived: the
/// checks of its body and headers before anything is written, and its answer once the
/// write is acknowledged. The route and the create fast path (`PlainCreate`) both call
/// these, so a create is checked and answered one way whichever path takes it.
struct PaymentCreation: Sendable {
    let command: PaymentCommand
    let durability: Durability

    /// The create in `body` with `headers`, by `key`: its refusals are the route's (400
    /// for a body that is not JSON, 422 for a field, 403 for a merchant outside the key's
    /// bounds, 400/422 for the `X-Durability` and `Idempotency-Key` headers). The id is
    /// derived from the merchant and the `Idempotency-Key`, or `newID()` without one.
    static func prepare(
        body: [UInt8], headers: HTTPFields, key: APIKey, settings: APISettings, newID: () -> PaymentID
    ) throws(APIError) -> PaymentCreation {
        let create = try PaymentRequests.create(try PaymentRequests.parseBody(body))
        // A merchant-bound key names the merchant itself, so saying no reveals nothing.
        guard key.covers(merchantID: create.merchantID) else {
            throw APIError.merchantForbidden(key, create.merchantID)
        }
        let durability = try Self.durability(headers, default: settings.defaultDurability)
        guard let idempotencyKey = headers[.idempotencyKey] else {
            return PaymentCreation(command: .create(newID(), create, idempotent: false), durability: durability)
        }
        guard (1...255).contains(idempotencyKey.utf8.count),
            idempotencyKey.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E })
        else {
            throw APIError.invalid("Idempotency-Key", "Idempotency-Key must be 1-255 printable ASCII characters")
        }
        // The id is derived from the merchant id as the body gives it: checked here only
        // to be a string within the key's bounds. The write rule validates the create,
        // merchant id included, before anything else, so an invalid merchant id is a 422
        // and no payment ever gets an id derived from it.
        let id = PaymentID.derived(merchantID: create.merchantID, idempotencyKey: idempotencyKey)
        return PaymentCreation(command: .create(id, create, idempotent: true), durability: durability)
    }

    /// A write's durability: `X-Durability` (`local` or `remote`), or the region's default.
    static func durability(_ headers: HTTPFields, default value: Durability) throws(APIError) -> Durability {
        guard let text = headers[.xDurability] else { return value }
        guard let durability = Durability(rawValue: text) else {
            throw APIError.invalid("X-Durability", "X-Durability must be local or remote")
        }
        return durability
    }

    /// The answer to an acknowledged create: 201, 200 for an idempotent replay, 202 when
    /// `remote` was asked and only `local` reached; the payment's JSON, its `Location`,
    /// the session token and the durability reached.
    func answer(_ ack: WriteAck) -> (status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8]) {
        let status: HTTPResponse.Status =
            ack.replayed ? .ok : (durability == .remote && ack.achieved == .local ? .accepted : .created)
        var headers = Self.writeHeaders(ack)
        headers[.location] = "/v1/payments/\(ack.payment.id.rawValue)"
        if ack.replayed { headers[.idempotentReplayed] = "true" }
        var body = JSONBytes(capacity: 512)
        body.payment(ack.payment)
        return (status, headers, body.bytes)
    }

    /// What every write's answer carries: its session token and the durability reached.
    static func writeHeaders(_ ack: WriteAck) -> HTTPFields {
        [.xSessionToken: SessionToken.format(ack.sessionToken), .xDurabilityAchieved: ack.achieved.rawValue]
    }
}
