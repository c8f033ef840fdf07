import Foundation
import ReplicaCore
import ReplicaShell
import ReplicaStore

/// Part 2 of `paybench access`: durable creates with and without an actor, through the
/// node's own shell and engine (`shell.submit(_:actor:durability:)`, as the API's
/// `submit(_:actor:durability:)` reaches it) and the store's group commit
/// (`ReplicaStore.commit`, one transaction and one fsync per group) into real SQLite
/// files (WAL, synchronous=FULL, as a node opens them), in one process. One thread makes
/// and commits groups of a fixed size, as `paybench probe` does: no thread hand-offs, so
/// the group sizes, and the CPU time a create costs, do not move with the scheduler. The
/// variants' groups are interleaved (see `round`).
enum ActorCreateBenchmark {
    /// What the actor of every create of a run is.
    struct Variant {
        let label: String
        let actor: String?
    }

    /// One variant's runs: creates per second and the process's CPU time per create
    /// (engine, encoding, SQLite, the commits' system calls) of each round, every group's
    /// time to make and commit (ms, pooled over rounds), and the encoded size of an entry
    /// with its actor.
    struct VariantRuns {
        let variant: Variant
        var perSecondByRound: [Double] = []
        var cpuNanosByRound: [Double] = []
        var groupMillis: [Double] = []
        let entryBytes: Double
    }

    /// An ordinary key id, and the longest actor allowed (`ActorName.bytesMax`).
    static let variants: [Variant] = {
        let longest = String(
            "shop-a.checkout-service_eu-west-1.production-key-rotated-2027-q1-and-then-some".prefix(ActorName.bytesMax))
        precondition(ActorName.problem("shop-a") == nil && ActorName.problem(longest) == nil)
        precondition(longest.utf8.count == ActorName.bytesMax)
        return [
            Variant(label: "none (`actor: nil`), baseline", actor: nil),
            Variant(label: "`shop-a` (an ordinary key id)", actor: "shop-a"),
            Variant(label: "\(ActorName.bytesMax) characters (the longest allowed)", actor: longest),
        ]
    }()

    /// Every variant's figures over `rounds` rounds of `creates` creates each (after one
    /// warm-up round); the first result is the baseline.
    static func measure(rounds: Int, creates: Int, group: Int, dir: String) throws -> [VariantRuns] {
        let sample = WireBenchmark.entries(1_000)
        var results = variants.map { VariantRuns(variant: $0, entryBytes: entryBytes(sample, actor: $0.actor)) }
        _ = try round(creates: max(group, creates / 4), group: group, dir: dir)
        for r in 0..<rounds {
            for (i, run) in try round(creates: creates, group: group, dir: dir).enumerated() {
                results[i].perSecondByRound.append(Double(creates) / (Double(run.wallNanos) / 1e9))
                results[i].cpuNanosByRound.append(Double(run.cpuNanos) / Double(creates))
                results[i].groupMillis += run.groupMillis
            }
            FileHandle.standardError.write(Data("paybench access: creates, round \(r + 1) of \(rounds)\n".utf8))
        }
        return results
    }

    /// One variant's share of a round: wall and CPU nanoseconds spent on its groups, and
    /// each group's time.
    struct RoundRun {
        var wallNanos: UInt64 = 0
        var cpuNanos: UInt64 = 0
        var groupMillis: [Double] = []
    }

    /// One round: a fresh store and writer per variant, then groups of `group` creates,
    /// each made and committed in turn by every variant (the order rotating per group),
    /// until each has made `creates`. Interleaved group by group, the variants meet the
    /// same machine: another process's load falls on all of them alike.
    static func round(creates: Int, group: Int, dir: String) throws -> [RoundRun] {
        var paths: [String] = []
        defer {
            for path in paths {
                for suffix in ["", "-wal", "-shm", ".lock"] {
                    try? FileManager.default.removeItem(atPath: path + suffix)
                }
            }
        }
        var stores: [ReplicaStore] = []
        for _ in variants {
            storesMade += 1
            paths.append(StoreBenchmark.fresh(dir, "access-creates-\(storesMade)"))
            stores.append(try ReplicaStore(options: StoreOptions(path: paths[paths.count - 1])))
        }
        let writers = variants.map { ActorCreateWriter(actor: $0.actor) }
        var out = Array(repeating: RoundRun(), count: variants.count)
        var made = 0
        var turn = 0
        while made < creates {
            let size = min(group, creates - made)
            for k in variants.indices {
                let i = (turn + k) % variants.count
                let cpu0 = processCPUNanos()
                let t0 = DispatchTime.now().uptimeNanoseconds
                try stores[i].commit((0..<size).map { _ in writers[i].next() })
                let t1 = DispatchTime.now().uptimeNanoseconds
                out[i].cpuNanos += processCPUNanos() - cpu0
                out[i].wallNanos += t1 - t0
                out[i].groupMillis.append(Double(t1 - t0) / 1e6)
            }
            made += size
            turn += 1
        }
        return out
    }

    /// Mean encoded bytes (the wire encoder's, which the store's log keeps and peers are
    /// sent) of `entries` made with `actor`.
    static func entryBytes(_ entries: [LogEntry], actor: String?) -> Double {
        let total = entries.reduce(0) { sum, e in
            let entry = LogEntry(
                origin: e.origin, seq: e.seq, hlc: e.hlc, paymentID: e.paymentID, changes: e.changes, actor: actor)
            return sum + EncodedEntry(entry).bytes.count
        }
        return Double(total) / Double(entries.count)
    }

    /// Stores made so far, for the name of each one's file (a store may outlive its round
    /// for a moment, lock included, so each has a name of its own).
    nonisolated(unsafe) static var storesMade = 0

    /// CPU time this process has used so far, every thread, in nanoseconds.
    static func processCPUNanos() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}

/// Persist requests of creates by one actor, made by the node's own shell and engine over
/// `ShellWriter`'s ports (a store that hands each request back, no peers, a set clock):
/// `ShellWriter` itself takes no actor.
final class ActorCreateWriter {
    private let store = ShellWriter.HandedBack()
    private let clock = ShellWriter.SetClock()
    private let shell: ReplicaShell<ShellWriter.HandedBack, ShellWriter.NoPeers, ShellWriter.SetClock>
    private let actor: String?
    private var n = 0
    private let startMillis: UInt64 = 1_800_000_000_000

    init(actor: String?) {
        self.actor = actor
        var state = RecoveredState()
        state.ownHistoryComplete = true  // a region alone holds all of its history
        shell = ReplicaShell(
            config: ShellConfig(engine: EngineConfig(region: RegionID("us-east-1")!, peers: [])), recovered: state,
            store: store, bus: ShellWriter.NoPeers(), clock: clock)
    }

    /// The next create's persist request (the same creates as `CreateWorkload` makes).
    func next() -> PersistRequest {
        n += 1
        let create = CreatePayment(
            merchantID: "m\(n % 50)", orderID: "order-\(n)", amount: Int64(100 + n % 100_000),
            currency: "EUR", method: .card, paymentKey: "tok_\(n)", description: "benchmark payment \(n)")
        clock.nowMillis = startMillis + UInt64(n / 10)
        var answer: Result<WriteAck, NodeError>?
        shell.submit(
            .create(CreateWorkload.id(n, startMillis: startMillis), create, idempotent: true), actor: actor,
            durability: .local
        ) { answer = $0 }
        guard case .success? = answer, store.requests.count == 1 else {
            preconditionFailure("benchmark write was not accepted: \(String(describing: answer))")
        }
        return store.requests.removeLast()
    }
}
