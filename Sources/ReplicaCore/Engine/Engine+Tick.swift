// MARK: - Timer

extension ReplicationEngine {
    /// The periodic input, every `config.tickIntervalMillis`: resends what peers did not
    /// ack in time, pings peers, times out `remote` writes, compacts the log, and pushes.
    public mutating func tick(nowMillis: UInt64) -> [EngineDirective] {
        var directives: [EngineDirective] = []
        for peer in config.peers.sorted() {
            guard var state = peers[peer], state.connected, state.greeted else { continue }
            if let oldest = state.inFlight.first, nowMillis >= oldest.sentAtMillis + config.retransmitAfterMillis {
                state.inFlight = []
                state.sent = state.acked
                state.snapshot = nil
                counters.retransmits += 1
            }
            if nowMillis >= state.lastPingSentMillis + config.pingIntervalMillis {
                state.lastPingSentMillis = nowMillis
                directives.append(.send(to: peer, .ping(vector: durableVector, clock: clockSample(for: peer, nowMillis: nowMillis))))
            }
            peers[peer] = state
        }
        directives += releaseRemoteWrites(nowMillis: nowMillis)
        directives += compactLog()
        directives += pumpAll(nowMillis: nowMillis)
        return directives
    }

    /// Drops log entries every peer has acked, and the oldest beyond `logEntriesMax`.
    mutating func compactLog() -> [EngineDirective] {
        let ackedByAll = VersionVector.meet(config.peers.map { peers[$0]!.acked })
        var target = log.horizon
        for origin in ackedByAll.origins { target[origin] = max(target[origin], min(ackedByAll[origin], durableVector[origin])) }
        target.merge(log.horizonKeeping(atMost: config.logEntriesMax))
        guard target != log.horizon else { return [] }
        log.trim(through: target)
        return [.compactLog(through: log.horizon)]
    }
}
