import ReplicaCore
import Testing

@testable import ReplicaShell

/// A shell whose engine keeps a bounded record cache: what an input needs is read from
/// the store before the engine runs it, and inputs keep the order they came in.
@Suite struct PrefetchTests {
    typealias F = ShellFixtures

    static func patch(_ n: Int, _ status: PaymentStatus) -> PaymentCommand {
        .update(PaymentID.derived(merchantID: "m_1", idempotencyKey: "k-\(n)"), PaymentPatch(status: status))
    }

    @Test func test_writesWaitForTheirRecords_andLaterInputsKeepTheirOrder() {
        let shell = F.shell(cacheBytes: 4_096)
        shell.store.holdLoads = true
        let first = Answers<WriteAck>()
        let second = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .local, reply: first.reply)
        shell.submit(F.create(2), durability: .local, reply: second.reply)
        // One read at a time; the second write waits behind the first's, then reads its own.
        #expect(shell.store.loads.count == 1 && shell.store.waiting.isEmpty)
        let peerVector = VersionVector([F.virginia: 0])
        shell.peerConnected(F.virginia)
        shell.peerSent(.hello(region: F.virginia, vector: peerVector), from: F.virginia)
        #expect(shell.bus.sent.isEmpty, "a peer event ran ahead of the writes queued before it")
        shell.store.finishLoads()
        #expect(shell.store.waiting.map { $0.request.entries[0].entry.seq } == [1])
        #expect(shell.store.loads.count == 2 && shell.bus.sent.isEmpty)
        shell.store.finishLoads()
        #expect(shell.store.waiting.map { $0.request.entries[0].entry.seq } == [1, 2])
        #expect(shell.bus.sent.contains { if case .hello = $0.0 { true } else { false } })
        shell.store.finish(.committed)
        #expect((try? first.all.first?.get())?.seq == 1 && (try? second.all.first?.get())?.seq == 2)
    }

    /// With and without the filter of ids the store may hold (`StoredIDFilter`): with it,
    /// a store that started empty is not read for new ids, only for what it was given.
    @Test(arguments: [0, 1 << 16])
    func test_evictedRecord_isReadBackBeforeAnUpdate_neverTakenForANewOne(filterBits: Int) {
        let shell = F.shell(cacheBytes: 4_096, filterBits: filterBits)
        for n in 1...40 {
            shell.submit(F.create(n), durability: .local, reply: { _ in })
            shell.store.finish(.committed)
        }
        // 40 records do not fit 4 KB: the first ones were evicted once committed.
        #expect(shell.engine.recordCacheBytesHeld <= 4_096)
        #expect(!shell.engine.recordsToLoad(for: Self.patch(1, .authorized)).isEmpty)
        let loadsBefore = shell.store.loads.count
        if filterBits > 0 { #expect(loadsBefore == 0, "a create of a new id read the store") }
        let answer = Answers<WriteAck>()
        shell.submit(Self.patch(1, .authorized), durability: .local, reply: answer.reply)
        #expect(shell.store.loads.count == loadsBefore + 1)
        #expect(shell.store.loads.last == [PaymentID.derived(merchantID: "m_1", idempotencyKey: "k-1")])
        shell.store.finish(.committed)
        let ack = try? answer.all.first?.get()
        #expect(ack?.payment.status == .authorized && ack?.payment.orderID == "o-1" && ack?.payment.amount == 1_001)
        // An idempotent replay of an evicted create is answered from the store's record.
        let replay = Answers<WriteAck>()
        shell.submit(F.create(2), durability: .local, reply: replay.reply)
        #expect((try? replay.all.first?.get())?.replayed == true)
        #expect(shell.store.loads.count == loadsBefore + 2)
    }

    @Test func test_failedCommitWhileInputsWait_answersThemUnavailable() {
        let shell = F.shell(cacheBytes: 4_096)
        let first = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .local, reply: first.reply)
        shell.store.holdLoads = true
        let queued = Answers<WriteAck>()
        shell.submit(F.create(2), durability: .local, reply: queued.reply)
        shell.store.finish(.rolledBack("disk full"))
        #expect({ if case .failure(.unavailable) = queued.all.first { true } else { false } }())
        // The read's late answer finds a shell that is not serving: nothing runs.
        shell.store.finishLoads()
        #expect(shell.store.waiting.isEmpty && queued.all.count == 1)
    }
}
