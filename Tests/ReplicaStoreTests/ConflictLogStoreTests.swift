import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// The conflict log: rows stored with the commit that found them, read newest first, a
/// page at a time.
@Suite struct ConflictLogStoreTests {
    @Test func test_conflicts_areStoredAndListedNewestFirst() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        let id = Fixture.id
        let s1 = Stamp(time: HLCTimestamp(wallMillis: 1, counter: 0), region: usEast)
        let s2 = Stamp(time: HLCTimestamp(wallMillis: 2, counter: 0), region: euWest)
        let conflict = ConflictRecord(
            paymentID: id, field: .description, winner: FieldRegister(value: .text("b\"q"), stamp: s2, base: nil),
            loser: FieldRegister(value: .text("a"), stamp: s1, base: nil),
            detectedAt: HLCTimestamp(wallMillis: 3, counter: 0))
        let request = PersistRequest(
            id: 1, entries: [], records: [], conflicts: [conflict, conflict], vector: VersionVector(),
            clockHighWater: .zero, compactThrough: nil)
        try store.commit([request])
        let page = try store.reader().conflicts(limit: 10, before: nil)
        let rows = page.rows
        #expect(rows.count == 2 && rows[0].sequence > rows[1].sequence && page.nextBefore == nil)
        #expect(rows[0].winnerValueJSON == "\"b\\\"q\"" && rows[0].loserStamp == "1.0@us-east-1")
        #expect(try store.reader().conflicts(limit: 10, before: rows[0].sequence).rows.count == 1)

        // A full page of the largest size still says that more follow (the route once
        // asked for one row more than the page, which the store's cap cut off).
        let many = PersistRequest(
            id: 2, entries: [], records: [], conflicts: Array(repeating: conflict, count: PaymentPage.limitMax),
            vector: VersionVector(), clockHighWater: .zero, compactThrough: nil)
        try store.commit([many])
        let full = try store.reader().conflicts(limit: PaymentPage.limitMax, before: nil)
        #expect(full.rows.count == PaymentPage.limitMax)
        let next = try #require(full.nextBefore, "a full page of \(PaymentPage.limitMax) hid the rows after it")
        let rest = try store.reader().conflicts(limit: PaymentPage.limitMax, before: next)
        #expect(rest.rows.count == 2 && rest.nextBefore == nil)
    }
}

enum Fixture {
    static let id = PaymentID.derived(merchantID: "m", idempotencyKey: "conflict")
}
