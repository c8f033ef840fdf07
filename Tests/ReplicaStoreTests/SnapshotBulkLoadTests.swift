import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// An empty store catching up from a snapshot drops the list indexes for the chunks and
/// builds them again with the last one; lists answer the same throughout; a store opened
/// mid-catch-up builds them first; a store that held payments never drops them.
@Suite struct SnapshotBulkLoadTests {
    /// The records of `count` payments made at another region, in chunks of `size`.
    static func chunks(_ count: Int, size: Int) -> (chunks: [[EncodedRecord]], vector: VersionVector) {
        var w = Writer(euWest)
        for i in 0..<count { _ = w.create(i, at: 1_000 + UInt64(i)) }
        let records = w.engine.records.ids.sortedByID().map { EncodedRecord(w.engine.record($0)!) }
        return (
            stride(from: 0, to: count, by: size).map { Array(records[$0..<min($0 + size, count)]) }, w.engine.vector
        )
    }

    static func chunk(_ records: [EncodedRecord], id: UInt64, last vector: VersionVector?) -> PersistRequest {
        var r = PersistRequest(
            id: id, entries: [], records: records, conflicts: [], vector: vector ?? VersionVector(),
            clockHighWater: .zero, compactThrough: vector)
        r.snapshotChunk = true
        return r
    }

    static func count(_ records: [EncodedRecord], merchant: String) -> Int {
        records.filter { Payment($0.record)?.merchantID == merchant }.count
    }

    static func listed(_ store: ReplicaStore, merchant: String) throws -> [String] {
        try store.reader().list(PaymentFilter(merchantID: merchant), limit: 100, cursor: nil).payments.map(
            \.id.rawValue)
    }

    @Test func anEmptyStoreLoadsASnapshotWithoutItsListIndexes_andBuildsThemWithTheLastChunk() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        let (chunks, vector) = Self.chunks(30, size: 10)
        try store.commit([Self.chunk(chunks[0], id: 1, last: nil)])
        #expect(try SnapshotBulkLoad.isLoading(store.db))
        // Listed by a scan meanwhile: the same answer.
        #expect(try Self.listed(store, merchant: "m1").count == Self.count(chunks[0], merchant: "m1"))
        try store.commit([Self.chunk(chunks[1], id: 2, last: nil)])
        try store.commit([Self.chunk(chunks[2], id: 3, last: vector)])
        #expect(!(try SnapshotBulkLoad.isLoading(store.db)))
        #expect(try Self.listed(store, merchant: "m1").count == 10)
        #expect(try store.recover().vector == vector)
    }

    @Test func aStoreOpenedMidCatchUpBuildsTheIndexesFirst() throws {
        let tmp = TempStore()
        let (chunks, _) = Self.chunks(12, size: 6)
        do {
            let store = try tmp.open()
            try store.commit([Self.chunk(chunks[0], id: 1, last: nil)])
            #expect(try SnapshotBulkLoad.isLoading(store.db))
        }
        let reopened = try tmp.open()
        #expect(!(try SnapshotBulkLoad.isLoading(reopened.db)))
        #expect(try Self.listed(reopened, merchant: "m0").count == Self.count(chunks[0], merchant: "m0"))
    }

    @Test func aStoreThatHoldsPaymentsKeepsItsIndexes() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        try store.commit([w.create(1, at: 5)])
        let (chunks, _) = Self.chunks(6, size: 6)
        try store.commit([Self.chunk(chunks[0], id: 9, last: nil)])
        #expect(!(try SnapshotBulkLoad.isLoading(store.db)))
    }

    /// Snapshot chunks before the last may be committed without waiting for their fsync;
    /// nothing else may: the last chunk (it installs the vector), a write, a chunk that
    /// carries a wire or membership record. And the store is back at FULL after.
    @Test func onlyChunksBeforeTheLastAreDurableLater_andTheStoreStaysFull() throws {
        let (chunks, vector) = Self.chunks(12, size: 6)
        #expect(Self.chunk(chunks[0], id: 1, last: nil).durableLater)
        #expect(!Self.chunk(chunks[1], id: 2, last: vector).durableLater)
        var withWire = Self.chunk(chunks[0], id: 1, last: nil)
        withWire.wire = WireRecord(active: 4, speaks: [])
        #expect(!withWire.durableLater)
        var withMembership = Self.chunk(chunks[0], id: 1, last: nil)
        withMembership.membership = MembershipRecord(retired: [], selfRetired: false)
        #expect(!withMembership.durableLater)
        var w = Writer()
        let write = w.create(1, at: 5)
        #expect(!write.durableLater)

        let tmp = TempStore()
        let store = try tmp.open()
        try store.commit([Self.chunk(chunks[0], id: 1, last: nil)])
        #expect(try store.synchronousLevel() == 2, "FULL again after a group committed without its fsync")
        try store.commit([Self.chunk(chunks[1], id: 2, last: vector), write])
        #expect(try store.synchronousLevel() == 2)
    }
}
