import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// The WAL is checkpointed on a thread of its own, not inside the commit that crosses the
/// threshold; the writer checkpoints inline only when that thread cannot keep the log short.
@Suite struct WALCheckpointTests {
    static func open(_ tmp: TempStore, pages: Int) throws -> ReplicaStore {
        var o = StoreOptions(path: tmp.path)
        o.checkpointPages = pages
        return try ReplicaStore(options: o)
    }

    static func walPages(_ tmp: TempStore) -> Int {
        let size = (try? FileManager.default.attributesOfItem(atPath: tmp.path + "-wal")[.size] as? Int) ?? 0
        return size / 4_096
    }

    /// Polls `condition` until it holds or 10 s pass.
    static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }

    @Test func test_checkpoints_runOffTheWriter_andKeepTheLogShort() throws {
        let tmp = TempStore()
        let store = try Self.open(tmp, pages: 40)
        var w = Writer()
        for round in 0..<30 {
            try store.commit((0..<20).map { w.create(round * 20 + $0, at: UInt64(round)) })
            // The thread is given the time a loaded machine may not give it: the writer
            // must not need the backstop when the thread keeps up.
            #expect(Self.eventually { store.checkpointer.idle })
        }
        #expect(store.walCheckpoints.background >= 1)
        #expect(store.walCheckpoints.inline == 0)
        #expect(store.walCheckpoints.failed == 0)
        // 600 payments written; without checkpoints the log would hold every page of them.
        #expect(Self.walPages(tmp) < 4 * 40 + 40, "the log was reused after its checkpoints")
        let reader = try store.reader()
        #expect(try reader.record(PaymentID.derived(merchantID: "m0", idempotencyKey: "k0")) != nil)
        #expect(try reader.record(PaymentID.derived(merchantID: "m2", idempotencyKey: "k599")) != nil)
    }

    @Test func test_aReaderHoldingTheLog_makesTheWriterCheckpointInline_pastTheBackstop() throws {
        let tmp = TempStore()
        let store = try Self.open(tmp, pages: 10)
        var w = Writer()
        try store.commit([w.create(0, at: 0)])
        // A read transaction pins the log: no checkpoint may reset it while this is open.
        let pinned = try SQLiteDatabase(path: tmp.path, readOnly: true)
        try pinned.execute("BEGIN")
        #expect(try pinned.scalarInt("SELECT count(*) FROM payments") == 1)
        for round in 1..<40 {
            try store.commit((0..<10).map { w.create(round * 10 + $0, at: UInt64(round)) })
        }
        #expect(store.walCheckpoints.inline >= 1, "the writer took over past 4 x 10 pages")
        try pinned.execute("COMMIT")
        #expect(try pinned.scalarInt("SELECT count(*) FROM payments") == 391)
    }

    @Test func test_aLargeTransactionsLog_isCutBackToTheBackstop_onceCheckpointed() throws {
        let tmp = TempStore()
        let store = try Self.open(tmp, pages: 10)
        var w = Writer()
        try store.commit((0..<1_000).map { w.create($0, at: 0) })
        #expect(Self.walPages(tmp) > 200, "one transaction of 1,000 payments")
        // The next commits find the log checkpointed, start it over, and cut the file.
        for round in 1...3 {
            #expect(Self.eventually { store.checkpointer.idle })
            try store.commit([w.create(1_000 + round, at: UInt64(round))])
        }
        #expect(Self.walPages(tmp) <= 4 * 10, "cut back to the backstop's 40 pages")
        #expect(try store.reader().count() == 1_003)
    }

    @Test func test_closingTheStore_stopsTheThread_andTheFileReopensWhole() throws {
        let tmp = TempStore()
        var w = Writer()
        do {
            let store = try Self.open(tmp, pages: 20)
            for round in 0..<10 { try store.commit((0..<20).map { w.create(round * 20 + $0, at: UInt64(round)) }) }
        }
        // The last connection closed checkpointed the log and removed it.
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "-wal"))
        let store = try Self.open(tmp, pages: 20)
        #expect(try store.reader().count() == 200)
    }
}
