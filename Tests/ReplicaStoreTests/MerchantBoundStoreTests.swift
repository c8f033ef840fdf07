import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// The store's reads for a merchant-bound API key: the reporting list and the conflict
/// log narrowed to a set of merchants, alone or with a `merchant_id` filter.
@Suite struct MerchantBoundStoreTests {
    /// Payments 0...8 (merchants m0, m1, m2 in turn), committed.
    static func store(_ tmp: TempStore) throws -> (ReplicaStore, [PaymentID]) {
        let store = try tmp.open()
        var writer = Writer()
        var ids: [PaymentID] = []
        for i in 0..<9 {
            try store.commit([writer.create(i, at: UInt64(1_000 + i))])
            ids.append(PaymentID.derived(merchantID: "m\(i % 3)", idempotencyKey: "k\(i)"))
        }
        return (store, ids)
    }

    @Test func test_list_withMerchantBounds_holdsOnlyThoseMerchants() throws {
        let tmp = TempStore()
        let (store, _) = try Self.store(tmp)
        let reader = try store.reader()
        func merchants(_ filter: PaymentFilter, limit: Int = 50) throws -> [String] {
            try reader.list(filter, limit: limit, cursor: nil).payments.map(\.merchantID)
        }
        #expect(try merchants(PaymentFilter(merchantIDs: ["m1"])) == ["m1", "m1", "m1"])
        #expect(try Set(merchants(PaymentFilter(merchantIDs: ["m0", "m2"]))) == ["m0", "m2"])
        #expect(try merchants(PaymentFilter(merchantIDs: ["m0", "m2"])).count == 6)
        #expect(try merchants(PaymentFilter(merchantID: "m1", merchantIDs: ["m0", "m2"])).isEmpty)
        #expect(try merchants(PaymentFilter(merchantID: "m2", merchantIDs: ["m0", "m2"])) == ["m2", "m2", "m2"])
        #expect(try merchants(PaymentFilter(merchantIDs: [])).isEmpty)
        #expect(try merchants(PaymentFilter(merchantIDs: ["nobody"])).isEmpty)

        // Pages of two through both merchants: no gap, no repeat, newest first.
        var seen: [PaymentID] = []
        var cursor: ListCursor?
        repeat {
            let page = try reader.list(PaymentFilter(merchantIDs: ["m0", "m2"]), limit: 2, cursor: cursor)
            seen += page.payments.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        let all = try reader.list(PaymentFilter(merchantIDs: ["m0", "m2"]), limit: 50, cursor: nil).payments.map(\.id)
        #expect(seen == all && seen.count == 6)
    }

    @Test func test_conflicts_withMerchantBounds_holdOnlyRowsOfTheirPayments() throws {
        let tmp = TempStore()
        let (store, ids) = try Self.store(tmp)
        let unknown = PaymentID.derived(merchantID: "m9", idempotencyKey: "never-written")
        // Conflicts on payments 0..8 in order, then one on a payment the store does not hold.
        try store.commit([Self.conflicts(on: ids + [unknown], requestID: 100)])
        let reader = try store.reader()
        let bound = try reader.conflicts(limit: 50, before: nil, merchantIDs: ["m1"])
        #expect(bound.rows.map(\.paymentID) == [ids[7], ids[4], ids[1]].map(\.rawValue))
        #expect(bound.nextBefore == nil)
        #expect(try reader.conflicts(limit: 50, before: nil).rows.count == 10)
        #expect(try reader.conflicts(limit: 50, before: nil, merchantIDs: ["m9"]).rows.isEmpty)

        // A page of two, then the rest.
        let first = try reader.conflicts(limit: 2, before: nil, merchantIDs: ["m1"])
        #expect(first.rows.map(\.paymentID) == [ids[7], ids[4]].map(\.rawValue))
        let next = try #require(first.nextBefore)
        let second = try reader.conflicts(limit: 2, before: next, merchantIDs: ["m1"])
        #expect(second.rows.map(\.paymentID) == [ids[1].rawValue] && second.nextBefore == nil)

        // A scan bound of 3 rows: the page stops short and says where to go on, and the
        // pages together hold every matching row once.
        var rows: [String] = []
        var before: Int64?
        var pages = 0
        repeat {
            let page = try reader.conflicts(limit: 50, before: before, merchantIDs: ["m1"], scanLimit: 3)
            rows += page.rows.map(\.paymentID)
            before = page.nextBefore
            pages += 1
        } while before != nil && pages < 10
        #expect(rows == [ids[7], ids[4], ids[1]].map(\.rawValue))
        #expect(pages == 4)
    }

    /// One conflict row per id, on `description`, in order.
    static func conflicts(on ids: [PaymentID], requestID: UInt64) -> PersistRequest {
        let s1 = Stamp(time: HLCTimestamp(wallMillis: 1, counter: 0), region: usEast)
        let s2 = Stamp(time: HLCTimestamp(wallMillis: 2, counter: 0), region: euWest)
        let rows = ids.map { id in
            ConflictRecord(
                paymentID: id, field: .description, winner: FieldRegister(value: .text("b"), stamp: s2, base: nil),
                loser: FieldRegister(value: .text("a"), stamp: s1, base: nil),
                detectedAt: HLCTimestamp(wallMillis: 3, counter: 0))
        }
        return PersistRequest(
            id: requestID, entries: [], records: [], conflicts: rows, vector: VersionVector(),
            clockHighWater: .zero, compactThrough: nil)
    }
}
