import PaymentsWire
import ReplicaCore

/// The columns of one `payments` row, computed from its record. `GroupCommitter` computes
/// them on the thread that submits a request, so its one committing thread spends its
/// time in SQLite (during a catch-up that thread does the largest share of the
/// receiver's work). The stamps are not columns: they are in `registers` (the API
/// shows them).
struct PaymentRow: Sendable {
    let id: String
    /// Nil columns: the record does not yet hold a whole payment (`complete` 0).
    let payment: Columns?
    let registers: [UInt8]

    /// The columns of a record that holds a whole payment.
    struct Columns: Sendable {
        let merchantID: String
        let orderID: String
        let amount: Int64
        let currency: String
        let method: String
        let status: String
        let paymentKey: String?
        let customerID: String?
        let description: String?
        let metadata: String?
        let createdAt: Int64
        let updatedAt: Int64
        let region: String
        let version: Int64
    }

    init(_ encoded: EncodedRecord) {
        let record = encoded.record
        id = record.id.rawValue
        payment = Payment(record).map { p in
            Columns(
                merchantID: p.merchantID, orderID: p.orderID, amount: p.amount, currency: p.currency,
                method: p.method.rawValue, status: p.status.rawValue, paymentKey: p.paymentKey,
                customerID: p.customerID, description: p.description, metadata: p.metadata.map(PaymentJSON.metadata),
                createdAt: Int64(p.createdAtMillis), updatedAt: Int64(p.updatedAtMillis), region: p.region.name,
                version: Int64(bitPattern: p.version.rawValue))
        }
        registers = encoded.bytes
    }
}

/// A persist request with its records' rows computed (`PaymentRow`), ready to commit.
public struct PreparedRequest: Sendable {
    public let request: PersistRequest
    let rows: [PaymentRow]

    /// Computes the rows of `request`'s records: on the caller's thread.
    public init(_ request: PersistRequest) {
        self.request = request
        self.rows = request.records.map(PaymentRow.init)
    }
}
