// MARK: - Peer connections and messages

extension ReplicationEngine {
    /// A connection to `peer` is up (its certificate already checked by the transport),
    /// running wire format `wire` (what the transport negotiated; nil: the newest this
    /// binary speaks). We greet it with our durable vector; nothing is pushed until its
    /// HELLO arrives. A link older than the cluster's active format is refused.
    public mutating func peerConnected(_ peer: RegionID, wire: UInt8? = nil, nowMillis: UInt64) -> [EngineDirective] {
        let stepped = noteWallTime(nowMillis)
        return stepped + connect(peer, wire: wire ?? config.wireVersions.upperBound, nowMillis: nowMillis)
    }

    mutating func connect(_ peer: RegionID, wire linkWire: UInt8, nowMillis: UInt64) -> [EngineDirective] {
        guard var state = peers[peer] else {
            return [.disconnect(peer, reason: "region \(peer) is not a peer of \(region)")]
        }
        if let refusal = wireRefusal(linkWire, peer: peer) {
            counters.linksRefusedForWire += 1
            return [.disconnect(peer, reason: refusal)]
        }
        state.linkWire = linkWire
        state.link = .greeting
        state.lastContactMillis = nowMillis
        // A fresh reading still counts; a stale one is waited for again (after a long cut).
        state.clockWaitSinceMillis = nowMillis
        peers[peer] = state
        return [.send(to: peer, hello(linkWire: linkWire))]
    }

    /// The connection to `peer` is gone; whatever was in flight will be resent.
    public mutating func peerDisconnected(_ peer: RegionID, nowMillis: UInt64) -> [EngineDirective] {
        guard peers[peer] != nil else { return [] }
        if snapshotSource?.peer == peer { snapshotSource = nil }
        peers[peer]!.link = .down
        return []
    }

    /// A message from `peer`, already decoded.
    public mutating func receive(_ message: PeerMessage, from peer: RegionID, nowMillis: UInt64) -> [EngineDirective] {
        let stepped = noteWallTime(nowMillis)
        return stepped + take(message, from: peer, nowMillis: nowMillis)
    }

    mutating func take(_ message: PeerMessage, from peer: RegionID, nowMillis: UInt64) -> [EngineDirective] {
        guard var state = peers[peer] else {
            return violation(peer, "message from \(peer), which is not a connected peer")
        }
        switch state.link {
        case .down: return violation(peer, "message from \(peer), which is not a connected peer")
        case .closing: return []
        case .greeting, .up: break
        }
        state.lastContactMillis = nowMillis
        switch message {
        case .hello(let claimed, let theirs, let announcement):
            guard claimed == peer else {
                return violation(peer, "HELLO claims region \(claimed) on the link to \(peer)")
            }
            if let problem = problem(with: theirs, in: "HELLO") { return violation(peer, problem) }
            state.acked = theirs
            state.link = .up(PeerSession(sent: theirs, ownHistoryCap: durableVector[peer]))
            peers[peer] = state
            noteOwnHistory(theirs, from: peer)
            let wireDirectives = noteWire(announcement, from: peer, linkWire: state.linkWire ?? WireVersion.current)
            guard peers[peer]!.session != nil else { return wireDirectives }
            // The first clock readings at once, not a ping interval later: writes may wait for them.
            return wireDirectives + [ping(peer, nowMillis: nowMillis)] + releaseRemoteWrites(nowMillis: nowMillis)
                + pump(peer, nowMillis: nowMillis)
        case .ack(let theirs), .ping(let theirs, _, _, _):
            guard case .up(var session) = state.link else { return violation(peer, "\(message.kind) before HELLO") }
            if let problem = problem(with: theirs, in: "\(message.kind)") { return violation(peer, problem) }
            var theirActive: UInt8 = 0
            if case .ping(_, let sample, let snapshotFrom, let wireActive) = message {
                if let problem = sample.problem { return violation(peer, problem) }
                if let s = snapshotFrom, !isClusterRegion(s) {
                    return violation(peer, "PING names \(s), not a region of this cluster")
                }
                noteClockSample(sample, in: &state, session: &session, nowMillis: nowMillis)
                state.snapshotFrom = snapshotFrom
                theirActive = wireActive
            }
            state.acked.merge(theirs)
            // What the peer holds it need not be sent again (it may have it by relay).
            session.sent.merge(state.acked)
            if case .ack = message { session.releaseInFlight(acked: state.acked, nowMillis: nowMillis) }
            state.link = .up(session)
            peers[peer] = state
            noteOwnClaim(theirs[region])
            // A ping that echoes none of ours is the peer's first on this link: answering it
            // at once gives the peer its first clock reading of us (its answer to ours gives
            // us ours), so neither waits a ping interval to take writes.
            var answer: [EngineDirective] = []
            if case .ping(_, let sample, _, _) = message, sample.sentAtMillis != 0, sample.echoMillis == 0 {
                answer = [ping(peer, nowMillis: nowMillis)]
            }
            // A format another region turned on (after every region announced it).
            let adopted = adoptActive(theirActive)
            guard peers[peer]!.session != nil else { return adopted }
            return adopted + answer + releaseRemoteWrites(nowMillis: nowMillis) + pump(peer, nowMillis: nowMillis)
        case .delta(_, let entries):
            guard state.session != nil else { return violation(peer, "DELTA before HELLO") }
            peers[peer] = state
            return receiveDelta(entries, from: peer, nowMillis: nowMillis)
        case .snapshot(let chunk, let snapshotVector, let part):
            guard state.session != nil else { return violation(peer, "SNAPSHOT before HELLO") }
            peers[peer] = state
            return receiveSnapshot(chunk, vector: snapshotVector, part: part, from: peer, nowMillis: nowMillis)
        case .encodedDelta, .encodedSnapshot:
            // A sender's form: what arrives has been decoded (`PeerMessage.decode`) first.
            return violation(peer, "\(message.kind) handed in undecoded")
        }
    }

