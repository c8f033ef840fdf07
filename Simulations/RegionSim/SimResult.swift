/// A broken rule, found during or after a run.
public struct SimViolation: Sendable, Hashable {
    /// Safety: something wrong happened (a write lost, a state diverged). Liveness:
    /// something that should have happened did not (convergence, recovery).
    public enum Kind: String, Sendable { case safety, liveness }
    public let kind: Kind
    public let message: String
}

/// "Sometimes" properties: each must fire somewhere in a CI seed block, or the block
/// is not testing what it claims to.
public struct SimProbes: Sendable, Hashable {
    public var failover = false
    public var partitionHealedMidBatch = false
    public var snapshotCatchUp = false
    public var tornCommit = false
    public var crashBeforeFsync = false
    public var diskFullRefused = false
    public var diskFullRecovered = false
    public var fsyncFailed = false
    public var wipedRegionRecovered = false
    public var drainedRestart = false
    public var sessionWaitServed = false
    public var clockFenced = false
    public var entryHeldForClock = false
    public var recordReadBack = false
    public var logReadFromStore = false
    public var feedFailover = false
    /// A rolling upgrade turned the newest wire format on (every region ran this release).
    public var wireFormatRaised = false
    /// A region added while the cluster served acknowledged a write of its own.
    public var regionJoined = false
    /// A region was decommissioned: drained, recorded retired, stopped, every member told.
    public var regionRetired = false

    public static let names = [
        "failover", "partition healed mid-batch", "snapshot catch-up", "torn commit", "crash before fsync",
        "disk full refused", "disk full recovered", "fsync failed", "wiped region recovered",
        "drained restart", "session wait served", "clock fenced", "entry held for clock",
        "record read back", "log read from store", "feed failover", "wire format raised",
        "region joined", "region retired",
    ]
    public var fired: [Bool] {
        [
            failover, partitionHealedMidBatch, snapshotCatchUp, tornCommit, crashBeforeFsync, diskFullRefused,
            diskFullRecovered,
            fsyncFailed, wipedRegionRecovered, drainedRestart, sessionWaitServed, clockFenced, entryHeldForClock,
            recordReadBack, logReadFromStore, feedFailover, wireFormatRaised, regionJoined, regionRetired,
        ]
    }

    public mutating func formUnion(_ o: SimProbes) {
        failover = failover || o.failover
        partitionHealedMidBatch = partitionHealedMidBatch || o.partitionHealedMidBatch
        snapshotCatchUp = snapshotCatchUp || o.snapshotCatchUp
        tornCommit = tornCommit || o.tornCommit
        crashBeforeFsync = crashBeforeFsync || o.crashBeforeFsync
        diskFullRefused = diskFullRefused || o.diskFullRefused
        diskFullRecovered = diskFullRecovered || o.diskFullRecovered
        fsyncFailed = fsyncFailed || o.fsyncFailed
        wipedRegionRecovered = wipedRegionRecovered || o.wipedRegionRecovered
        drainedRestart = drainedRestart || o.drainedRestart
        sessionWaitServed = sessionWaitServed || o.sessionWaitServed
        clockFenced = clockFenced || o.clockFenced
        entryHeldForClock = entryHeldForClock || o.entryHeldForClock
        feedFailover = feedFailover || o.feedFailover
        recordReadBack = recordReadBack || o.recordReadBack
        logReadFromStore = logReadFromStore || o.logReadFromStore
        wireFormatRaised = wireFormatRaised || o.wireFormatRaised
        regionJoined = regionJoined || o.regionJoined
        regionRetired = regionRetired || o.regionRetired
    }
}

