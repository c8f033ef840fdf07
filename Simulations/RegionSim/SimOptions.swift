import ReplicaCore

/// Everything that shapes one simulated run. Swarm mode draws these from the seed
/// (each fault class off in some seeds); a scenario file fixes them.
public struct SimOptions: Sendable, Hashable {
    public var name = "swarm"
    public var regionCount = 3
    /// Chaos phase length; then the heal phase.
    public var chaosMillis: UInt64 = 60_000
    /// After healing, live regions must converge within this.
    public var convergeBoundMillis: UInt64 = 60_000
    public var writesPerSecond: UInt64 = 100
    /// Share of writes asking for `remote` durability, percent.
    public var remoteDurabilityPercent: UInt64 = 30
    /// Share of operations that are reads, percent.
    public var readPercent: UInt64 = 30
    /// Share of updates made by a client other than the payment's owner (true conflicts).
    public var foreignUpdatePercent: UInt64 = 5
    /// Clients per region (each lives next to one region).
    public var clientsPerRegion = 4

    // MARK: Faults (rates per minute of chaos; 0 turns a class off)
    public var crashesPerMinute: UInt64 = 0
    public var partitionsPerMinute: UInt64 = 0
    public var oneWayPartitionsPerMinute: UInt64 = 0
    public var cloggingPerMinute: UInt64 = 0
    public var connectionResetsPerMinute: UInt64 = 0
    /// Packet loss as extra TCP retransmission delay, per million messages.
    public var lossPerMillion: UInt64 = 0
    public var jitterMillisMax: UInt64 = 5
    /// Fixed clock offsets per region (ms, may be negative), drawn or from the scenario.
    public var clockOffsetsMillis: [Int64] = []
    /// Clock drift per region, parts per million.
    public var clockDriftPPM: [Int64] = []
    public var clockJumpsPerMinute: UInt64 = 0
    /// Disk faults: a region's disk full for a while; a failed fsync; the data folder
    /// wiped while the region is down; SIGTERM then a restart.
    public var diskFullPerMinute: UInt64 = 0
    public var fsyncFailuresPerMinute: UInt64 = 0
    public var wipesPerMinute: UInt64 = 0
    public var gracefulRestartsPerMinute: UInt64 = 0
    /// Per group commit: the process dies between the write and the fsync.
    public var crashBeforeFsyncPerMillion: UInt64 = 0
    /// Share of client requests sent twice at once (a proxy or client retrying a
    /// request whose answer it did not wait for), percent.
    public var duplicateRequestPercent: UInt64 = 0
    /// Share of creates also sent, at once, to a second region with the same
    /// Idempotency-Key (a client hedging its request, or a retry racing the first try):
    /// both regions may answer 201, and each answer is an acknowledgement, percent.
    public var twinCreatePercent: UInt64 = 0
    /// Share of creates written at the largest size the API takes (a 500-character
    /// description, 20 metadata pairs of 40-character keys and 500-character values, every
    /// character 4 bytes in UTF-8): about 48 KB a payment; and of updates that write
    /// metadata that large, percent.
    public var largePaymentPercent: UInt64 = 0
    /// Entries per DELTA batch and records per SNAPSHOT chunk. Smaller than a node's
    /// defaults (512 and 1,024) so that batches and chunks fill and split often.
    public var batchEntriesMax = 256
    public var snapshotChunkRecords = 256
    /// Durable log entries kept for peers; a peer further behind gets a snapshot.
    public var logEntriesMax = 500
    /// Memory for records in each engine, in bytes of their encodings: about 50 records
    /// by default, so that inputs wait for store reads all the time (a node has 32 MB).
    public var recordCacheBytes = 24 * 1_024
    /// Lose one region for good at this time (ms into chaos), if set.
    public var loseRegionAtMillis: UInt64?
    /// Scheduled faults from a scenario file.
    public var scripted: [ScriptedFault] = []

    // MARK: Releases (rolling upgrades)
    /// Regions that start on the release before this one (wire format 3 only); the others
    /// start on this release. When any does, the cluster was founded by the release
    /// before, and every store starts with the active format that release ran.
    public var previousReleaseRegions: [Int] = []
    /// Regions added while the cluster serves (`add-region` steps in `scripted`): they are
    /// counted in `regionCount` but are not members, and do not run, before their step.
    public var joiningRegions: [Int] {
        scripted.compactMap { if case .addRegion(let r) = $0.kind { r } else { nil } }
    }
    /// At the end, every live region must report at least this active wire format (nil:
    /// no expectation): a scenario that upgrades every region fails if the gate never opened.
    public var expectWireActive: UInt8?
    /// At the end, a power loss must have taken back snapshot chunks committed without
    /// their fsync at least once: a scenario written to exercise that fails if it did not.
    public var expectUnsyncedChunksLost = false

