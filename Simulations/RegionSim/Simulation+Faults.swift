import ReplicaCore

// MARK: - Faults: drawn per seed (swarm) or scripted (scenario files)

extension Simulation {
    func scheduleFaults() {
        let chaos = options.chaosMillis * 1_000
        let minutes = max(options.chaosMillis / 60_000, 1)
        let n = UInt64(regions.count)
        func times(_ perMinute: UInt64) -> [UInt64] {
            (0..<(perMinute * minutes)).map { _ in faultRNG.between(1_000_000, chaos - min(chaos, 2_000_000)) }
        }
        for t in times(options.crashesPerMinute) {
            schedule(.fault(.crash(Int(faultRNG.below(n)), downMicros: faultRNG.between(1_000_000, 15_000_000))), at: t)
        }
        for t in times(options.partitionsPerMinute) {
            let (a, b) = distinctPair()
            schedule(.fault(.cut(a, b, untilMicros: t + faultRNG.between(1_000_000, 10_000_000), oneWay: false)), at: t)
        }
        for t in times(options.oneWayPartitionsPerMinute) {
            let (a, b) = distinctPair()
            schedule(.fault(.cut(a, b, untilMicros: t + faultRNG.between(1_000_000, 8_000_000), oneWay: true)), at: t)
        }
        for t in times(options.cloggingPerMinute) {
            let (a, b) = distinctPair()
            schedule(
                .fault(
                    .clog(
                        a, b, extraMicros: faultRNG.between(100_000, 800_000),
                        untilMicros: t + faultRNG.between(2_000_000, 10_000_000))), at: t)
        }
        for t in times(options.connectionResetsPerMinute) {
            let (a, b) = distinctPair()
            schedule(.fault(.resetConnection(a, b)), at: t)
        }
        for t in times(options.clockJumpsPerMinute) {
            let delta = Int64(faultRNG.between(100, 3_000)) * (faultRNG.below(2) == 0 ? 1 : -1)
            let r = Int(faultRNG.below(n))
            schedule(.fault(.clockJump(r, deltaMillis: delta)), at: t)
            // NTP steps it back a while later (three times the error, in ms).
            schedule(.fault(.clockJump(r, deltaMillis: -delta)), at: t + delta.magnitude * 3_000)
        }
        for t in times(options.diskFullPerMinute) {
            schedule(
                .fault(.diskFull(Int(faultRNG.below(n)), untilMicros: t + faultRNG.between(500_000, 8_000_000))), at: t)
        }
        for t in times(options.fsyncFailuresPerMinute) {
            schedule(.fault(.fsyncFailure(Int(faultRNG.below(n)))), at: t)
        }
        for t in times(options.wipesPerMinute) {
            schedule(.fault(.wipe(Int(faultRNG.below(n)), downMicros: faultRNG.between(1_000_000, 10_000_000))), at: t)
        }
        for t in times(options.gracefulRestartsPerMinute) {
            schedule(
                .fault(.gracefulRestart(Int(faultRNG.below(n)), downMicros: faultRNG.between(500_000, 5_000_000))),
                at: t)
        }
        if let at = options.loseRegionAtMillis {
            schedule(.fault(.lose(Int(faultRNG.below(n)))), at: at * 1_000)
        }
        for f in options.scripted { scheduleScripted(f) }
    }

    func distinctPair() -> (Int, Int) {
        let n = UInt64(regions.count)
        let a = Int(faultRNG.below(n))
        let b = (a + 1 + Int(faultRNG.below(n - 1))) % Int(n)
        return (a, b)
    }

    func scheduleScripted(_ f: ScriptedFault) {
        let at = f.atMillis * 1_000
        switch f.kind {
        case .crash(let r, let down): schedule(.fault(.crash(r, downMicros: down * 1_000)), at: at)
        case .lose(let r): schedule(.fault(.lose(r)), at: at)
        case .partition(let a, let b, let ms):
            schedule(.fault(.cut(a, b, untilMicros: at + ms * 1_000, oneWay: false)), at: at)
        case .oneWay(let a, let b, let ms):
            schedule(.fault(.cut(a, b, untilMicros: at + ms * 1_000, oneWay: true)), at: at)
        case .isolate(let r, let ms):
            for p in regions.indices where p != r {
                schedule(.fault(.cut(r, p, untilMicros: at + ms * 1_000, oneWay: false)), at: at)
            }
        case .clog(let a, let b, let extra, let ms):
            schedule(.fault(.clog(a, b, extraMicros: extra * 1_000, untilMicros: at + ms * 1_000)), at: at)
        case .clockJump(let r, let delta): schedule(.fault(.clockJump(r, deltaMillis: delta)), at: at)
        case .diskFull(let r, let ms): schedule(.fault(.diskFull(r, untilMicros: at + ms * 1_000)), at: at)
        case .slowDisk(let r, let extra, let ms):
            schedule(.fault(.slowDisk(r, extraMicros: extra * 1_000, untilMicros: at + ms * 1_000)), at: at)
        case .fsyncFailure(let r): schedule(.fault(.fsyncFailure(r)), at: at)
        case .wipe(let r, let down): schedule(.fault(.wipe(r, downMicros: down * 1_000)), at: at)
        case .gracefulRestart(let r, let down): schedule(.fault(.gracefulRestart(r, downMicros: down * 1_000)), at: at)
        case .backup(let r): schedule(.fault(.backup(r)), at: at)
        case .restore(let r, let down): schedule(.fault(.restore(r, downMicros: down * 1_000)), at: at)
        case .upgrade(let r, let down): schedule(.fault(.upgrade(r, downMicros: down * 1_000)), at: at)
        case .addRegion(let r): schedule(.fault(.addRegion(r)), at: at)
        case .retire(let r): schedule(.fault(.retire(r)), at: at)
        case .retireLost(let r): schedule(.fault(.retireLost(r)), at: at)
        }
    }

