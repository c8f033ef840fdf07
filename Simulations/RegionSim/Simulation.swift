import ReplicaCore
import ReplicaShell

/// One deterministic run: N regions' `ReplicationEngine`s, a network, clients and
/// faults, on a virtual clock, in one thread, from one seed.
///
/// Phase 1 (chaos): the workload runs while faults strike; safety is checked all along.
/// Phase 2 (heal): faults end, crashed regions restart, the workload stops; the live
/// regions must converge within `convergeBoundMillis`, else the run fails for liveness.
public final class Simulation {
    public let seed: UInt64
    public let options: SimOptions
    let regionIDs: [RegionID]

    var now: UInt64 = 0
    var queue = EventQueue<SimEvent>()
    var trace = TraceHash()
    var regions: [SimRegion] = []
    var connections: [[SimConnection]]
    var links: [[SimLink]]
    var clients: [SimClient] = []
    var ops: [UInt64: ClientOp] = [:]
    var nextOpID: UInt64 = 1
    var nextCallbackID: UInt64 = 1
    var netRNG: SimRandom
    var workRNG: SimRandom
    var faultRNG: SimRandom
    var healing = false
    var healedAtMicros: UInt64?
    var convergedAtMicros: UInt64?
    var eventsProcessed: UInt64 = 0

    // MARK: Observations, for checks and reports
    var acked: [AckedWrite] = []
    /// Every `created_at` a region answered a create of the payment with.
    var ackedCreations: [PaymentID: Set<UInt64>] = [:]
    /// For each stamp a region gave a client write: the true time (ms since the epoch,
    /// no skew) when it wrote it.
    var trueWriteMillis: [Stamp: UInt64] = [:]
    var outages: [Outage] = []
    var lossTimes: [Int: UInt64] = [:]
    var wipes: [Wipe] = []
    var violations: [SimViolation] = []
    var suspectViolations: [(PaymentID, SimViolation)] = []
    var probes = SimProbes()
    var samples: [SimSample] = []
    var timeline: [TimelineMark] = [] {
        didSet {
            // With --trace-payment, the faults print between the payment's operations.
            guard options.tracePayment != nil, let m = timeline.last, timeline.count > oldValue.count else { return }
            print("[\(m.atMicros / 1_000) ms] \(m.region.map { regionIDs[$0].name } ?? "all"): \(m.label)")
        }
    }
    var stats = SimStats()
    var feed = FeedConsumer()
    var releases = ReleaseTracker()
    var retirements = RetirementTracker()

    /// Virtual epoch: wall clocks start here (an ordinary date in 2027).
    static let epochMicros: UInt64 = 1_800_000_000_000_000

    public init(seed: UInt64, options: SimOptions) {
        self.seed = seed
        self.options = options
        self.regionIDs = Geography.regions(options.regionCount)
        var root = SimRandom(seed: seed)
        netRNG = root.fork(1)
        workRNG = root.fork(2)
        faultRNG = root.fork(3)
        let n = options.regionCount
        connections = Array(repeating: Array(repeating: SimConnection(), count: n), count: n)
        links = Array(repeating: Array(repeating: SimLink(), count: n), count: n)
        for i in 0..<n {
            let offset = i < options.clockOffsetsMillis.count ? options.clockOffsetsMillis[i] : 0
            let drift = i < options.clockDriftPPM.count ? options.clockDriftPPM[i] : 0
            regions.append(SimRegion(index: i, id: regionIDs[i], clockOffsetMicros: offset * 1_000, driftPPM: drift))
        }
        for i in 0..<n {
            regions[i].store = SimStore(world: self, region: i)
            regions[i].bus = SimBus(world: self, region: i)
            regions[i].clock = SimClock(world: self, region: i)
        }
        for r in options.joiningRegions where regions.indices.contains(r) { regions[r].member = false }
        setUpReleases()
        for c in 0..<(n * options.clientsPerRegion) {
            clients.append(SimClient(index: c, home: c % n, router: memberRouter(home: c % n)))
        }
    }