/// Counts gathered over a run.
public struct SimStats: Sendable, Hashable {
    public var messages: UInt64 = 0
    public var bytes: UInt64 = 0
    public var commitGroups: UInt64 = 0
    /// Power losses that took back groups committed without their fsync (snapshot chunks
    /// before the last); the region caught up again.
    public var unsyncedGroupsLost: UInt64 = 0
    public var localAcks: UInt64 = 0
    public var remoteAcks: UInt64 = 0
    public var reads: UInt64 = 0
    public var rejections: UInt64 = 0
    public var retries: UInt64 = 0
    public var operationsAbandoned: UInt64 = 0
    public var sessionWaits: UInt64 = 0
    public var crashes: UInt64 = 0
    public var unavailable: UInt64 = 0
    /// Writes a region refused because its clock was out of bound (503 clock_out_of_bound).
    public var clockRefusals: UInt64 = 0
    /// Writes a region refused while waiting for its peers' clock readings (503 clock_unverified).
    public var clockUnverifiedRefusals: UInt64 = 0
    /// The longest a region waited for its peers' clock readings before it took writes
    /// (from its start, a link back from a long cut, or a clock step), in ms.
    public var clockFirstReadingWaitMillisMax: UInt64 = 0
    public var diskFaults: UInt64 = 0
    public var wipes: UInt64 = 0
    public var regionsLost: UInt64 = 0
    public var partitions: UInt64 = 0
    public var resets: UInt64 = 0
    public var clockJumps: UInt64 = 0
    public var lossDelays: UInt64 = 0
    public var connections: UInt64 = 0
    public var rpoExposureMillisMax: UInt64 = 0
    /// Changes the feed consumer was shown; times it moved to another region; refusals
    /// of its cursor (a region that no longer keeps what it needs).
    public var feedChanges: UInt64 = 0
    public var feedFailovers: UInt64 = 0
    public var feedRefusals: UInt64 = 0
    /// Re-syncs after every region refused the cursor, and the changes they skipped.
    public var feedResyncs: UInt64 = 0
    public var feedSkipped: UInt64 = 0
    /// Payment histories compared between regions, and those a region refused as
    /// truncated (it caught up from a snapshot and never held their start).
    public var historiesCompared: UInt64 = 0
    public var historiesTruncated: UInt64 = 0
    /// Rolling upgrades: regions upgraded (SIGTERM, the next release, started again); when
    /// the newest wire format first turned on (ms; 0: never); acknowledged writes whose
    /// history names no actor (taken before it was on at their region).
    public var upgrades: UInt64 = 0
    public var wireGateOpenedMillis: UInt64 = 0
    public var writesWithoutActor: UInt64 = 0
    /// Regions added while the cluster served; when the last one took its first write (ms
    /// after it joined; 0: none did); writes acknowledged by added regions.
    public var regionsAdded: UInt64 = 0
    public var joinFirstWriteMillis: UInt64 = 0
    public var joinedRegionWrites: UInt64 = 0
    /// Regions retired: decommissioned (drained, stopped, every member told), and lost ones
    /// retired; the longest a decommission took from its start to its stop (ms); the
    /// writes of lost retired regions the survivors reported lost (the most any survivor
    /// reported, per retirement) and how many truly were (committed there, held by no
    /// survivor).
    public var regionsRetired: UInt64 = 0
    public var regionsRetiredLost: UInt64 = 0
    public var retireMillisMax: UInt64 = 0
    public var retiredLostEntriesReported: UInt64 = 0
    public var retiredLostEntriesTrue: UInt64 = 0
}

/// One point of the report's timeline.
public struct SimSample: Sendable, Hashable {
    /// One region at that moment.
    public struct RegionPoint: Sendable, Hashable {
        public let up: Bool
        public let rpoExposureMillis: UInt64
        public let lagMillisMax: UInt64
        public let unreplicated: UInt64
        /// Per currency, the amounts of the payments with a write of this region that no
        /// other region has acknowledged yet (the node's `rpo_exposure_amounts`); empty
        /// while the region is down.
        public let atRisk: [CurrencyAmount]
    }
    public let atMicros: UInt64
    public let regions: [RegionPoint]
}

/// A labelled instant on the timeline (crash, restart, loss, cut, heal).
public struct TimelineMark: Sendable, Hashable {
    public let atMicros: UInt64
    public let region: Int?
    public let label: String
    /// When a fault that lasts ends (a cut, a clog, a full disk); nil for an instant.
    public var untilMicros: UInt64?

    public init(atMicros: UInt64, region: Int?, label: String, untilMicros: UInt64? = nil) {
        self.atMicros = atMicros
        self.region = region
        self.label = label
        self.untilMicros = untilMicros
    }
}

/// RTO of one outage: how long its clients took to succeed again.
public struct OutageResult: Sendable, Hashable {
    public let region: String
    public let startMillis: UInt64
    public let permanent: Bool
    public let affectedClients: Int
    /// Nil when none of the affected clients tried again before the heal.
    public let rtoMillis: UInt64?
}

/// Everything a run found.
public struct SimResult: Sendable {
    public let seed: UInt64
    public let options: SimOptions
    public let regions: [String]
    public let traceHash: String
    public let violations: [SimViolation]
    public let probes: SimProbes
    public let stats: SimStats
    public let simulatedMillis: UInt64
    public let events: UInt64
    public let writesAcked: Int
    /// Per region: when it last acknowledged a write (ms of simulated time; nil: never).
    public let lastAckMillis: [UInt64?]
    /// `local` writes lost with a lost region, and the window they span (ms).
    public let rpoLostWrites: Int
    public let rpoWindowMillis: UInt64
    public let outages: [OutageResult]
    public let convergedAfterHealMillis: UInt64?
    public let digests: [String]
    public let samples: [SimSample]
    public let timeline: [TimelineMark]
    /// Per region, its clock against true time at the end: offset (ms) and drift (ppm).
    public var clocks: [(offsetMillis: Int64, driftPPM: Int64)] = []

    public var passed: Bool { violations.isEmpty }
    public var rtoMillisMax: UInt64? { outages.compactMap(\.rtoMillis).max() }

    /// Process exit codes: 0 pass, 2 crash (a trap kills the process: the shell sees a
    /// signal), 3 liveness, 4 safety.
    public var exitCode: Int32 {
        if violations.contains(where: { $0.kind == .safety }) { return 4 }
        if violations.contains(where: { $0.kind == .liveness }) { return 3 }
        return 0
    }
}
