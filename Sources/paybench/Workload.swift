import ReplicaCore
import ReplicaShell

/// Makes persist requests the way a node does, with the node's own shell and engine, for
/// benchmarks and bulk loads that commit them themselves: the shell runs over a store
/// that hands each request back (answering it as committed) instead of writing it.
final class ShellWriter {
    /// The store port: keeps what the shell hands in.
    final class HandedBack: ShellStore {
        var requests: [PersistRequest] = []
        func commit(_ request: PersistRequest, completion: @escaping (StoreOutcome) -> Void) {
            requests.append(request)
            completion(.committed)
        }
        func compactLog(through vector: VersionVector) {}
        func readHistory(
            _ id: PaymentID, limit: Int, reply: @escaping (Result<PaymentHistory?, HistoryReadFailure>) -> Void
        ) {
            reply(.success(nil))
        }
        func readPayment(_ id: PaymentID, reply: @escaping (Result<Payment?, StoreReadFailure>) -> Void) {
            reply(.success(nil))
        }
        func readEvents(
            _ query: EventQuery, region: RegionID, ownVisibleThrough: UInt64,
            reply: @escaping (Result<EventPage, EventReadFailure>) -> Void
        ) {
            reply(.success(EventPage(events: [], cursor: query.cursor)))
        }
        // The writer's engine holds every record it wrote: it never asks for any.
        func loadRecords(_ ids: [PaymentID], completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void) {
            completion(.success([]))
        }
        func readRecords(
            after: UInt64, limit: MessageBudget, completion: @escaping (Result<StoredRecords, StoreReadFailure>) -> Void
        ) {
            completion(.success(StoredRecords(records: [], position: after, more: false)))
        }
        func readLogEntries(
            of origin: RegionID, after: UInt64, limit: MessageBudget,
            completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void
        ) { completion(.success([])) }
        func recover(completion: @escaping (Result<RecoveredState, StoreReadFailure>) -> Void) {
            completion(.failure(StoreReadFailure("a writer for benchmarks does not recover")))
        }
        func probeWritable(completion: @escaping (Bool) -> Void) { completion(true) }
        func stateDigest() throws -> String { "" }
    }

    /// No peers: a benchmark writer is a region alone.
    final class NoPeers: ShellPeerBus {
        func send(_ message: PeerMessage, to peer: RegionID) {}
        func disconnect(_ peer: RegionID, reason: String) {}
        func setLinksEnabled(_ enabled: Bool) {}
    }

    /// The time the caller says; no timers (the shell is never started).
    final class SetClock: ShellClock {
        var nowMillis: UInt64 = 0
        func schedule(afterMillis millis: UInt64, _ body: @escaping () -> Void) {}
    }

    private let store = HandedBack()
    private let clock = SetClock()
    private let shell: ReplicaShell<HandedBack, NoPeers, SetClock>

    /// `boundedMemory`: the engine keeps a small record cache and log tail, as a node does
    /// (new payments need no loads), so writing millions does not hold them all.
    init(region: RegionID, recovered: RecoveredState, boundedMemory: Bool = false) {
        var state = recovered
        state.ownHistoryComplete = true  // a region alone holds all of its history
        var engine = EngineConfig(region: region, peers: [])
        if boundedMemory {
            engine.recordCacheBytes = 8 << 20
            engine.logCacheEntries = 10_000
        }
        shell = ReplicaShell(
            config: ShellConfig(engine: engine), recovered: state, store: store, bus: NoPeers(), clock: clock)
    }

    /// The persist request of `command` at `nowMillis` (it must be accepted).
    func write(_ command: PaymentCommand, nowMillis: UInt64) -> PersistRequest {
        clock.nowMillis = nowMillis
        var answer: Result<WriteAck, NodeError>?
        shell.submit(command, durability: .local) { answer = $0 }
        guard case .success? = answer, store.requests.count == 1 else {
            preconditionFailure("benchmark write was not accepted: \(String(describing: answer))")
        }
        return store.requests.removeLast()
    }
}

/// Persist requests from a stream of creates: what a node's store sees under a
/// write-only load.
struct CreateWorkload {
    let writer: ShellWriter
    var n = 0
    let startMillis: UInt64

    init(
        region: String = "us-east-1", startMillis: UInt64 = 1_800_000_000_000, clockHighWater: HLCTimestamp = .zero,
        recovered: RecoveredState = RecoveredState(), boundedMemory: Bool = false
    ) {
        var state = recovered
        state.clockHighWater = max(state.clockHighWater, clockHighWater)
        writer = ShellWriter(region: RegionID(region)!, recovered: state, boundedMemory: boundedMemory)
        self.startMillis = startMillis
        n = Int(state.vector.total)  // a restarted writer continues with new payments
    }

    /// The next create's persist request.
    mutating func next(nowMillis: UInt64? = nil) -> PersistRequest {
        n += 1
        let create = CreatePayment(
            merchantID: "m\(n % 50)", orderID: "order-\(n)", amount: Int64(100 + n % 100_000),
            currency: "EUR", method: .card, paymentKey: "tok_\(n)", description: "benchmark payment \(n)")
        return writer.write(
            .create(Self.id(n, startMillis: startMillis), create, idempotent: true),
            nowMillis: nowMillis ?? startMillis + UInt64(n / 10))
    }

    /// The id of the `n`th payment of a workload started at `startMillis`.
    static func id(_ n: Int, startMillis: UInt64) -> PaymentID {
        PaymentID.derived(merchantID: "m\(n % 50)", idempotencyKey: "bench-\(startMillis)-\(n)")
    }
}
