import LZ4
import ReplicaCore

/// The LZ4 dictionary of peer frames (frame kind 3): bytes every node builds the same way
/// from this code, shaped like the entries and records regions send (field tags, status,
/// method and currency values, region names, the `order-`/`pay_` shapes of typical
/// values). It lets a batch of a few entries compress about as well as a batch of
/// hundreds. Its version is the frame kind: changing these bytes needs a new kind.
/// `paynode lz4-dictionary` writes it out, so `lz4 -d -D FILE` reads captured payloads.
public enum PeerDictionary {
    /// The dictionary, digested once.
    public static let v1 = LZ4Dictionary(bytes())

    /// The dictionary's bytes (deterministic).
    public static func bytes() -> [UInt8] {
        var out: [UInt8] = []
        let regions = [
            "ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "eu-central-1", "eu-west-1",
            "eu-west-2", "eu-north-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2", "sa-east-1",
            "ca-central-1",
        ].compactMap(RegionID.init)
        let statuses = PaymentStatus.allCases.map(\.rawValue)
        let currencies = ["USD", "EUR", "JPY", "GBP", "AUD", "CAD", "CHF", "CNY", "SGD", "INR", "BRL", "KRW"]
        var seq: UInt64 = 1
        let start = HLCTimestamp(wallMillis: 1_800_000_000_000, counter: 0)
        for (i, region) in regions.enumerated() {
            let id = PaymentID.derived(merchantID: "m_\(i)", idempotencyKey: "dictionary-\(i)")
            let order = "order-\(100_000 + i)"
            let create = CreatePayment(
                merchantID: "m_shop_\(i)", orderID: order, amount: Int64(1_000 + i * 250),
                currency: currencies[i % currencies.count], method: i % 3 == 2 ? .bankTransfer : .card,
                paymentKey: "tok_\(i)", customerID: "cus_\(i)", description: "Order \(order)",
                metadata: ["channel": "web", "cart": order])
            let fields = create.fieldValues + [(PaymentField.requestFingerprint, FieldValue.text(create.fingerprint))]
            let createEntry = LogEntry(
                origin: region, seq: seq, hlc: start, paymentID: id,
                changes: fields.map { FieldChange(field: $0.0, value: $0.1, base: nil) })
            let base = Stamp(time: start, region: region)
            let update = LogEntry(
                origin: region, seq: seq + 1, hlc: HLCTimestamp(wallMillis: 1_800_000_000_100, counter: 0),
                paymentID: id,
                changes: [
                    FieldChange(
                        field: .status, value: .text(statuses[1 + i % (statuses.count - 1)]),
                        base: base, depth: 2)
                ])
            seq += 2
            out += PeerMessage.delta(batchID: UInt64(i + 1), entries: [createEntry, update]).encoded()
        }
        return out
    }
}
