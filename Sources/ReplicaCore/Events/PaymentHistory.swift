/// The changes a region holds of one payment, oldest first, each with who made it
/// (`actor`), where (`origin`) and when (`stamp`): `GET /v1/payments/{id}/history`.
///
/// It is read from the change feed's rows, never kept apart from them: the payment's
/// fields come from the record, and the history only says which changes wrote them.
///
/// Order: by stamp (HLC time, then origin). Every region holding the same changes lists
/// them in the same order, and each origin's own changes come in seq order (its clock
/// only moves on). The listing order is not what decides a field's value: last-writer-
/// wins ranks a status by its place in the payment's life and a concurrent patch by its
/// depth before its stamp, so the last change listed for a field may have lost. The
/// payment shown is the one the region holds.
///
/// Complete, or refused: every field of the payment as the region holds it must have been
/// written by a change listed (its register's stamp is that change's). A region that no
/// longer holds one of those changes (retention trimmed it, or the region caught up from a
/// snapshot and never held it) answers `PaymentHistoryError.truncated` instead of a history
/// whose start is missing. A trimmed change whose values all lost cannot be detected
/// this way (retention trims in this region's commit order, so it is one committed
/// before the oldest change listed that this region committed).
public struct PaymentHistory: Hashable, Sendable {
    /// The most changes one answer lists.
    public static let limitMax = 1_000

    /// The payment now (its fields are the record's, not rebuilt from the changes).
    public let payment: Payment
    /// Oldest first; at most the limit asked for.
    public let changes: [LogEntry]
    /// True when the region holds more changes after the last one listed.
    public let hasMore: Bool

    public init(payment: Payment, changes: [LogEntry], hasMore: Bool) {
        self.payment = payment
        self.changes = changes
        self.hasMore = hasMore
    }

    /// The history of the payment `record` holds, from `entries` (the region's feed rows
    /// about it, in any order). nil when the region does not hold the payment whole (as a
    /// read answers 404). Throws when a change that wrote one of its fields is not held.
    public static func assemble(record: PaymentRecord?, entries: [LogEntry], limit: Int) throws(PaymentHistoryError)
        -> PaymentHistory?
    {
        guard let record, let payment = Payment(record) else { return nil }
        let ordered = entries.filter { $0.paymentID == record.id }.sorted { ($0.stamp, $0.seq) < ($1.stamp, $1.seq) }
        let held = Set(ordered.map(\.stamp))
        for field in record.presentFields {
            guard let stamp = record[field]?.stamp, !held.contains(stamp) else { continue }
            throw .truncated(record.id, missing: field, stamp: stamp)
        }
        let shown = min(max(1, limit), limitMax)
        return PaymentHistory(payment: payment, changes: Array(ordered.prefix(shown)), hasMore: ordered.count > shown)
    }
}

/// Why a region cannot show a payment's history.
public enum PaymentHistoryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The change that wrote `field`'s value (stamped `stamp`) is no longer held here.
    case truncated(PaymentID, missing: PaymentField, stamp: Stamp)

    public var description: String {
        switch self {
        case .truncated(let id, let field, let stamp):
            "this region no longer holds the whole history of \(id): the change that wrote its \(field) "
                + "(stamped \(stamp)) is gone (the change feed's retention trimmed it, or the region caught up "
                + "from a snapshot); another region may still hold it"
        }
    }
}
