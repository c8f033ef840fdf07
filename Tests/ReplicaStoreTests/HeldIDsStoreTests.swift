import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// A store lists the ids it holds on recovery while they are few, for the shell's filter
/// of ids it may hold; past `RecoveredState.heldIDsMax` it lists none.
@Suite struct HeldIDsStoreTests {
    @Test func theIdsHeldAreListedWhileFew_andNoneOnceMore() throws {
        let tmp = TempStore()
        let store = try tmp.open(.normal)
        #expect(try store.reader().recover(includingRecords: false).heldIDs == [])
        var w = Writer()
        try store.commit((1...3).map { w.create($0, at: 1_000) })
        let three = try #require(try store.reader().recover(includingRecords: false).heldIDs)
        #expect(
            Set(three) == Set((1...3).map { PaymentID.derived(merchantID: "m\($0 % 3)", idempotencyKey: "k\($0)") }))
        try store.commit((4...RecoveredState.heldIDsMax).map { w.create($0, at: 1_000) })
        #expect(try store.reader().recover(includingRecords: false).heldIDs?.count == RecoveredState.heldIDsMax)
        try store.commit([w.create(RecoveredState.heldIDsMax + 1, at: 1_000)])
        #expect(try store.reader().recover(includingRecords: false).heldIDs == nil)
    }

    @Test func aRowWhoseIdIsNotAPaymentId_turnsTheListOff() throws {
        let tmp = TempStore()
        let store = try tmp.open(.normal)
        var w = Writer()
        try store.commit([w.create(1, at: 1_000)])
        #expect(try store.reader().recover(includingRecords: false).heldIDs?.count == 1)
        try SQLiteDatabase(path: tmp.path).execute("UPDATE payments SET id = 'not an id'")
        #expect(try store.reader().recover(includingRecords: false).heldIDs == nil)
    }
}