    /// Whether another region than `r` is down or lost (swarm faults keep one region out at
    /// a time; a region not yet added, or retired, is not out).
    func anotherRegionOut(_ r: Int) -> Bool {
        memberRegions.contains { $0 != r && (!regions[$0].up || regions[$0].lost) }
    }

    func apply(_ action: FaultAction) {
        guard !droppedForRetirement(action) else { return }
        switch action {
        case .crash(let r, let down):
            guard !healing, regions[r].up, !anotherRegionOut(r) else { return }
            stats.crashes += 1
            noteOutage(r, permanent: false)
            crashRegion(r)
            timeline.append(TimelineMark(atMicros: now, region: r, label: "crash"))
            schedule(.fault(.restart(r)), in: down)
        case .restart(let r):
            guard !regions[r].up, !regions[r].lost, regions[r].member, !regions[r].retired else { return }
            startRegion(r)
            timeline.append(TimelineMark(atMicros: now, region: r, label: "restart"))
            for p in regions.indices where p != r { tryConnect(r, p) }
        case .lose(let r):
            guard !healing, !regions[r].lost, regions[r].member, !anotherRegionOut(r) else { return }
            // After a retirement shrank the cluster (or while one is under way), a loss that
            // would leave one region with only a lost peer is dropped: nothing it wrote could
            // ever be held elsewhere.
            guard liveRegions.filter({ !regions[$0].retiring }).count > 2 else {
                timeline.append(TimelineMark(atMicros: now, region: r, label: "lose dropped: one region would be left"))
                return
            }
            loseRegion(r)
        case .cut(let a, let b, let until, let oneWay):
            guard !healing else { return }
            stats.partitions += 1
            cut(a, b, until: until, oneWay: oneWay)
            timeline.append(
                TimelineMark(
                    atMicros: now, region: a, label: oneWay ? "one-way cut →\(regionIDs[b])" : "cut ↔\(regionIDs[b])",
                    untilMicros: until))
        case .clog(let a, let b, let extra, let until):
            guard !healing else { return }
            for (x, y) in [(a, b), (b, a)] {
                links[x][y].clogExtraMicros = extra
                links[x][y].clogUntilMicros = until
            }
            timeline.append(
                TimelineMark(
                    atMicros: now, region: a, label: "clog ↔\(regionIDs[b]) +\(extra / 1_000) ms", untilMicros: until))
        case .resetConnection(let a, let b):
            guard !healing else { return }
            stats.resets += 1
            dropConnection(a, b)
        case .clockJump(let r, let delta):
            regions[r].clockOffsetMicros += delta * 1_000
            stats.clockJumps += 1
            timeline.append(TimelineMark(atMicros: now, region: r, label: "clock \(delta >= 0 ? "+" : "")\(delta) ms"))
        case .healLinks:
            healAllLinks()
        case .diskFull(let r, let until):
            guard !healing else { return }
            stats.diskFaults += 1
            regions[r].store.fullUntilMicros = max(regions[r].store.fullUntilMicros, until)
            timeline.append(TimelineMark(atMicros: now, region: r, label: "disk full", untilMicros: until))
        case .slowDisk(let r, let extra, let until):
            stats.diskFaults += 1
            regions[r].store.slowUntilMicros = until
            regions[r].store.slowExtraMicros = extra
            timeline.append(TimelineMark(atMicros: now, region: r, label: "disk slow", untilMicros: until))
        case .fsyncFailure(let r):
            guard !healing, regions[r].up, !anotherRegionOut(r) else { return }
            stats.diskFaults += 1
            probes.fsyncFailed = true
            regions[r].store.fsyncFailureArmed = true
        case .wipe(let r, let down):
            guard !healing, regions[r].up, !anotherRegionOut(r) else { return }
            replaceStore(r, with: emptyStorage(), label: "wiped")  // the data folder is wiped
            schedule(.fault(.restart(r)), in: down)
        case .backup(let r):
            guard !regions[r].lost else { return }
            regions[r].backup = regions[r].store.committed
            timeline.append(TimelineMark(atMicros: now, region: r, label: "backed up"))
        case .restore(let r, let down):
            guard !healing, regions[r].up, !anotherRegionOut(r) else { return }
            // paynode restore: the copy, marked as lacking the region's later writes.
            var restored = regions[r].backup ?? emptyStorage()
            restored.ownHistoryComplete = false
            replaceStore(r, with: restored, label: "restored from backup")
            schedule(.fault(.restart(r)), in: down)
        case .gracefulRestart(let r, let down):
            guard !healing, let shell = regions[r].shell, !anotherRegionOut(r) else { return }
            drainAndRestart(r, shell, down: down, label: "SIGTERM")
        case .supervisorRestart(let r):
            guard regions[r].up, !regions[r].lost else { return }
            crashRegion(r)
            timeline.append(TimelineMark(atMicros: now, region: r, label: "restarted by supervisor"))
            schedule(.fault(.restart(r)), in: 500_000)
        case .upgrade(let r, let down):
            upgrade(r, downMicros: down)
        case .addRegion(let r):
            addRegion(r)
        case .retire(let r):
            retire(r)
        case .retireLost(let r):
            retireLost(r)
        case .retireStep(let r):
            retirementStep(r)
        }
    }

