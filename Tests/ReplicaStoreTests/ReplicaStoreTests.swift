import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

@Suite struct ReplicaStoreTests {
    @Test func test_open_setsWALAndSynchronousFull_readBack() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        #expect(try store.synchronousLevel() == 2)
        #expect(try store.db.scalarText("PRAGMA journal_mode") == "wal")
        let normal = try TempStore().open(.normal)
        #expect(try normal.synchronousLevel() == 1)
    }

    @Test func test_commitThenRecover_resumesEngineWithSameStateAndClock() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        var requests = (0..<50).map { w.create($0, at: 1_000 + UInt64($0)) }
        requests.append(w.update(3, PaymentPatch(status: .authorized, description: .set("changed")), at: 2_000))
        try store.commit(requests)
        let recovered = try store.recover()
        #expect(recovered.vector == w.engine.durableVector)
        #expect(recovered.allLogEntries().count == 51)
        #expect(recovered.clockHighWater == w.engine.clockHighWater)
        let resumed = ReplicationEngine(
            config: EngineConfig(region: usEast, peers: []), recovered: recovered, nowMillis: 0)
        #expect(resumed.stateDigest() == w.engine.stateDigest())
        let reader = try store.reader()
        #expect(try reader.payment(PaymentID.derived(merchantID: "m0", idempotencyKey: "k3"))?.description == "changed")
        #expect(try reader.integrityCheck() == "ok")
    }

    /// What goes to a peer is read as stored (not decoded), but a row whose bytes belong
    /// to another key is refused, never sent.
    @Test func test_bytesForPeers_areTheStoredEncodings_andAMismatchedRowIsRefused() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        let requests = (0..<5).map { w.create($0, at: 1_000 + UInt64($0)) }
        try store.commit(requests)
        let reader = try store.reader()
        let stored = requests.flatMap(\.records)
        let all = try reader.encodedRecords(after: 0, limit: Self.ten)
        #expect(all.records == stored.map(\.bytes) && all.position == 5, "row order: the order they were committed in")
        let rest = try reader.encodedRecords(after: 2, limit: MessageBudget(countMax: 2, bytesMax: 1 << 20))
        #expect(rest.records == stored[2..<4].map(\.bytes) && rest.position == 4 && rest.more)
        #expect(!all.more, "the read ran out of rows before its limit: the snapshot's last chunk")
        // A byte budget closes the read before the record that would pass it: one record
        // always goes, and the position is the last one read, so the next read goes on.
        let one = stored[0].bytes.count
        let byBytes = try reader.encodedRecords(after: 0, limit: MessageBudget(countMax: 10, bytesMax: 2 * one + 1))
        #expect(byBytes.records == stored[0..<2].map(\.bytes) && byBytes.position == 2 && byBytes.more)
        let tiny = try reader.encodedRecords(after: 4, limit: MessageBudget(countMax: 10, bytesMax: 1))
        #expect(tiny.records == [stored[4].bytes] && tiny.position == 5 && !tiny.more)
        #expect(
            try reader.encodedLogEntries(of: usEast, after: 1, limit: MessageBudget(countMax: 10, bytesMax: 1)).count
                == 1)
        let sorted = stored.sorted { $0.record.id < $1.record.id }
        #expect(
            try reader.encodedLogEntries(of: usEast, after: 1, limit: Self.ten)
                == requests.dropFirst().flatMap(\.entries).map(\.bytes))
        try store.db.execute(
            "UPDATE payments SET registers = (SELECT registers FROM payments ORDER BY id LIMIT 1) WHERE id = '\(sorted[3].record.id.rawValue)'"
        )
        try store.db.execute("UPDATE log SET entry = (SELECT entry FROM log WHERE seq = 1) WHERE seq = 2")
        #expect(throws: StoreReader.CorruptRow.self) { try reader.encodedRecords(after: 0, limit: Self.ten) }
        #expect(throws: StoreReader.CorruptRow.self) {
            try reader.encodedLogEntries(of: usEast, after: 0, limit: Self.ten)
        }
    }

    static let ten = MessageBudget(countMax: 10, bytesMax: 1 << 20)

    @Test func test_reapplyingABatch_isIdempotent() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        let batch = (0..<20).map { w.create($0, at: 5_000) }
        try store.commit(batch)
        let before = try store.recover()
        try store.commit(batch)
        try store.commit(Array(batch[5..<10]))
        let after = try store.recover()
        #expect(after.allLogEntries() == before.allLogEntries() && after.vector == before.vector)
        #expect(digest(after.allRecords()) == digest(before.allRecords()))
        #expect(try store.db.scalarInt("SELECT count(*) FROM payments") == 20)
    }

    @Test func test_cursorPaging_underConcurrentInserts_hasNoGapsOrRepeats() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        try store.commit((0..<300).map { w.create($0, at: 10_000 + UInt64($0 % 40)) })  // many equal created times
        let reader = try store.reader()
        var seen: [String] = []
        var cursor: ListCursor?
        var extra = 300
        repeat {
            let page = try reader.list(PaymentFilter(), limit: 17, cursor: cursor)
            seen += page.payments.map(\.id.rawValue)
            cursor = page.nextCursor
            // Writes land between pages: newer payments, and ones with old timestamps (replicated late).
            try store.commit([w.create(extra, at: 20_000 + UInt64(extra)), w.create(extra + 1, at: 10_000)])
            extra += 2
        } while cursor != nil
        let original = Set(
            (0..<300).map { PaymentID.derived(merchantID: "m\($0 % 3)", idempotencyKey: "k\($0)").rawValue })
        #expect(Set(seen).count == seen.count, "a payment was listed twice")
        #expect(original.isSubset(of: Set(seen)), "a payment present from the start was skipped")
    }

    @Test func test_listFilters_andNewestFirst() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        try store.commit((0..<30).map { w.create($0, at: 1_000 + UInt64($0)) })
        try store.commit([w.update(4, PaymentPatch(status: .authorized), at: 3_000)])
        let reader = try store.reader()
        let m1 = try reader.list(PaymentFilter(merchantID: "m1"), limit: 100, cursor: nil).payments
        #expect(m1.count == 10 && m1.allSatisfy { $0.merchantID == "m1" })
        #expect(m1.map(\.createdAtMillis) == m1.map(\.createdAtMillis).sorted(by: >))
        #expect(
            try reader.list(PaymentFilter(status: .authorized), limit: 10, cursor: nil).payments.map(\.orderID) == [
                "o4"
            ])
        #expect(
            try reader.list(PaymentFilter(merchantID: "m1", orderID: "o4"), limit: 10, cursor: nil).payments.count == 1)
        let window = try reader.list(
            PaymentFilter(createdFromMillis: 1_010, createdToMillis: 1_020), limit: 100, cursor: nil)
        #expect(window.payments.count == 10)
    }

    @Test func test_snapshotPlusDeltas_givesSameStateAsDeltasAlone() throws {
        let tmp = TempStore()
        let source = try tmp.open()
        var w = Writer()
        try source.commit((0..<120).map { w.create($0, at: 1_000 + UInt64($0)) })
        // A peer that joins now gets a snapshot…
        var snapshotRecords: [PaymentRecord] = []
        let snapshotVector = try source.reader().snapshot(pageSize: 25) { snapshotRecords += $0 }
        #expect(snapshotRecords.count == 120)
        // …while writes go on; then it catches up with the entries above the snapshot.
        try source.commit(
            (0..<40).map { w.update($0, PaymentPatch(description: .set("v2-\($0)")), at: 5_000 + UInt64($0)) })
        try source.commit((120..<140).map { w.create($0, at: 6_000 + UInt64($0)) })
        let deltas = try source.reader().entries(above: snapshotVector, limit: 10_000)
        #expect(deltas.count == 60)

        var viaSnapshot = PeerHarness(region: euWest, peer: usEast)
        viaSnapshot.receive(.snapshot(records: snapshotRecords, vector: snapshotVector))
        viaSnapshot.receive(.delta(batchID: 1, entries: deltas))
        var viaDeltas = PeerHarness(region: apNortheast, peer: usEast)
        viaDeltas.receive(
            .delta(batchID: 1, entries: try source.reader().entries(above: VersionVector(), limit: 10_000)))
        #expect(viaSnapshot.engine.stateDigest() == viaDeltas.engine.stateDigest())
        #expect(viaSnapshot.engine.stateDigest() == w.engine.stateDigest())
        #expect(viaSnapshot.engine.durableVector == w.engine.durableVector)
    }

    @Test func test_compaction_keepsWhatTheLaggingPeerStillNeeds() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        try store.commit((0..<100).map { w.create($0, at: 1_000 + UInt64($0)) })
        let fast = VersionVector([usEast: 80])
        let lagging = VersionVector([usEast: 40])
        try store.compactLog(through: VersionVector.meet([fast, lagging]))
        let reader = try store.reader()
        let needed = try reader.entries(above: lagging, limit: 1_000)
        #expect(needed.map(\.seq) == Array(41...100))
        #expect(try store.db.scalarInt("SELECT min(seq) FROM log") == 41)
        let recovered = try store.recover()
        #expect(recovered.logHorizon == lagging)
        // A restarted engine knows the horizon: a peer below it will get a snapshot.
        let resumed = ReplicationEngine(
            config: EngineConfig(region: usEast, peers: []), recovered: recovered, nowMillis: 0)
        #expect(resumed.log.firstAvailable(usEast) == 41)
    }

    /// What the committer promises: requests commit in the order they were handed in,
    /// requests waiting together share one transaction, and each writer is answered only
    /// once its request is committed. (Handed in from one thread, so the order is known;
    /// a blocking work item holds the committer so that all 400 wait together.) Its
    /// observer hears of the transaction, its size and duration, before any writer's answer.
    @Test func test_groupCommitter_sharesTransactionsAndAnswersOnlyAfterCommit() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        let observed = ObservedCommits()
        let committer = GroupCommitter(store: store, observer: { observed.add($0, $1) })
        var w = Writer()
        let requests = (0..<400).map { w.create($0, at: 1_000) }
        let gate = DispatchSemaphore(value: 0)
        let held = DispatchSemaphore(value: 0)
        committer.perform(
            { _ in
                held.signal()
                gate.wait()
            }, done: { _ in })
        held.wait()
        let answers = Answered(reader: try TempStore.reopen(tmp))
        let all = DispatchGroup()
        for r in requests {
            all.enter()
            committer.submit([r]) { result in
                observed.answered()
                answers.note(r.vector[usEast], result)
                all.leave()
            }
        }
        gate.signal()
        all.wait()
        committer.shutdown()
        #expect(committer.requestsCommitted == 400)
        #expect(committer.groupsCommitted == 1, "the 400 waiting requests did not share one transaction")
        #expect(committer.storeChanges == 2, "the held work and the group are the store's two changes")
        #expect(observed.groups.map(\.requests) == [400] && observed.groups.allSatisfy { $0.duration > .zero })
        #expect(observed.answeredBeforeObserved == 0)
        #expect(answers.order == Array(1...400), "answered out of the order handed in")
        #expect(
            answers.answeredBeforeVisible.isEmpty,
            "answered before its commit was visible: \(answers.answeredBeforeVisible.prefix(5))")
        #expect(try TempStore.reopen(tmp).vector()[usEast] == 400)
        let late = Outcomes()
        committer.submit([requests[0]]) { late.add($0) }
        #expect(late.failures == 1)
    }

    /// `reportingGroupSize` tells each writer how many requests its transaction held
    /// (what a commit span records), and 0 when it was refused without one.
    @Test func test_groupCommitter_reportsTheSizeOfEachWritersGroup() throws {
        let tmp = TempStore()
        let committer = GroupCommitter(store: try tmp.open())
        var w = Writer()
        let gate = DispatchSemaphore(value: 0)
        let held = DispatchSemaphore(value: 0)
        committer.perform(
            { _ in
                held.signal()
                gate.wait()
            }, done: { _ in })
        held.wait()
        let sizes = GroupSizes()
        let all = DispatchGroup()
        for i in 0..<3 {
            all.enter()
            committer.submit(
                [w.create(i, at: 1_000)],
                reportingGroupSize: { _, size in
                    sizes.add(size)
                    all.leave()
                })
        }
        gate.signal()
        all.wait()
        committer.shutdown()
        committer.submit([w.create(3, at: 1_000)], reportingGroupSize: { _, size in sizes.add(size) })
        #expect(sizes.all == [3, 3, 3, 0])
    }

    final class GroupSizes: @unchecked Sendable {
        private let lock = NSLock()
        private var sizes: [Int] = []
        func add(_ size: Int) { lock.withLock { sizes.append(size) } }
        var all: [Int] { lock.withLock { sizes } }
    }

    @Test func test_groupCommitter_afterAFailedCommit_refusesLaterRequestsUntilAProbeSucceeds() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        let committer = GroupCommitter(store: store)
        defer { committer.shutdown() }
        var w = Writer()
        let requests = (0..<50).map { w.create($0, at: 1_000) }
        // The database may not grow: SQLite answers SQLITE_FULL, as on a full disk.
        let pages = try store.db.scalarInt("PRAGMA page_count")!
        try store.db.execute("PRAGMA max_page_count = \(pages)")
        let outcomes = Outcomes()
        let all = DispatchGroup()
        for r in requests {
            all.enter()
            committer.submit([r]) {
                outcomes.add($0)
                all.leave()
            }
        }
        all.wait()
        // Some may fit in the pages there are; from the first failure on, every one fails.
        let committed = outcomes.results.prefix { $0 }.count
        #expect(
            committed < 50 && outcomes.results.dropFirst(committed).allSatisfy { !$0 },
            "a request handed in after a failed one committed: \(outcomes.results)")
        #expect(outcomes.diskFull > 0)
        #expect(try TempStore.reopen(tmp).vector()[usEast] == UInt64(committed))
        try store.db.execute("PRAGMA max_page_count = 1073741823")  // space freed
        let refused = Outcomes()
        all.enter()
        committer.submit([requests[committed]]) {
            refused.add($0)
            all.leave()
        }
        all.wait()
        #expect(refused.results == [false], "committed before a probe found the store writable again")
        let probed = DispatchSemaphore(value: 0)
        committer.probe { _ in probed.signal() }
        probed.wait()
        let after = Outcomes()
        all.enter()
        committer.submit([requests[committed]]) {
            after.add($0)
            all.leave()
        }
        all.wait()
        #expect(after.results == [true])
        #expect(try TempStore.reopen(tmp).vector()[usEast] == UInt64(committed + 1))
    }
}