    /// A client's router over the regions that are members now (a client of an added
    /// region is configured once it joined; the others keep the regions they started with).
    func memberRouter(home: Int) -> RegionRouter {
        let members = regions.indices.filter { regions[$0].member }
        var router = RegionRouter(regions: members.map { regionIDs[$0] })
        for r in members {
            router.recordSuccess(
                regionIDs[r], latencyMicros: 2_000 * Geography.clientLatencyMillis(home: home, target: r))
        }
        return router
    }

    // MARK: Running

    /// Runs both phases and the final checks.
    public func run(wallLimitEvents: UInt64 = 50_000_000) -> SimResult {
        for r in 0..<regions.count where regions[r].member { startRegion(r) }
        for a in 0..<regions.count { for b in (a + 1)..<regions.count { tryConnect(a, b) } }
        for c in 0..<clients.count where regions[clients[c].home].member {
            schedule(.clientNext(client: c), in: workRNG.between(0, 100_000))
        }
        scheduleFaults()
        schedule(.heal, at: options.chaosMillis * 1_000)
        schedule(.sample, at: 0)
        schedule(.feedNext(attempt: 0), at: 50_000)
        let deadline = options.chaosMillis * 1_000 + options.convergeBoundMillis * 1_000
        while let (time, event) = queue.pop() {
            if convergedAtMicros != nil { break }
            if time > deadline { break }
            now = time
            eventsProcessed += 1
            if eventsProcessed > wallLimitEvents {
                violations.append(SimViolation(kind: .liveness, message: "no end after \(wallLimitEvents) events"))
                break
            }
            trace.mix(time)
            trace.mix(event.code)
            handle(event)
        }
        if convergedAtMicros == nil {
            violations.append(
                SimViolation(
                    kind: .liveness,
                    message:
                        "live regions did not converge within \(options.convergeBoundMillis) ms of healing: \(vectorSummary())"
                ))
        }
        return finish()
    }

    func handle(_ event: SimEvent) {
        switch event {
        case .callback(let r, let inc, let id):
            runCallback(r, incarnation: inc, id: id)
            if releases.onPrevious > 0 { checkWireGate(r) }
        case .deliver(let from, let to, let conn, let bytes):
            deliver(from: from, to: to, connection: conn, bytes: bytes)
            if releases.onPrevious > 0 { checkWireGate(to) }
        case .reconnect(let a, let b):
            connections[a][b].reconnectScheduled = false
            if connections[a][b].cutPending && links[a][b].cutUntilMicros <= now && links[b][a].cutUntilMicros <= now {
                connections[a][b].cutPending = false
                notePartitionHealed(a, b)
            }
            tryConnect(a, b)
        case .clientNext(let c):
            clientNext(c)
        case .requestArrives(let op, let attempt, let r):
            requestArrives(op: op, attempt: attempt, region: r)
        case .replyArrives(let op, let attempt, let reply, let region, let epoch):
            replyArrives(op: op, attempt: attempt, reply: reply, from: region, epoch: epoch)
        case .requestTimeout(let op, let attempt):
            requestTimedOut(op: op, attempt: attempt)
        case .fault(let action):
            apply(action)
            checkWireGateEverywhere()
        case .heal:
            startHeal()
        case .sample:
            sample()
            if convergedAtMicros == nil { schedule(.sample, in: 250_000) }
        case .feedNext(let attempt):
            feedRequest(attempt: attempt)
        case .feedArrives(let attempt, let r):
            feedArrives(attempt: attempt, region: r)
        case .feedReply(let attempt, let reply):
            feedReply(attempt: attempt, reply: reply)
        case .feedTimeout(let attempt):
            feedTimedOut(attempt: attempt)
        }
    }

    func schedule(_ event: SimEvent, at time: UInt64) { queue.schedule(event, atMicros: max(time, now)) }
    func schedule(_ event: SimEvent, in delay: UInt64) { queue.schedule(event, atMicros: now + delay) }

