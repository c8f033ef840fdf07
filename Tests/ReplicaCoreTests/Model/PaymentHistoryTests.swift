import Testing

@testable import ReplicaCore

/// `PaymentHistory.assemble`: stamp order whatever order the rows came in, every change
/// kept with its actor (twin creates too), and a refusal when a change that wrote a
/// current value is missing.
@Suite struct PaymentHistoryTests {
    static let us = RegionID("us-east-1")!
    static let eu = RegionID("eu-west-1")!
    static let id = PaymentID.derived(merchantID: "m_a", idempotencyKey: "order-1")

    static func entry(
        _ origin: RegionID, _ seq: UInt64, at millis: UInt64, _ fields: [(PaymentField, FieldValue)], by actor: String
    ) -> LogEntry {
        LogEntry(
            origin: origin, seq: seq, hlc: HLCTimestamp(wallMillis: millis, counter: 0), paymentID: id,
            changes: fields.map { FieldChange(field: $0.0, value: $0.1, base: nil) }, actor: actor)
    }

    /// The fields of a create of `amount` at `region`, as the write rule makes them.
    static func createFields(amount: Int64, at region: RegionID) -> [(PaymentField, FieldValue)] {
        let create = CreatePayment(
            merchantID: "m_a", orderID: "order-1", amount: amount, currency: "EUR", method: .card)
        guard
            case .write(let fields) = PaymentWriteRule.decide(
                .create(id, create, idempotent: true), existing: nil, region: region)
        else { fatalError("the create was refused") }
        return fields
    }

    static func record(_ entries: [LogEntry]) -> PaymentRecord {
        var record = PaymentRecord(id: id)
        for e in entries { for c in e.changes { record.merge(e.register(for: c), into: c.field) } }
        return record
    }

    /// Twin creates at two regions (one Idempotency-Key), then patches from both.
    static let changes = [
        entry(us, 1, at: 100, createFields(amount: 500, at: us), by: "shop-a"),
        entry(eu, 1, at: 101, createFields(amount: 500, at: eu), by: "shop-a-eu"),
        entry(eu, 2, at: 150, [(.status, .text("authorized"))], by: "ops"),
        entry(us, 2, at: 120, [(.description, .text("first look"))], by: "reporting-fix"),
        entry(us, 3, at: 200, [(.description, .text("refund asked"))], by: "shop-a"),
    ]

    @Test func changesComeInStampOrderWithTheirActors() throws {
        let record = Self.record(Self.changes)
        for rows in [Self.changes, Self.changes.reversed(), Self.changes.shuffled()] {
            let history = try #require(try PaymentHistory.assemble(record: record, entries: rows, limit: 100))
            #expect(history.changes.map(\.hlc.wallMillis) == [100, 101, 120, 150, 200])
            #expect(history.changes.map(\.actor) == ["shop-a", "shop-a-eu", "reporting-fix", "ops", "shop-a"])
            #expect(history.payment.description == "refund asked")
            #expect(history.payment.status == .authorized)
            #expect(!history.hasMore)
        }
        let two = try #require(try PaymentHistory.assemble(record: record, entries: Self.changes, limit: 2))
        #expect(two.changes.map(\.hlc.wallMillis) == [100, 101])
        #expect(two.hasMore)
    }

    /// The twin that won the create (the later stamp) and the patch that wrote the status
    /// are each needed; the losing twin and the overwritten description are not detectable.
    @Test func aMissingChangeThatWroteACurrentValueIsRefused() throws {
        let record = Self.record(Self.changes)
        for (i, field) in [(1, PaymentField.merchantID), (2, .status), (4, .description)] {
            var rows = Self.changes
            rows.remove(at: i)
            #expect(throws: PaymentHistoryError.truncated(Self.id, missing: field, stamp: Self.changes[i].stamp)) {
                _ = try PaymentHistory.assemble(record: record, entries: rows, limit: 100)
            }
        }
        for i in [0, 3] {
            var rows = Self.changes
            rows.remove(at: i)
            let history = try PaymentHistory.assemble(record: record, entries: rows, limit: 100)
            #expect(history?.changes.count == 4)
        }
    }

    /// A region holding only a patch (its create not yet arrived) does not hold the
    /// payment: no history, as a read finds nothing.
    @Test func aPaymentHeldOnlyInPartHasNoHistory() throws {
        let patch = Self.changes[2]
        #expect(try PaymentHistory.assemble(record: Self.record([patch]), entries: [patch], limit: 100) == nil)
        #expect(try PaymentHistory.assemble(record: nil, entries: [patch], limit: 100) == nil)
    }
}