    /// Applies the entries that are next in their origin's order; duplicates and entries
    /// after a gap are skipped (the sender resends from what we ack). Every entry to be
    /// applied is checked first (payment rules, bounds, own history): one bad entry
    /// refuses the whole batch and closes the link, with nothing applied. The origin's
    /// later entries then wait for a sender with a valid copy (the origin itself
    /// validated its write when it took it): every honest region refuses the same entry,
    /// so all of them keep the same state. A valid entry stamped further ahead of this
    /// region's clock than the skew bound is held: neither it nor its origin's later
    /// entries are applied or acked, and the sender resends them, until this clock has
    /// caught up. Every region applies it in the end, so all keep the same state.
    mutating func receiveDelta(_ entries: [LogEntry], from peer: RegionID, nowMillis: UInt64) -> [EngineDirective] {
        var next = vector
        var held: Set<RegionID> = []
        for entry in entries where entry.seq == next[entry.origin] &+ 1 && !held.contains(entry.origin) {
            if let problem = problem(with: entry, nowMillis: nowMillis) { return violation(peer, "DELTA: \(problem)") }
            if isAheadOfBound(entry.hlc, nowMillis: nowMillis) {
                held.insert(entry.origin)
                counters.entriesHeldForClock += 1
                continue
            }
            next[entry.origin] = entry.seq
        }
        var applied: [LogEntry] = []
        var conflicts: [ConflictRecord] = []
        for entry in entries where entry.origin == region { noteOwnClaim(entry.seq) }
        for entry in entries {
            let have = vector[entry.origin]
            if entry.seq <= have {
                counters.duplicatesSkipped += 1
            } else if entry.seq != have + 1 || entry.seq > next[entry.origin] {
                // Exactly the entries the first pass checked pass here, in the same order.
                if !held.contains(entry.origin) { counters.gapsSkipped += 1 }
            } else {
                clock.observe(entry.hlc, nowMillis: nowMillis)
                conflicts += apply(entry).conflicts
                applied.append(entry)
            }
        }
        guard !applied.isEmpty else {
            return [.send(to: peer, .ack(vector: durableVector))]
        }
        // An entry with an actor was made after its origin raised the active format: its
        // DELTA can overtake the PING that says so. The raise is committed first.
        var raise: [EngineDirective] = []
        if wire.active < WireVersion.actorSince, applied.contains(where: { $0.actor != nil }) {
            raise = adoptActive(WireVersion.actorSince)
        }
        return raise
            + [.persist(makePersist(entries: applied, conflicts: conflicts, localWrites: [], ackPeer: peer))]
    }

