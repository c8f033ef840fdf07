import ReplicaCore

// MARK: - Regions: start, crash, restart, loss, commits, directives

extension Simulation {
    func engineConfig(_ r: Int) -> EngineConfig {
        var c = EngineConfig(region: regionIDs[r], peers: regionIDs.filter { $0 != regionIDs[r] })
        c.logEntriesMax = 500
        c.snapshotChunkRecords = 256
        c.batchEntriesMax = 256
        c.remoteAckTimeoutMillis = 1_000
        c.tickIntervalMillis = 50
        // As a node runs: short batching, relays only for entries a peer seems to lack.
        c.batchDelayMillis = 10
        c.relayDelayMillis = 2_500
        c.testOnlyBrokenMerge = options.brokenMerge
        return c
    }

    /// Starts (or restarts) region `r` from what its storage committed.
    func startRegion(_ r: Int) {
        let recovered = regions[r].storage.recover()
        regions[r].engine = ReplicationEngine(config: engineConfig(r), recovered: recovered)
        regions[r].incarnation += 1
        regions[r].pending = []
        regions[r].commitScheduled = false
        regions[r].waiting = [:]
        schedule(.tick(region: r, incarnation: regions[r].incarnation), in: netRNG.between(0, 20_000))
    }

    /// The process dies: uncommitted requests are gone (a torn last group never landed).
    func crashRegion(_ r: Int) {
        guard regions[r].up else { return }
        if !regions[r].pending.isEmpty { probes.tornCommit = true }
        regions[r].engine = nil
        regions[r].pending = []
        regions[r].waiting = [:]
        regions[r].incarnation += 1
        for p in regions.indices where p != r { dropConnection(r, p) }
    }

    /// Commits every pending request as one group (one fsync), then tells the engine.
    func commitPending(_ r: Int) {
        regions[r].commitScheduled = false
        let group = regions[r].pending
        guard let last = group.last else { return }
        regions[r].pending = []
        regions[r].storage.commit(group)
        stats.commitGroups += 1
        let directives = regions[r].engine!.didPersist(requestID: last.id, nowMillis: wallMillis(r))
        perform(directives, at: r)
    }

    /// Carries out an engine's directives, as the node's shell does.
    func perform(_ directives: [EngineDirective], at r: Int) {
        for d in directives {
            guard regions[r].up else { return }
            switch d {
            case .persist(let request):
                regions[r].pending.append(request)
                if !regions[r].commitScheduled {
                    regions[r].commitScheduled = true
                    schedule(.commit(region: r, incarnation: regions[r].incarnation), in: netRNG.between(500, 3_000))
                }
            case .send(let peer, let message):
                send(message, from: r, to: regionIDs.firstIndex(of: peer)!)
            case .acknowledge(let ticket, let ack):
                guard let waiter = regions[r].waiting.removeValue(forKey: ticket) else { continue }
                reply(op: waiter.op, attempt: waiter.attempt, from: r, .ok(ack, ack.payment, seq: waiter.seq))
            case .compactLog(let through):
                regions[r].storage.compactLog(through: through)
            case .disconnect(let peer, let reason):
                violations.append(SimViolation(kind: .safety, message: "\(regionIDs[r]) disconnected \(peer): \(reason)"))
                dropConnection(r, regionIDs.firstIndex(of: peer)!)
            }
        }
    }
}