    // MARK: Budgets
    /// RPO: most `local` writes a lost region may take with it (nil: no count budget).
    public var rpoBudgetWrites: UInt64?
    /// RPO window budget: lost writes span at most this plus the time the region was
    /// cut off from every peer before it was lost.
    public var rpoBudgetMillis: UInt64 = 3_000
    /// RTO: clients of a failed region must succeed elsewhere within this.
    public var rtoBudgetMillis: UInt64 = 10_000

    /// Print every client operation on this payment (debugging a failed seed).
    public var tracePayment: String?

    /// TEST ONLY: this member is never told that a region was retired (not at its restart
    /// either): the retirement checks must catch it.
    public var retirementUntold: Int?

    /// TEST ONLY: every region's simulated disk merges records wrongly, keeping of each
    /// field the register with the lower stamp (`SimStore.onDisk`): the checks must catch it.
    public var brokenMerge = false

    public init() {}

    /// A swarm draw: region count 3-5, each fault class on or off, rates drawn.
    public static func swarm(seed: UInt64) -> SimOptions {
        var rng = SimRandom(seed: seed ^ 0x5EED_5EED)
        var o = SimOptions()
        o.regionCount = Int(rng.between(3, 5))
        o.chaosMillis = rng.between(20_000, 60_000)
        o.writesPerSecond = rng.pick([20, 50, 100, 150])
        o.remoteDurabilityPercent = rng.pick([0, 30, 100])
        func on(_ rate: UInt64) -> UInt64 { rng.chance(perMillion: 600_000) ? rng.between(1, rate) : 0 }
        o.crashesPerMinute = on(4)
        o.partitionsPerMinute = on(4)
        o.oneWayPartitionsPerMinute = on(3)
        o.cloggingPerMinute = on(4)
        o.connectionResetsPerMinute = on(6)
        o.lossPerMillion = on(20_000)
        o.jitterMillisMax = rng.pick([0, 5, 30])
        o.clockJumpsPerMinute = on(2)
        // Skewed clocks stay within ±200 ms of true time (within the bound of each other,
        // as NTP keeps them); a wrong clock, further off, is drawn last.
        let skewed = rng.chance(perMillion: 500_000)
        o.clockOffsetsMillis = (0..<o.regionCount).map { _ in skewed ? (Int64(rng.between(0, 4_000)) - 2_000) / 10 : 0 }
        o.clockDriftPPM = (0..<o.regionCount).map { _ in skewed ? Int64(rng.between(0, 400)) - 200 : 0 }
        o.diskFullPerMinute = on(3)
        o.fsyncFailuresPerMinute = on(2)
        o.wipesPerMinute = on(2)
        o.gracefulRestartsPerMinute = on(3)
        o.crashBeforeFsyncPerMillion = on(3_000)
        o.duplicateRequestPercent = on(10)
        if rng.chance(perMillion: 300_000) {
            o.loseRegionAtMillis = rng.between(o.chaosMillis / 4, o.chaosMillis * 3 / 4)
        }
        // One region whose clock is 1-3 s off all run: it must take no writes once its
        // peers' pings show it, and what it receives waits for its clock.
        if skewed && rng.chance(perMillion: 400_000) {
            let r = Int(rng.below(UInt64(o.regionCount)))
            o.clockOffsetsMillis[r] = Int64(rng.between(1_000, 3_000)) * (rng.below(2) == 0 ? 1 : -1)
        }
        o.drawRollingUpgrade(seed: seed)
        o.drawJoin(seed: seed)
        o.drawRetirement(seed: seed)
        return o
    }

    /// One seed in twelve or so runs a rolling upgrade beside its other faults: every
    /// region starts on the release before and is upgraded in turn, spread over the
    /// first 80% of chaos. Drawn from a stream of its own, so the other draws of every
    /// seed (and the runs of the seeds that draw none) are what they were without it.
    mutating func drawRollingUpgrade(seed: UInt64) {
        var rng = SimRandom(seed: seed ^ 0x0B5_01ED_E5EE_D5EE)
        guard rng.chance(perMillion: 80_000) else { return }
        previousReleaseRegions = Array(0..<regionCount)
        var order = Array(0..<regionCount)
        for i in order.indices.reversed() { order.swapAt(i, Int(rng.below(UInt64(i + 1)))) }
        let step = chaosMillis * 4 / 5 / UInt64(regionCount + 1)
        for (i, r) in order.enumerated() {
            let at = step * UInt64(i + 1) + rng.between(0, step / 2)
            scripted.append(ScriptedFault(atMillis: at, kind: .upgrade(region: r, downMillis: rng.between(300, 3_000))))
        }
    }
}