    /// Merges a snapshot chunk's records; the last chunk also brings the vector, and the
    /// log restarts above it. A stream is taken whole or not at all: a chunk after the
    /// first is merged only when this peer's first chunk (part 0) was, so the last
    /// chunk's vector never covers a chunk that was declined. One peer streams at a time:
    /// the first whose part 0 comes is the source until its last chunk, its link drops,
    /// or it sends nothing for two retransmit periods; another's chunks meanwhile are
    /// declined (neither merged nor acknowledged: it starts over later, and by then this
    /// region's PING has told it who serves). A stream that starts over while a window of
    /// chunks (`snapshotWindow`) still waits for its commit is declined too: it starts
    /// over again later, and a source restarting on a slow receiver cannot pile up
    /// copies of the same chunks in its memory.
    mutating func receiveSnapshot(
        _ chunk: [PaymentRecord], vector snapshotVector: VersionVector?, part: UInt64, from peer: RegionID,
        nowMillis: UInt64
    ) -> [EngineDirective] {
        releaseQuietSnapshotSource(nowMillis: nowMillis)
        let taken =
            part == 0
            ? (snapshotSource.map { $0.peer == peer } ?? true)
                && pendingPersists.lazy.filter(\.dropOnCommit).count < config.snapshotWindow
            : (snapshotSource?.peer == peer && peers[peer]!.session!.snapshotAccepted)
        guard taken else {
            setSnapshotAccepted(false, by: peer)
            counters.snapshotChunksDeclined += 1
            return []
        }
        for record in chunk {
            if let problem = problem(with: record, nowMillis: nowMillis) {
                return violation(peer, "SNAPSHOT: \(problem)")
            }
        }
        if let snapshotVector, let problem = problem(with: snapshotVector, in: "SNAPSHOT") {
            return violation(peer, problem)
        }
        // A chunk cannot be merged in part, and the stream cannot skip a chunk (its last
        // one brings the vector): a record stamped beyond the bound declines the rest of
        // this stream. The peer starts over when its retransmit timer fires; by then this
        // clock may have caught up.
        if chunk.contains(where: { record in
            record.presentRegisters.contains { isAheadOfBound($0.register.stamp.time, nowMillis: nowMillis) }
        }) {
            counters.entriesHeldForClock += 1
            setSnapshotAccepted(false, by: peer)
            snapshotSource = nil
            return []
        }
        setSnapshotAccepted(true, by: peer)
        if part == 0 { peers[peer]!.snapshotRecordsMerged = 0 }
        peers[peer]!.snapshotRecordsMerged += UInt64(chunk.count)
        counters.snapshotRecordsReceived += UInt64(chunk.count)
        var conflicts: [ConflictRecord] = []
        var touched: [PaymentRecord] = []
        for incoming in chunk {
            var record = records[incoming.id] ?? PaymentRecord(id: incoming.id)
            for (field, register) in incoming.presentRegisters {
                clock.observe(register.stamp.time, nowMillis: nowMillis)
                if let c = merge(register, into: field, of: &record) { conflicts.append(c) }
            }
            records[incoming.id] = record
            touched.append(record)
        }
        counters.conflictsDetected += UInt64(conflicts.count)
        snapshotSource = snapshotVector == nil ? (peer, nowMillis) : nil
        if snapshotVector != nil { setSnapshotAccepted(false, by: peer) }
        var horizon: VersionVector?
        if let snapshotVector {
            noteOwnClaim(snapshotVector[region])
            vector.merge(snapshotVector)
            horizon = snapshotVector
            counters.snapshotsReceived += 1
        }
        var request = makePersist(
            entries: [], records: touched, conflicts: conflicts, localWrites: [],
            ackPeer: peer, compactThrough: horizon)
        request.snapshotChunk = true
        pendingPersists[pendingPersists.count - 1].dropOnCommit = true
        return [.persist(request)]
    }

    /// Whether the current snapshot stream from `peer` (whose link is up) is being merged.
    mutating func setSnapshotAccepted(_ accepted: Bool, by peer: RegionID) {
        guard case .up(var session) = peers[peer]!.link else { return }
        session.snapshotAccepted = accepted
        peers[peer]!.link = .up(session)
    }

    /// A snapshot source that sent nothing for two retransmit periods is let go: another
    /// peer may serve.
    mutating func releaseQuietSnapshotSource(nowMillis: UInt64) {
        if snapshotSource != nil && activeSnapshotSource(nowMillis: nowMillis) == nil { snapshotSource = nil }
    }

    /// The peer streaming this region a snapshot now: nil when none is, or the one that
    /// did has sent nothing for two retransmit periods.
    func activeSnapshotSource(nowMillis: UInt64) -> RegionID? {
        guard let source = snapshotSource, nowMillis < source.lastChunkMillis + 2 * config.retransmitAfterMillis else {
            return nil
        }
        return source.peer
    }

    mutating func violation(_ peer: RegionID, _ reason: String) -> [EngineDirective] {
        counters.protocolViolations += 1
        return close(peer, reason: reason)
    }

    /// Asks the shell to close the link to `peer`; until it reports the link gone, nothing
    /// more is read from it or sent on it.
    mutating func close(_ peer: RegionID, reason: String) -> [EngineDirective] {
        if let state = peers[peer], state.link.state != .down { peers[peer]!.link = .closing }
        return [.disconnect(peer, reason: reason)]
    }

    /// A peer's HELLO says how many of this region's writes it holds. Only a store
    /// without its own history listens: otherwise the region believes its own store.
    mutating func noteOwnHistory(_ theirs: VersionVector, from peer: RegionID) {
        guard !ownHistoryFrozen else { return }
        noteOwnClaim(theirs[region])
        ownHistorySeen = max(ownHistorySeen, theirs[region])
        ownHistoryAwaited.remove(peer)
        latchOwnHistory()
    }
}