    /// Region `r`'s wall clock in ms: virtual time, plus its offset, drift and jumps.
    func wallMillis(_ r: Int) -> UInt64 {
        let region = regions[r]
        let drift = Int64(now) / 1_000_000 * region.driftPPM
        let micros = Int64(Self.epochMicros + now) + region.clockOffsetMicros + drift
        return UInt64(max(micros, 0)) / 1_000
    }

    // MARK: Heal and convergence

    func startHeal() {
        healing = true
        healedAtMicros = now
        timeline.append(TimelineMark(atMicros: now, region: nil, label: "heal"))
        apply(.healLinks)
        for r in memberRegions where !regions[r].up && !regions[r].lost { apply(.restart(r)) }
        noteRetirementsAtHeal()
    }

    /// Regions of the cluster not lost (a region to be added later is not one yet, a
    /// retired one is one no more).
    var liveRegions: [Int] { memberRegions.filter { !regions[$0].lost } }

    /// Regions of the cluster now, lost ones included (retired ones not).
    var memberRegions: [Int] { regions.indices.filter { regions[$0].member && !regions[$0].retired } }

    /// Converged: every live region up and serving, nothing uncommitted or in flight,
    /// equal vectors.
    func checkConverged() -> Bool {
        let live = liveRegions
        guard live.allSatisfy({ regions[$0].up && regions[$0].shell!.isIdle && regions[$0].shell!.health == .serving })
        else { return false }
        guard ops.values.allSatisfy(\.done), wireSettled, live.allSatisfy(takesWrites), retirementsSettled else {
            return false
        }
        let vectors = live.map { regions[$0].engine.durableVector }
        guard Set(vectors).count == 1 else { return false }
        for a in live { for b in live where a != b && links[a][b].lastDataDeliveryMicros > now { return false } }
        return true
    }

    /// Region `r` (up) has its own history and takes writes, or never can: a wiped or added
    /// region that lists a lost region waits for that region's greeting to the end.
    func takesWrites(_ r: Int) -> Bool {
        let shell = regions[r].shell!
        return shell.engine.ownHistoryComplete
            || shell.config.engine.peers.contains { regions[index(of: $0)].lost }
    }

    func vectorSummary() -> String {
        let vectors = liveRegions.map { r in
            "\(regionIDs[r])="
                + (regions[r].shell.map {
                    "\($0.engine.durableVector)" + ($0.health == .serving ? "" : " (\($0.health))")
                } ?? "down")
        }
        let open = ops.values.filter { !$0.done }.count
        let busy =
            liveRegions.filter { r in regions[r].shell.map { !$0.isIdle } ?? false }.map { regionIDs[$0].name }
            + liveRegions.filter { r in regions[r].shell.map { $0.health != .serving } ?? false }.map {
                "\(regionIDs[$0].name) (\(regions[$0].shell!.health))"
            }
        let inFlight = liveRegions.flatMap { a in
            liveRegions.filter { b in a != b && links[a][b].lastDataDeliveryMicros > now }.map {
                "\(regionIDs[a])→\(regionIDs[$0])"
            }
        }
        let uncommitted = liveRegions.map { regions[$0].store.queued.count }.reduce(0, +)
        let refusing = liveRegions.filter { regions[$0].up && !takesWrites($0) }.map {
            "\(regionIDs[$0].name) (\(regions[$0].engine.ownHistoryMissing ?? ""))"
        }
        return vectors.joined(separator: " ") + "; client operations open \(open); uncommitted requests \(uncommitted)"
            + (busy.isEmpty ? "" : "; commits in flight at \(busy.joined(separator: ", "))")
            + (inFlight.isEmpty ? "" : "; messages in flight \(inFlight.joined(separator: ", "))")
            + (refusing.isEmpty ? "" : "; taking no writes: \(refusing.joined(separator: "; "))")
            + retirementsSummary
    }
}