extension TempStore {
    static func reopen(_ tmp: TempStore) throws -> StoreReader { try StoreReader(readOnlyPath: tmp.path) }
}

/// One engine receiving messages from one peer, committing every persist at once.
struct PeerHarness {
    var engine: ReplicationEngine
    let peer: RegionID
    init(region: RegionID, peer: RegionID) {
        self.peer = peer
        engine = ReplicationEngine(
            config: EngineConfig(region: region, peers: [peer]), recovered: RecoveredState(ownHistoryComplete: true),
            nowMillis: 0)
        _ = engine.peerConnected(peer, nowMillis: 0)
        _ = engine.receive(.hello(region: peer, vector: VersionVector()), from: peer, nowMillis: 0)
    }
    mutating func receive(_ m: PeerMessage) {
        for case .persist(let p) in engine.receive(m, from: peer, nowMillis: 10_000) {
            _ = engine.didPersist(requestID: p.id, nowMillis: 10_000)
        }
    }
}

/// Answers of the group committer, in the order they came, checked against the store.
final class Answered: @unchecked Sendable {
    private let lock = NSLock()
    private let reader: StoreReader
    private(set) var order: [UInt64] = []
    private(set) var answeredBeforeVisible: [UInt64] = []
    init(reader: StoreReader) { self.reader = reader }
    func note(_ seq: UInt64, _ result: Result<Void, Error>) {
        lock.lock()
        defer { lock.unlock() }
        order.append(seq)
        if case .failure = result {
            answeredBeforeVisible.append(seq)
            return
        }
        if ((try? reader.vector()[usEast]) ?? 0) < seq { answeredBeforeVisible.append(seq) }
    }
}

/// Counts failed commits (from the committer's thread).
/// What a committer's observer heard, and writers answered before it heard anything.
final class ObservedCommits: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var groups: [(requests: Int, duration: Duration)] = []
    private(set) var answeredBeforeObserved = 0
    func add(_ requests: Int, _ duration: Duration) {
        lock.lock()
        groups.append((requests, duration))
        lock.unlock()
    }
    func answered() {
        lock.lock()
        if groups.isEmpty { answeredBeforeObserved += 1 }
        lock.unlock()
    }
}

final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var failures = 0
    private(set) var diskFull = 0
    /// Success or not, in the order the answers came.
    private(set) var results: [Bool] = []
    func add(_ result: Result<Void, Error>) {
        lock.lock()
        if case .success = result { results.append(true) }
        if case .failure(let error) = result {
            results.append(false)
            failures += 1
            if (error as? SQLiteError)?.isDiskFull == true { diskFull += 1 }
        }
        lock.unlock()
    }
}
