import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// One process per store, and a store keeps to its region.
@Suite struct StoreOwnershipTests {
    @Test func test_secondOpenOfAStore_isRefusedUntilTheFirstCloses() throws {
        let tmp = TempStore()
        var first: ReplicaStore? = try tmp.open()
        #expect(first != nil)
        #expect {
            _ = try tmp.open()
        } throws: { error in
            guard case StoreOwnershipError.inUse(_, let holder)? = error as? StoreOwnershipError else { return false }
            return holder == "pid \(getpid())"
        }
        first = nil  // closing releases the lock
        _ = try tmp.open()
    }

    @Test func test_storeClaimedByOneRegion_refusesAConfigNamingAnother() throws {
        let tmp = TempStore()
        do {
            let store = try tmp.open()
            try store.claim(region: usEast)
            try store.claim(region: usEast)  // the same region again is fine
        }
        let again = try tmp.open()
        #expect(try again.region() == "us-east-1")
        #expect(throws: StoreOwnershipError.otherRegion(path: tmp.path, stored: "us-east-1", configured: "eu-west-1")) {
            try again.claim(region: euWest)
        }
    }

    @Test func test_newRegionMark_isRefusedOnAStoreHoldingData() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        try store.markNewRegion()
        #expect(try store.recover().ownHistoryComplete)
        var w = Writer()
        try store.commit([w.create(1, at: 1_000)])
        #expect(throws: (any Error).self) { try store.markNewRegion() }
    }

    @Test func test_freshStore_doesNotHoldItsOwnHistory_untilACommitSaysSo() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        #expect(try store.recover().ownHistoryComplete == false)
        var w = Writer()
        try store.commit([w.create(1, at: 1_000)])
        #expect(try store.recover().ownHistoryComplete)
    }
}
