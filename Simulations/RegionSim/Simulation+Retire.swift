import ReplicaCore
import ReplicaShell

// MARK: - Regions retired while the cluster serves: decommissioned, or lost for good

/// What the run knows of its retirements, for the checks.
struct RetirementTracker {
    /// A retirement done: every member was told (a member that was down, at its restart).
    struct Done {
        let region: Int
        /// Decommissioned (drained, recorded, stopped), not lost.
        let clean: Bool
        /// When it began: a decommission's start (its region took no write since), or the
        /// instant a lost region was retired.
        let beganMicros: UInt64
        let atMicros: UInt64
    }
    var done: [Done] = []
    /// When each decommission began.
    var began: [Int: UInt64] = [:]
    /// Per region whose store was lost or replaced (lost, wiped, restored): the most of its
    /// own writes it had ever committed.
    var ownCommittedMax: [Int: UInt64] = [:]
}

extension Simulation {
    /// How often a decommission looks whether every peer holds its region's writes.
    static let retireStepMicros: UInt64 = 250_000

    /// `retire`, as `paynode decommission` and then a reload at every member do it: the
    /// region takes no client write from now on (503 region_retiring: its clients fail
    /// over; from every start too, should it crash meanwhile), keeps replicating until
    /// every peer holds every write it made, records its retirement in its store, drains
    /// and stops for good; then every member is told (`retirePeer`; a member that is down
    /// has it in its config from its next start). Dropped when the run heals first; one
    /// still draining at the heal goes on (it is finished as soon as it is drained). A
    /// region lost meanwhile is retired as lost.
    func retire(_ j: Int) {
        guard regions[j].member, !regions[j].retiring else {
            let why = regions[j].member ? "it is being retired already" : "it is no member"
            timeline.append(TimelineMark(atMicros: now, region: j, label: "retire dropped: \(why)"))
            return
        }
        guard !healing else {
            timeline.append(TimelineMark(atMicros: now, region: j, label: "retire not done before the heal"))
            return
        }
        guard !regions[j].lost else {
            timeline.append(TimelineMark(atMicros: now, region: j, label: "retire: it is lost, retired as lost"))
            completeRetirement(j, clean: false)
            return
        }
        regions[j].retiring = true
        retirements.began[j] = now
        noteOutage(j, permanent: true)
        regions[j].shell?.beginRetirement()
        timeline.append(TimelineMark(atMicros: now, region: j, label: "decommission: takes no writes, drains"))
        schedule(.fault(.retireStep(j)), in: Self.retireStepMicros)
    }

    /// A decommission looks again: once the region is up, serving and idle (no commit in
    /// flight), and every peer holds every write it made, its retirement is recorded; once
    /// that commit landed and every commit is answered, the process stops for good (SIGTERM
    /// without the restart). If the record did not land (its commit failed), it starts
    /// again and tries once more; if it crashes meanwhile, it goes on from its next start.
    func retirementStep(_ j: Int) {
        guard regions[j].retiring, !regions[j].retired else { return }
        if regions[j].lost {
            regions[j].retiring = false
            timeline.append(TimelineMark(atMicros: now, region: j, label: "lost while draining: retired as lost"))
            completeRetirement(j, clean: false)
            return
        }
        schedule(.fault(.retireStep(j)), in: Self.retireStepMicros)
        // Idle too: `retirement` counts committed writes only, so one taken before the
        // decommission began and still in its group commit would be left out.
        guard let shell = regions[j].shell, shell.health == .serving, shell.isIdle,
            regions[j].retireStopIncarnation != regions[j].incarnation, shell.engine.retirement.drained,
            shell.finishRetirement()
        else { return }
        regions[j].retireStopIncarnation = regions[j].incarnation
        timeline.append(TimelineMark(atMicros: now, region: j, label: "drained: retirement recorded, SIGTERM"))
        let incarnation = regions[j].incarnation
        shell.drain { [unowned self] in
            guard regions[j].incarnation == incarnation else { return }
            crashRegion(j)
            guard regions[j].store.committed.selfRetired else {
                timeline.append(
                    TimelineMark(atMicros: now, region: j, label: "retirement not recorded: started again"))
                schedule(.fault(.restart(j)), in: 500_000)
                return
            }
            regions[j].retiring = false
            completeRetirement(j, clean: true)
        }
    }

    /// `retire-lost`: the region is lost for good (as `lose`, unless it already was: like
    /// any loss, it waits until no other region is out) and every member is told at once.
    /// Dropped when the run heals first.
    func retireLost(_ j: Int) {
        guard regions[j].member else {
            timeline.append(TimelineMark(atMicros: now, region: j, label: "retire-lost dropped: it is no member"))
            return
        }
        guard !healing else {
            timeline.append(TimelineMark(atMicros: now, region: j, label: "retire-lost not done before the heal"))
            return
        }
        if !regions[j].lost {
            guard !anotherRegionOut(j) else {
                schedule(.fault(.retireLost(j)), in: 1_000_000)
                return
            }
            loseRegion(j)
        }
        regions[j].retiring = false
        completeRetirement(j, clean: false)
    }

