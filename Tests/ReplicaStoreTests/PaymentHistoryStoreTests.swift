import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// A payment's history as the SQLite store reads it (from the feed's rows, by payment):
/// the same as the in-memory store's, actors kept through the store's encoding, and
/// refused once retention trimmed the create.
@Suite struct PaymentHistoryStoreTests {
    @Test func theStoreAnswersAsTheInMemoryStore_withActors() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var memory = InMemoryStorage()
        var w = Writer()
        var requests = (0..<6).map { w.create($0, at: 1_000 + UInt64($0), actor: "shop-\($0 % 2)") }
        requests.append(w.update(3, PaymentPatch(status: .authorized), at: 2_000, actor: "ops"))
        requests.append(w.update(3, PaymentPatch(description: .set("checked")), at: 2_001))
        for r in requests {
            try store.commit([r])
            memory.commit([r])
        }
        let reader = try store.reader()
        let id = PaymentID.derived(merchantID: "m0", idempotencyKey: "k3")
        let history = try #require(try reader.history(id, limit: 100))
        #expect(history.changes.map(\.actor) == ["shop-1", "ops", nil])
        #expect(history.changes.map(\.seq) == [4, 7, 8])
        #expect(history.payment.status == .authorized)
        #expect(try memory.history(id, limit: 100) == history)
        for i in 0..<6 {
            let other = PaymentID.derived(merchantID: "m\(i % 3)", idempotencyKey: "k\(i)")
            #expect(try reader.history(other, limit: 100) == (try memory.history(other, limit: 100)))
        }
        #expect(try reader.history(PaymentID.derived(merchantID: "m0", idempotencyKey: "none"), limit: 100) == nil)
    }

    @Test func aTrimmedCreateIsRefused() throws {
        let tmp = TempStore()
        var options = StoreOptions(path: tmp.path)
        options.eventsKept = 3
        let store = try ReplicaStore(options: options)
        var w = Writer()
        try store.commit((0..<6).map { w.create($0, at: 1_000 + UInt64($0), actor: "shop") })
        try store.trimEvents()
        let reader = try store.reader()
        let trimmed = PaymentID.derived(merchantID: "m0", idempotencyKey: "k0")
        #expect(throws: PaymentHistoryError.self) { try reader.history(trimmed, limit: 100) }
        let kept = PaymentID.derived(merchantID: "m2", idempotencyKey: "k5")
        #expect(try reader.history(kept, limit: 100)?.changes.map(\.seq) == [6])
    }
}