    /// The region is lost for good, its disk too.
    func loseRegion(_ r: Int) {
        noteOutage(r, permanent: true)
        crashRegion(r)
        noteOwnCommitted(r)
        regions[r].lost = true
        regions[r].store.committed = emptyStorage()  // the disk is gone
        regions[r].store.synced = nil
        lossTimes[r] = now
        stats.regionsLost += 1
        timeline.append(TimelineMark(atMicros: now, region: r, label: "lost"))
    }

    /// The region crashes and its data folder is replaced by `storage` (empty: wiped; a
    /// backup: restored). Its writes survive as far as a peer or `storage` holds them.
    func replaceStore(_ r: Int, with storage: InMemoryStorage, label: String) {
        stats.wipes += 1
        noteOutage(r, permanent: false)
        crashRegion(r)
        let peersHeld =
            regions.indices.filter { $0 != r && regions[$0].up }.map { regions[$0].engine.durableVector[regionIDs[r]] }
            .max() ?? 0
        wipes.append(
            Wipe(
                region: r, epoch: regions[r].storageEpoch, atMicros: now,
                peersHeld: max(peersHeld, storage.vector[regionIDs[r]])))
        regions[r].storageEpoch += 1
        noteOwnCommitted(r)
        regions[r].store.committed = storage
        regions[r].store.synced = nil
        timeline.append(TimelineMark(atMicros: now, region: r, label: label))
    }

    func noteOutage(_ r: Int, permanent: Bool) {
        // Clients of a region not yet added send nothing yet.
        let affected = clients.indices.filter {
            regions[clients[$0].home].member && clients[$0].router.preferred(nowMillis: now / 1_000) == regionIDs[r]
        }
        outages.append(Outage(region: r, startMicros: now, affectedClients: affected, permanent: permanent))
    }

    /// Periodic sample for the report; during the heal phase, also the convergence check.
    func sample() {
        var perRegion: [SimSample.RegionPoint] = []
        for r in regions.indices {
            guard let shell = regions[r].shell else {
                perRegion.append(.init(up: false, rpoExposureMillis: 0, lagMillisMax: 0, unreplicated: 0, atRisk: []))
                continue
            }
            let s = shell.status()
            // Read only: sampling must not change what the run does (nor its trace hash).
            let atRisk = regions[r].store.committed.amountsAbove(s.heldElsewhere, of: regionIDs[r])
            perRegion.append(
                .init(
                    up: true, rpoExposureMillis: s.rpoExposureMillis,
                    lagMillisMax: s.peers.map(\.lagMillis).max() ?? 0, unreplicated: s.unreplicatedLocalEntries,
                    atRisk: atRisk))
            stats.rpoExposureMillisMax = max(stats.rpoExposureMillisMax, s.rpoExposureMillis)
        }
        samples.append(SimSample(atMicros: now, regions: perRegion))
        if !probes.entryHeldForClock,
            regions.contains(where: { ($0.shell?.engine.counters.entriesHeldForClock ?? 0) > 0 })
        {
            probes.entryHeldForClock = true
        }
        checkWireGateEverywhere()
        if healing && convergedAtMicros == nil && checkConverged() { convergedAtMicros = now }
    }
}

extension Simulation {
    /// SIGTERM: the region drains (every commit finished and answered), stops, and starts
    /// again from its store after `down` (a graceful restart, or an upgrade's).
    func drainAndRestart(_ r: Int, _ shell: SimShell, down: UInt64, label: String) {
        noteOutage(r, permanent: false)
        timeline.append(TimelineMark(atMicros: now, region: r, label: label))
        let incarnation = regions[r].incarnation
        shell.drain { [unowned self] in
            guard regions[r].incarnation == incarnation else { return }
            probes.drainedRestart = true
            crashRegion(r)
            schedule(.fault(.restart(r)), in: down)
        }
    }
}
