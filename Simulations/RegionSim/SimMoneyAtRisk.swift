import ReplicaCore

/// An amount of one currency, in minor units (cents; yen for JPY).
public struct CurrencyAmount: Sendable, Hashable {
    public let currency: String
    public let minorUnits: Int64

    public init(currency: String, minorUnits: Int64) {
        self.currency = currency
        self.minorUnits = minorUnits
    }
}

extension InMemoryStorage {
    /// The simulated store's answer to the node's `StoreReader.amountsAbove`: per currency,
    /// the amounts of the complete payments with a write of `origin` above `seq` in the
    /// log this store keeps (each payment once, at its amount now), sorted by currency.
    /// With `seq` the most of `origin`'s writes any peer acknowledged, it is what losing
    /// `origin` now would lose.
    func amountsAbove(_ seq: UInt64, of origin: RegionID) -> [CurrencyAmount] {
        // Entries the log no longer keeps are not counted (as the node's log table).
        let after = max(seq, log.firstAvailable(origin) - 1)
        var seen = Set<PaymentID>()
        var sums: [String: Int64] = [:]
        for bytes in log.encodedEntries(of: origin, after: after, limit: Int.max) {
            // Only the payment's id is read (decoding a create derives its fingerprint).
            guard let id = try? LogEntry.paymentID(ofEncoded: bytes) else {
                preconditionFailure("a committed log entry does not start with its header and payment id")
            }
            guard seen.insert(id).inserted, let record = records[id]?.record, record.isComplete,
                let amount = record[.amount]?.value.integer, let currency = record[.currency]?.value.text
            else { continue }
            sums[currency, default: 0] += amount
        }
        return sums.keys.sorted().map { CurrencyAmount(currency: $0, minorUnits: sums[$0]!) }
    }
}

extension ReplicationStatus {
    /// The most of this region's own writes any peer has acknowledged: writes up to it
    /// survive the loss of this region.
    var heldElsewhere: UInt64 { peers.map { $0.acked[region] }.max() ?? 0 }
}