extension SimOptions {
    /// One seed in twenty or so with fewer than five regions adds one while it serves (the
    /// next region of the geography, at 20-70% of chaos), beside its other faults. Drawn
    /// from a stream of its own, so the other draws of every seed (and the runs of the
    /// seeds that draw none) are what they were without it.
    mutating func drawJoin(seed: UInt64) {
        var rng = SimRandom(seed: seed ^ 0x0A_DD5E_6105_EED5)
        guard regionCount < Geography.regionNames.count, rng.chance(perMillion: 50_000) else { return }
        let joiner = regionCount
        regionCount += 1
        let skewed = clockOffsetsMillis.contains { $0 != 0 } || clockDriftPPM.contains { $0 != 0 }
        clockOffsetsMillis.append(skewed ? (Int64(rng.between(0, 4_000)) - 2_000) / 10 : 0)
        clockDriftPPM.append(skewed ? Int64(rng.between(0, 400)) - 200 : 0)
        let at = rng.between(chaosMillis / 5, chaosMillis * 7 / 10)
        scripted.append(ScriptedFault(atMillis: at, kind: .addRegion(region: joiner)))
    }
}

extension SimOptions {
    /// One seed in twenty-five or so retires one of the regions there at the start, at
    /// 30-70% of chaos: half of them decommission it (it drains, then leaves), half lose
    /// it for good and retire it at once. Drawn from a stream of its own, so the other
    /// draws of every seed (and the runs of the seeds that draw none) are what they were
    /// without it.
    mutating func drawRetirement(seed: UInt64) {
        var rng = SimRandom(seed: seed ^ 0x2E_712E_5EED_0004)
        let founders = regionCount - joiningRegions.count
        guard founders >= 3, rng.chance(perMillion: 40_000) else { return }
        let r = Int(rng.below(UInt64(founders)))
        let at = rng.between(chaosMillis * 3 / 10, chaosMillis * 7 / 10)
        let kind: ScriptedFault.Kind = rng.below(2) == 0 ? .retire(region: r) : .retireLost(region: r)
        scripted.append(ScriptedFault(atMillis: at, kind: kind))
    }

    /// Regions retired by a step (`retire` or `retire-lost`), in the order of the steps.
    public var retiringRegions: [Int] {
        scripted.compactMap {
            switch $0.kind {
            case .retire(let r), .retireLost(let r): r
            default: nil
            }
        }
    }
}

/// A fault at a fixed time, from a scenario file.
public struct ScriptedFault: Sendable, Hashable {
    /// What happens: a crash and restart, a region lost for good, a partition, and so on.
    public enum Kind: Sendable, Hashable {
        case crash(region: Int, downMillis: UInt64)
        case lose(region: Int)
        case partition(Int, Int, millis: UInt64)
        case oneWay(from: Int, to: Int, millis: UInt64)
        case isolate(region: Int, millis: UInt64)
        case clog(Int, Int, extraMillis: UInt64, millis: UInt64)
        case clockJump(region: Int, deltaMillis: Int64)
        case diskFull(region: Int, millis: UInt64)
        /// Commits at the region take `extraMillis` longer for `millis`.
        case slowDisk(region: Int, extraMillis: UInt64, millis: UInt64)
        case fsyncFailure(region: Int)
        case wipe(region: Int, downMillis: UInt64)
        case gracefulRestart(region: Int, downMillis: UInt64)
        /// `paynode backup` of the region's store: its committed state at that instant.
        case backup(region: Int)
        /// The region is lost with its data folder and restored from its last backup
        /// (`paynode restore`), back after `downMillis`.
        case restore(region: Int, downMillis: UInt64)
        /// A rolling upgrade's step: SIGTERM (the region drains and exits), its binary
        /// replaced by the next release, started again from its store after `downMillis`.
        case upgrade(region: Int, downMillis: UInt64)
        /// The region joins the cluster while it serves: every member's config lists it
        /// from now on (a reload), then it starts with a `paynode init --join` store.
        case addRegion(region: Int)
        /// The region is decommissioned: it takes no client writes, keeps replicating until
        /// every peer holds all it wrote, records its retirement and stops for good; then
        /// every member is told (a member that is down, at its restart).
        case retire(region: Int)
        /// The region is lost for good (its store too, unless it already was) and every
        /// member is told at once that it is retired.
        case retireLost(region: Int)
    }
    public let atMillis: UInt64
    public let kind: Kind
}
