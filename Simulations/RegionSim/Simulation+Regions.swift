import ReplicaCore
import ReplicaShell

// MARK: - Regions: start, crash, wipe, drain, the supervisor; callbacks of the running process

extension Simulation {
    static let logCacheEntries = 64

    func engineConfig(_ r: Int) -> EngineConfig {
        // Its node config lists every region of the cluster (one added later from its step on),
        // and the retired ones under `retired` (a member never told keeps them as peers).
        let gone = regions.indices.filter { regions[$0].retired && $0 != r }
        let told = options.retirementUntold != r
        var c = EngineConfig(
            region: regionIDs[r],
            peers: (memberRegions + (told ? [] : gone)).sorted().filter { $0 != r }.map { regionIDs[$0] })
        if told { c.retired = gone.map { regionIDs[$0] } }
        c.logEntriesMax = options.logEntriesMax
        c.snapshotChunkRecords = options.snapshotChunkRecords
        c.batchEntriesMax = options.batchEntriesMax
        c.remoteAckTimeoutMillis = 1_000
        c.tickIntervalMillis = 50
        // As a node runs: short batching, relays only for entries a peer seems to lack.
        c.batchDelayMillis = 10
        c.relayDelayMillis = 2_500
        // By default a cache of about 50 records: inputs wait for store reads all the
        // time, records are evicted and read back, snapshots are read from the store.
        c.recordCacheBytes = options.recordCacheBytes
        // Of the 500 log entries kept for peers, 64 in memory: the rest are read back.
        c.logCacheEntries = Self.logCacheEntries
        // The formats its binary speaks: this release's, or the release before's.
        c.wireVersions = regions[r].wireVersions
        return c
    }

    func shellConfig(_ r: Int) -> ShellConfig {
        var c = ShellConfig(engine: engineConfig(r))
        c.sessionWaitMillis = Self.sessionWaitMillis
        c.recoveryRetryMillisMin = 200
        c.recoveryRetryMillisMax = 2_000
        // Small, so a run sees the filter's false positives and its letting go (past 2,048 ids).
        c.storedIDFilterBits = 1 << 12
        return c
    }

    func index(of region: RegionID) -> Int { regionIDs.firstIndex(of: region)! }

    /// Runs `body` after `micros` if region `r`'s process is still the one that asked.
    func later(_ r: Int, inMicros micros: UInt64, _ body: @escaping () -> Void) {
        let id = nextCallbackID
        nextCallbackID += 1
        regions[r].callbacks[id] = body
        schedule(.callback(region: r, incarnation: regions[r].incarnation, id: id), in: micros)
    }

    func runCallback(_ r: Int, incarnation: Int, id: UInt64) {
        guard regions[r].incarnation == incarnation, let body = regions[r].callbacks.removeValue(forKey: id) else {
            return
        }
        body()
    }

    /// Starts (or restarts) region `r`'s process from what its disk committed.
    func startRegion(_ r: Int) {
        takeInstalledRelease(r)
        regions[r].incarnation += 1
        regions[r].callbacks = [:]
        regions[r].linksEnabled = true
        let shell = SimShell(
            config: shellConfig(r),
            recovered: regions[r].store.committed.recover(
                includingRecords: false, logTailPerOrigin: Self.logCacheEntries),
            store: regions[r].store, bus: regions[r].bus, clock: regions[r].clock)
        shell.observer = { [unowned self] event in observe(event, at: r) }
        // A region being decommissioned takes no client write from its start on.
        if regions[r].retiring { shell.beginRetirement() }
        regions[r].shell = shell
        // Processes start at no particular instant: timers in lockstep with the sampler
        // could hide a quiet moment from the convergence check forever.
        later(r, inMicros: netRNG.between(0, 20_000)) { shell.start() }
    }

    /// The process dies: what was not fsynced is gone (a torn last group never landed).
    func crashRegion(_ r: Int) {
        guard regions[r].up else { return }
        regions[r].store.crashed()
        regions[r].shell = nil
        noteReplicable(r)
        regions[r].callbacks = [:]
        regions[r].incarnation += 1
        for p in regions.indices where p != r { dropConnection(r, p) }
    }

    /// What the shell reports: probes, and the supervisor restarting a node whose store
    /// failed for good (systemd's `Restart=on-failure` after /ready stays 503).
    func observe(_ event: ShellEvent, at r: Int) {
        switch event {
        case .storeFailed(_, let uncertain):
            timeline.append(TimelineMark(atMicros: now, region: r, label: uncertain ? "fsync failed" : "store failed"))
            if uncertain { schedule(.fault(.supervisorRestart(r)), in: faultRNG.between(1_000_000, 3_000_000)) }
        case .storeRecovered:
            probes.diskFullRecovered = true
            timeline.append(TimelineMark(atMicros: now, region: r, label: "store recovered"))
        case .ownHistoryRecovered(let seq):
            noteOwnHistoryRecovered(r, resumingAfter: seq)
        case .clockStandingChanged(let standing):
            if case .awaitingReadings = standing {
                regions[r].clockWaitSinceMicros = now
            } else if let since = regions[r].clockWaitSinceMicros {
                regions[r].clockWaitSinceMicros = nil
                if standing == .vouched {
                    stats.clockFirstReadingWaitMillisMax = max(
                        stats.clockFirstReadingWaitMillisMax, (now - since) / 1_000)
                }
            }
            switch standing {
            case .unverified, .outOfBound:
                timeline.append(TimelineMark(atMicros: now, region: r, label: "clock \(standing.name)"))
            case .vouched, .awaitingReadings:
                break
            }
        case .wireFormatRaised(let to):
            noteWireRaised(r, to: to)
        case .recoveryFailed, .drained, .sessionWaitStarted, .sessionWaitEnded:
            break
        }
    }

    /// A wiped region has its history back: its writes acknowledged before the wipe
    /// above `seq` exist nowhere any more (they are the wipe's RPO).
    func noteOwnHistoryRecovered(_ r: Int, resumingAfter seq: UInt64) {
        guard let i = wipes.lastIndex(where: { $0.region == r && $0.epoch == regions[r].storageEpoch - 1 }) else {
            return
        }
        wipes[i].survivedThrough = max(wipes[i].survivedThrough ?? 0, seq)
        probes.wipedRegionRecovered = true
        timeline.append(TimelineMark(atMicros: now, region: r, label: "history back"))
    }
}

/// A wipe of a region's data folder, and what of its own writes survived elsewhere.
struct Wipe {
    let region: Int
    /// The storage epoch that ended.
    let epoch: Int
    let atMicros: UInt64
    /// The most of its own writes any other region had committed at the wipe.
    let peersHeld: UInt64
    /// Set once the region got its history back from its peers.
    var survivedThrough: UInt64?
}
