// MARK: - Timer

extension ReplicationEngine {
    /// The periodic input, every `config.tickIntervalMillis`: resends what peers did not
    /// ack in time, pings peers, times out `remote` writes, compacts the log, and pushes.
    public mutating func tick(nowMillis: UInt64) -> [EngineDirective] {
        var directives = noteWallTime(nowMillis)
        releaseQuietSnapshotSource(nowMillis: nowMillis)
        for peer in config.peers.sorted() {
            guard case .up(var session) = peers[peer]!.link else { continue }
            if let since = session.waitingSinceMillis, nowMillis >= since + config.retransmitAfterMillis {
                session.storeRead = nil
                session.inFlight = []
                session.sent = peers[peer]!.acked
                session.snapshot = nil
                counters.retransmits += 1
                peers[peer]!.link = .up(session)
            }
            if nowMillis >= session.lastPingSentMillis + config.pingIntervalMillis {
                directives.append(ping(peer, nowMillis: nowMillis))
            }
        }
        // Announcements kept in the store count after a restart, and a region alone has
        // no peer to wait for.
        directives += turnGateOnIfEveryRegionSpeaks()
        directives += releaseRemoteWrites(nowMillis: nowMillis)
        directives += compactLog()
        directives += pumpAll(nowMillis: nowMillis)
        return directives
    }

    /// A PING to `peer` (whose link is up) now: this region's vector, a clock reading, and
    /// who streams it a snapshot.
    mutating func ping(_ peer: RegionID, nowMillis: UInt64) -> EngineDirective {
        if case .up(var session) = peers[peer]!.link {
            session.lastPingSentMillis = nowMillis
            peers[peer]!.link = .up(session)
        }
        return .send(
            to: peer,
            .ping(
                vector: durableVector, clock: clockSample(for: peer, nowMillis: nowMillis),
                snapshotFrom: snapshotSource?.peer, wireActive: wire.active))
    }

    /// Drops log entries every peer has acked, and the oldest beyond `logEntriesMax`;
    /// from memory, also the oldest beyond `logCacheEntries` (those stay in the store).
    mutating func compactLog() -> [EngineDirective] {
        let ackedByAll = VersionVector.meet(config.peers.map { peers.withValue($0) { $0.acked }! })
        var target = storeHorizon
        for origin in ackedByAll.origins {
            target[origin] = max(target[origin], min(ackedByAll[origin], durableVector[origin]))
        }
        target.merge(Self.horizonKeeping(atMost: config.logEntriesMax, from: storeHorizon, to: durableVector))
        var directives: [EngineDirective] = []
        if target != storeHorizon {
            storeHorizon = target
            directives.append(.compactLog(through: target))
        }
        log.trim(through: storeHorizon)
        if let cap = config.logCacheEntries, log.count > cap { log.trim(through: log.horizonKeeping(atMost: cap)) }
        return directives
    }

    /// The horizon that leaves at most `max` of the entries between `horizon` and `top`,
    /// dropping the oldest quarter of the largest origins first.
    static func horizonKeeping(atMost max: Int, from horizon: VersionVector, to top: VersionVector) -> VersionVector {
        var counts: [(RegionID, UInt64)] = top.sortedEntries.map {
            ($0.0, $0.1 > horizon[$0.0] ? $0.1 - horizon[$0.0] : 0)
        }
        var excess = Int(clamping: counts.reduce(0) { $0 + $1.1 }) - max
        var target = horizon
        guard excess > 0 else { return target }
        counts.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        for (origin, count) in counts where excess > 0 {
            let drop = Swift.min(Int(count), Swift.max(excess, Int(count) / 4))
            target[origin] = horizon[origin] + UInt64(drop)
            excess -= drop
        }
        return target
    }
}
