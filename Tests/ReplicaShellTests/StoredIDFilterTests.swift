import ReplicaCore
import Testing

@testable import ReplicaShell

/// A shell whose store held few payments at the start knows which ids the store may hold:
/// a read of an id it never handed the store is answered with no read, and one it did is
/// read back (`PrefetchTests` runs its eviction test with the filter too).
@Suite struct StoredIDFilterTests {
    typealias F = ShellFixtures

    static func id(_ label: String, _ n: Int) -> PaymentID {
        PaymentID.derived(merchantID: "m", idempotencyKey: "\(label)-\(n)")
    }

    @Test func noIdInsertedIsEverMissed_andFewOthersAreTakenForOne() {
        var filter = StoredIDFilter(bits: 1 << 16)
        let inserted = (0..<4_000).map { Self.id("in", $0) }
        for id in inserted { filter.insert(id) }
        #expect(inserted.allSatisfy(filter.mayContain))
        // 4,000 ids in 65,536 bits: about 0.5% false positives ((1 - e^(-3 * 4000 / 65536))^3).
        let taken = (0..<10_000).filter { filter.mayContain(Self.id("out", $0)) }.count
        #expect(taken < 150, "\(taken) of 10,000 ids never inserted taken for inserted")
        #expect(!filter.isFull)
        // Writing the same ids again counts nothing: the count follows distinct ids.
        let distinct = filter.count
        for _ in 0..<10 { for id in inserted { filter.insert(id) } }
        #expect(filter.count == distinct && distinct <= 4_000 && distinct > 3_900)
        for n in 4_000...(1 << 16) { filter.insert(Self.id("in", n)) }
        #expect(filter.isFull)
        #expect(StoredIDFilter(bits: 1 << 16).mayContain(Self.id("in", 0)) == false)
    }

    @Test func aRestartedShell_startsFromTheIdsTheStoreHolds() {
        let store = ManualStore()
        let first = F.shell(cacheBytes: 4_096, filterBits: 1 << 16, store: store)
        first.submit(F.create(1), durability: .local, reply: { _ in })
        store.finish(.committed)
        #expect(store.loads.isEmpty)
        // The same store under a new shell (a restart): the payment it holds is read back
        // to be updated; a new one is not read.
        let second = F.shell(cacheBytes: 4_096, filterBits: 1 << 16, store: store)
        second.submit(F.create(2), durability: .local, reply: { _ in })
        store.finish(.committed)
        #expect(store.loads.isEmpty)
        let answer = Answers<WriteAck>()
        second.submit(PrefetchTests.patch(1, .authorized), durability: .local, reply: answer.reply)
        #expect(store.loads.count == 1)
        store.finish(.committed)
        #expect((try? answer.all.first?.get())?.payment.orderID == "o-1")
        // A store that does not list its ids (it holds too many) gets no filter.
        var recovered = store.committed.recover(includingRecords: false)
        recovered.heldIDs = nil
        let third = TestShell(
            config: second.config, recovered: recovered, store: store, bus: RecordingBus(), clock: ManualClock())
        #expect(third.storedIDs == nil)
    }
}
