import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// The store keeps the cluster's active wire format (it only rises) and what each peer
/// was last heard to speak; a store made before it kept them ran format 3; a new
/// cluster's store starts at its binary's newest format.
@Suite struct WireRecordStoreTests {
    static func raise(_ store: ReplicaStore, to active: UInt8, speaks: [(RegionID, UInt8)]) throws {
        var request = PersistRequest(
            id: 1, entries: [], records: [], conflicts: [], vector: try store.recover().vector, clockHighWater: .zero,
            compactThrough: nil)
        request.wire = WireRecord(active: active, speaks: speaks.map { WireRecord.Speaks(region: $0.0, version: $0.1) })
        try store.commit([request])
    }

    @Test func theRecordSurvivesReopening_andTheActiveFormatNeverGoesDown() throws {
        let tmp = TempStore()
        do {
            let store = try tmp.open()
            #expect(try store.recover().wireActive == 3)  // made before the record: format 3
            try Self.raise(store, to: 4, speaks: [(euWest, 4), (apNortheast, 3)])
            try Self.raise(store, to: 3, speaks: [(apNortheast, 4)])
        }
        let recovered = try tmp.open().recover()
        #expect(recovered.wireActive == 4)
        #expect(recovered.wireSpeaks == [euWest: 4, apNortheast: 4])
    }

    @Test func aNewClusterStartsAtItsBinarysNewestFormat() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        try store.markNewRegion(wireVersion: 4)
        #expect(try store.recover().wireActive == 4)
        let previous = TempStore()
        let old = try previous.open()
        try old.markNewRegion(wireVersion: 3)
        #expect(try old.recover().wireActive == 3)
    }
}

/// The store keeps retired regions (what each was last heard to hold never goes down)
/// and this region's own retirement.
@Suite struct MembershipStoreTests {
    static func record(_ store: ReplicaStore, _ retired: [(RegionID, UInt64)], selfRetired: Bool = false) throws {
        var request = PersistRequest(
            id: 1, entries: [], records: [], conflicts: [], vector: try store.recover().vector, clockHighWater: .zero,
            compactThrough: nil)
        request.membership = MembershipRecord(
            retired: retired.map { RetiredRegion(region: $0.0, lastHeard: $0.1) }, selfRetired: selfRetired)
        try store.commit([request])
    }

    @Test func retirementsSurviveReopening_andAreNeverUndone() throws {
        let tmp = TempStore()
        do {
            let store = try tmp.open()
            #expect(try store.recover().retired.isEmpty)
            #expect(try store.recover().selfRetired == false)
            try Self.record(store, [(euWest, 7)])
            try Self.record(store, [(euWest, 3), (apNortheast, 0)], selfRetired: true)
            try Self.record(store, [])
        }
        let recovered = try tmp.open().recover()
        #expect(recovered.retired == [euWest: 7, apNortheast: 0])
        #expect(recovered.selfRetired)
    }
}

/// A binary refuses a store a newer release migrated, saying what to do.
@Suite struct NewerStoreTests {
    @Test func aStoreFromANewerReleaseIsRefusedWithWhatToDo() throws {
        let tmp = TempStore()
        do {
            let store = try tmp.open()
            try store.markNewRegion()
        }
        // What a release with one more migration leaves behind.
        let db = try SQLiteDatabase(path: tmp.path)
        try db.execute("PRAGMA user_version = \(Schema.migrations.count + 1)")
        #expect {
            _ = try tmp.open()
        } throws: { error in
            "\(error)".contains("a newer release wrote it") && "\(error)".contains("restore the backup")
        }
    }
}
