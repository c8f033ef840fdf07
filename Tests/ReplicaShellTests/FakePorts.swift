import ReplicaCore

@testable import ReplicaShell

/// A store the test drives by hand: requests wait until the test answers them.
final class ManualStore: ShellStore {
    var committed = InMemoryStorage()
    var waiting: [(request: PersistRequest, completion: (StoreOutcome) -> Void)] = []
    var writable = true
    var probes = 0

    func commit(_ request: PersistRequest, completion: @escaping (StoreOutcome) -> Void) {
        waiting.append((request, completion))
    }

    /// Answers every waiting request with `outcome` (committing them when it is `.committed`).
    func finish(_ outcome: StoreOutcome) {
        let group = waiting
        waiting = []
        if outcome == .committed { committed.commit(group.map(\.request)) }
        for item in group { item.completion(outcome) }
    }

    func compactLog(through vector: VersionVector) { committed.compactLog(through: vector) }
    func readEvents(
        _ query: EventQuery, region: RegionID, ownVisibleThrough: UInt64,
        reply: @escaping (Result<EventPage, EventReadFailure>) -> Void
    ) {
        reply(committed.events.page(query, region: region, ownVisibleThrough: ownVisibleThrough).mapError { .feed($0) })
    }
    func readHistory(
        _ id: PaymentID, limit: Int, reply: @escaping (Result<PaymentHistory?, HistoryReadFailure>) -> Void
    ) {
        do throws(PaymentHistoryError) {
            reply(.success(try committed.history(id, limit: limit)))
        } catch {
            reply(.failure(.truncated(error)))
        }
    }
    func readPayment(_ id: PaymentID, reply: @escaping (Result<Payment?, StoreReadFailure>) -> Void) {
        reply(.success(committed.records[id].flatMap { Payment($0.record) }))
    }
    func recover(completion: @escaping (Result<RecoveredState, StoreReadFailure>) -> Void) {
        completion(.success(committed.recover(includingRecords: !bounded)))
    }
    /// The shell's engine keeps a bounded cache (so it loads what it needs from here).
    var bounded = false
    var loads: [[PaymentID]] = []
    /// Loads wait for `finishLoads` when set.
    var holdLoads = false
    var heldLoads: [() -> Void] = []
    func loadRecords(_ ids: [PaymentID], completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void) {
        loads.append(ids)
        let answer = { [self] in completion(.success(committed.encodedRecords(ids))) }
        if holdLoads { heldLoads.append(answer) } else { answer() }
    }
    func finishLoads() {
        let held = heldLoads
        heldLoads = []
        for body in held { body() }
    }
    func readRecords(
        after: UInt64, limit: MessageBudget, completion: @escaping (Result<StoredRecords, StoreReadFailure>) -> Void
    ) {
        let (records, position, more) = committed.encodedRecords(after: after, limit: limit)
        completion(.success(StoredRecords(records: records, position: position, more: more)))
    }
    func readLogEntries(
        of origin: RegionID, after: UInt64, limit: MessageBudget,
        completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void
    ) {
        completion(.success(committed.encodedLogEntries(of: origin, after: after, limit: limit)))
    }
    func probeWritable(completion: @escaping (Bool) -> Void) {
        probes += 1
        completion(writable)
    }
    func stateDigest() throws -> String { "" }
}

/// A bus that records what the shell did with it.
final class RecordingBus: ShellPeerBus {
    var sent: [(PeerMessage, RegionID)] = []
    var linksEnabled: [Bool] = []
    func send(_ message: PeerMessage, to peer: RegionID) { sent.append((message, peer)) }
    func disconnect(_ peer: RegionID, reason: String) {}
    func setLinksEnabled(_ enabled: Bool) { linksEnabled.append(enabled) }
}

/// Time the test moves; timers fire when it does.
final class ManualClock: ShellClock {
    var nowMillis: UInt64 = 1_000
    var timers: [(at: UInt64, body: () -> Void)] = []
    func schedule(afterMillis millis: UInt64, _ body: @escaping () -> Void) {
        timers.append((nowMillis + millis, body))
    }

    /// Moves time forward by `millis`, firing every timer due on the way, in order.
    func advance(_ millis: UInt64) {
        let end = nowMillis + millis
        while let next = timers.enumerated().filter({ $0.element.at <= end }).min(by: { $0.element.at < $1.element.at })
        {
            timers.remove(at: next.offset)
            nowMillis = max(nowMillis, next.element.at)
            next.element.body()
        }
        nowMillis = end
    }
}

typealias TestShell = ReplicaShell<ManualStore, RecordingBus, ManualClock>

enum ShellFixtures {
    static let tokyo = RegionID("ap-northeast-1")!
    static let virginia = RegionID("us-east-1")!

    /// `cacheBytes` set: the engine keeps a bounded record cache and loads from the store.
    /// `clockWaitMillis`: how long writes wait for the peers' clock readings (0: these
    /// tests write before any reading).
    static func shell(
        peers: [RegionID] = [virginia], ownHistory: Bool = true, cacheBytes: Int? = nil, clockWaitMillis: UInt64 = 0,
        filterBits: Int = 0, store: ManualStore = ManualStore()
    ) -> TestShell {
        var engine = EngineConfig(region: tokyo, peers: peers)
        engine.recordCacheBytes = cacheBytes
        engine.clockFirstReadingMillis = clockWaitMillis
        var config = ShellConfig(engine: engine)
        config.recoveryRetryMillisMin = 100
        config.recoveryRetryMillisMax = 400
        config.storedIDFilterBits = filterBits
        store.committed.ownHistoryComplete = ownHistory
        store.bounded = cacheBytes != nil
        let shell = TestShell(
            config: config, recovered: store.committed.recover(includingRecords: cacheBytes == nil), store: store,
            bus: RecordingBus(), clock: ManualClock())
        shell.start()
        return shell
    }

    static func create(_ n: Int) -> PaymentCommand {
        let c = CreatePayment(
            merchantID: "m_1", orderID: "o-\(n)", amount: 1_000 + Int64(n), currency: "EUR", method: .card)
        return .create(PaymentID.derived(merchantID: "m_1", idempotencyKey: "k-\(n)"), c, idempotent: true)
    }
}

/// Collects a callback's answers.
final class Answers<T> {
    var all: [Result<T, NodeError>] = []
    var reply: (Result<T, NodeError>) -> Void { { self.all.append($0) } }
}