    /// The region is retired: no member lists it as a peer any more (each is told now; one
    /// that is down, from its config at its next start), clients leave it out, and it
    /// never runs or links again.
    func completeRetirement(_ j: Int, clean: Bool) {
        regions[j].retired = true
        regions[j].retireStopIncarnation = nil
        releases.onPrevious = regionsOnPreviousRelease
        let began = retirements.began[j] ?? now
        retirements.done.append(.init(region: j, clean: clean, beganMicros: began, atMicros: now))
        if clean {
            stats.regionsRetired += 1
            stats.retireMillisMax = max(stats.retireMillisMax, (now - began) / 1_000)
            probes.regionRetired = true
        } else {
            stats.regionsRetiredLost += 1
        }
        for r in memberRegions where r != options.retirementUntold { regions[r].shell?.retirePeer(regionIDs[j]) }
        for c in clients.indices where clients[c].router.health[regionIDs[j]] != nil {
            clients[c].router = router(clients[c].router, without: j)
        }
        timeline.append(
            TimelineMark(
                atMicros: now, region: j,
                label: clean ? "retired: drained and stopped, every member told" : "retired as lost: every member told")
        )
    }

    /// A client's router without a retired region (its client config no longer lists it),
    /// keeping what it measured of the others.
    func router(_ old: RegionRouter, without j: Int) -> RegionRouter {
        let kept = old.health.keys.filter { $0 != regionIDs[j] }.sorted()
        var router = RegionRouter(regions: kept, config: old.config)
        for region in kept {
            if let latency = old.health[region]!.latencyMicros { router.recordSuccess(region, latencyMicros: latency) }
            if !old.isHealthy(region, nowMillis: now / 1_000) { router.recordRefusal(region, nowMillis: now / 1_000) }
        }
        return router
    }

    /// Before region `r`'s store is lost or replaced: the most of its own writes it ever committed.
    func noteOwnCommitted(_ r: Int) {
        let own = regions[r].store.committed.vector[regionIDs[r]]
        retirements.ownCommittedMax[r] = max(retirements.ownCommittedMax[r] ?? 0, own)
    }

    /// A fault naming a retired region is dropped (with a mark; a restart, silently).
    func droppedForRetirement(_ action: FaultAction) -> Bool {
        guard let (name, named) = action.named, let r = named.first(where: { regions[$0].retired }) else {
            return false
        }
        timeline.append(TimelineMark(atMicros: now, region: r, label: "\(name) dropped: \(regionIDs[r]) is retired"))
        return true
    }

    // MARK: Convergence

    /// For convergence: no decommission is under way, unless it cannot finish (its region
    /// lists a region lost and not retired: that one never holds its writes).
    var retirementsSettled: Bool {
        memberRegions.allSatisfy { !regions[$0].retiring || retirementBlocked($0) }
    }

    func retirementBlocked(_ j: Int) -> Bool {
        regions[j].shell?.config.engine.peers.contains { regions[index(of: $0)].lost } ?? false
    }

    /// Decommissions under way, for the timeline and the liveness message.
    var retirementsSummary: String {
        let pending = memberRegions.filter { regions[$0].retiring }
        guard !pending.isEmpty else { return "" }
        return "; retiring: "
            + pending.map { "\(regionIDs[$0]) (\(retirementProgress($0)))" }.joined(separator: "; ")
    }

    func retirementProgress(_ j: Int) -> String {
        guard let shell = regions[j].shell else { return "down" }
        let lacking = shell.engine.retirement.missing.filter { $0.entries > 0 }
        guard !lacking.isEmpty else { return "drained" }
        return lacking.map { "\($0.region) lacks \($0.entries)" }.joined(separator: ", ")
    }

    /// The run heals with a decommission under way: it goes on, and is finished once drained.
    func noteRetirementsAtHeal() {
        for j in memberRegions where regions[j].retiring {
            timeline.append(
                TimelineMark(
                    atMicros: now, region: j, label: "retirement still draining at the heal: \(retirementProgress(j))"))
        }
    }
}

extension FaultAction {
    /// The fault's name and the regions it names (nil: a restart, a heal, a decommission's
    /// step, which look at the region themselves).
    var named: (String, [Int])? {
        switch self {
        case .crash(let r, _): ("crash", [r])
        case .lose(let r): ("lose", [r])
        case .cut(let a, let b, _, _): ("cut", [a, b])
        case .clog(let a, let b, _, _): ("clog", [a, b])
        case .resetConnection(let a, let b): ("reset", [a, b])
        case .clockJump(let r, _): ("clock jump", [r])
        case .diskFull(let r, _): ("disk full", [r])
        case .slowDisk(let r, _, _): ("slow disk", [r])
        case .fsyncFailure(let r): ("fsync failure", [r])
        case .wipe(let r, _): ("wipe", [r])
        case .gracefulRestart(let r, _): ("sigterm", [r])
        case .backup(let r): ("backup", [r])
        case .restore(let r, _): ("restore", [r])
        case .upgrade(let r, _): ("upgrade", [r])
        case .addRegion(let r): ("add-region", [r])
        case .retire(let r): ("retire", [r])
        case .retireLost(let r): ("retire-lost", [r])
        case .restart, .supervisorRestart, .healLinks, .retireStep: nil
        }
    }
}
