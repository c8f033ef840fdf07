// MARK: - Pushing entries and snapshots to peers

extension ReplicationEngine {
    /// Pushes to every greeted peer, in region order.
    mutating func pumpAll(nowMillis: UInt64) -> [EngineDirective] {
        var directives: [EngineDirective] = []
        for peer in config.peers.sorted() { directives += pump(peer, nowMillis: nowMillis) }
        return directives
    }

    /// Sends `peer` what it lacks, while its window has room: log entries above what was
    /// sent, relaying every origin; or, when it is behind the log's horizon, a snapshot.
    mutating func pump(_ peer: RegionID, nowMillis: UInt64) -> [EngineDirective] {
        guard peers.withValue(peer, { if case .up = $0.link { true } else { false } }) == true else { return [] }
        // Moved out, not copied, so the session's arrays change in place; nothing below
        // reads the peer through `peers`.
        var state = peers.take(peer)!
        guard case .up(var session) = state.link else { preconditionFailure("link of \(peer) changed") }
        state.link = .down
        defer {
            state.link = .up(session)
            peers[peer] = state
        }
        guard startSnapshotIfBehind(&session, streamedBy: state.snapshotFrom) else { return [] }
        if session.snapshot != nil {
            var directives: [EngineDirective] = []
            streamSnapshot(&session, to: peer, nowMillis: nowMillis, into: &directives)
            return directives
        }
        // Not before the batch delay, and not while older entries are on their way from the store.
        guard batchIsDue(session, unsentSince: &state.unsentSinceMillis, nowMillis: nowMillis),
            session.storeRead == nil
        else { return [] }
        return fillWindow(to: peer, &session, unsentSince: &state.unsentSinceMillis, nowMillis: nowMillis)
    }

    /// A peer behind the log's horizon needs a snapshot: starts one when this region may
    /// be its source (`streamedBy`: the region the peer says streams it one). False: not
    /// now (uncommitted state, from which no snapshot is cut; or another region already
    /// streams the peer one, one source at a time).
    mutating func startSnapshotIfBehind(_ session: inout PeerSession, streamedBy: RegionID?) -> Bool {
        guard session.snapshot == nil && session.inFlight.isEmpty && needsSnapshot(session.sent) else { return true }
        guard pendingPersists.isEmpty else { return false }
        if let other = streamedBy, other != region { return false }
        var progress = PeerState.SnapshotProgress(vector: durableVector)
        if !records.isBounded { progress.ids = records.ids.sortedByID() }
        session.snapshot = progress
        counters.snapshotsStarted += 1
        return true
    }

    /// DELTAs until the window is full or nothing more may go; or a read of the store when
    /// the peer needs entries no longer in memory.
    mutating func fillWindow(
        to peer: RegionID, _ session: inout PeerSession, unsentSince: inout UInt64?, nowMillis: UInt64
    ) -> [EngineDirective] {
        var directives: [EngineDirective] = []
        while session.inFlight.count < config.inFlightBatchesMax {
            if let origin = originToReadFromStore(for: peer, session, nowMillis: nowMillis) {
                directives.append(
                    .readLog(
                        for: peer, read: startStoreRead(&session, nowMillis: nowMillis), origin: origin,
                        after: session.sent[origin], limit: config.batchBudget))
                break
            }
            guard let (batch, upTo) = nextBatch(for: peer, session, nowMillis: nowMillis) else { break }
            unsentSince = nil
            directives.append(sendBatch(batch, upTo: upTo, to: peer, &session, nowMillis: nowMillis))
        }
        return directives
    }

    /// The next DELTA's entries for `peer`, origin by origin in region order, within each
    /// origin's bound (`sendBound`) and the batch's count and bytes (`batchBudget`), and
    /// the vector they bring the peer to. Nil: none.
    func nextBatch(for peer: RegionID, _ session: PeerSession, nowMillis: UInt64) -> (
        entries: [[UInt8]], upTo: VersionVector
    )? {
        var batch: [[UInt8]] = []
        var budget = config.batchBudget
        var upTo = session.sent
        for origin in log.origins where !budget.isFull {
            guard let bound = sendBound(of: origin, to: peer, session, nowMillis: nowMillis),
                bound.seqMax > upTo[origin]
            else { continue }
            let slice = log.encodedEntries(
                of: origin, after: upTo[origin], seqAtMost: bound.seqMax, within: &budget,
                wallMillisAtMost: bound.wallMax == .max ? nil : bound.wallMax)
            if slice.isEmpty { continue }
            batch += slice
            upTo[origin] += UInt64(slice.count)
        }
        return batch.isEmpty ? nil : (batch, upTo)
    }

    /// How far the entries of `origin` may go to `peer` now: the peer's own writes only up
    /// to the last it held at HELLO (those it may have lost with its disk), a third
    /// region's only once `relayDelayMillis` old (the peer normally has them straight from
    /// their origin). Nil: none may go now.
    func sendBound(of origin: RegionID, to peer: RegionID, _ session: PeerSession, nowMillis: UInt64) -> (
        seqMax: UInt64, wallMax: UInt64
    )? {
        if origin == peer { return (session.ownHistoryCap, .max) }
        guard origin != region && config.relayDelayMillis > 0 else { return (.max, .max) }
        guard nowMillis >= config.relayDelayMillis else { return nil }
        return (.max, nowMillis - config.relayDelayMillis)
    }

    /// Sends `batch` (entries up to `upTo`, each in its held encoding) to `peer` as one
    /// DELTA, in flight until acked. (The caller clears the peer's `unsentSinceMillis`.)
    mutating func sendBatch(
        _ batch: [[UInt8]], upTo: VersionVector, to peer: RegionID, _ session: inout PeerSession, nowMillis: UInt64
    ) -> EngineDirective {
        session.sent = upTo
        session.inFlight.append(.init(upTo: upTo, sentAtMillis: nowMillis))
        nextBatchID += 1
        counters.batchesSent += 1
        return .send(to: peer, .encodedDelta(batchID: nextBatchID - 1, entries: batch))
    }

    /// Numbers a store read for `session`'s peer and marks it on its way.
    mutating func startStoreRead(_ session: inout PeerSession, nowMillis: UInt64) -> UInt64 {
        let id = nextStoreRead
        nextStoreRead += 1
        session.storeRead = (id, nowMillis)
        return id
    }

    /// The first origin whose next entry for `peer` is no longer in memory but still in
    /// the store, and may be sent now (`sendBound`; a third region's is judged by the
    /// oldest one in memory, which is younger still). Nil when memory holds what is next.
    func originToReadFromStore(for peer: RegionID, _ session: PeerSession, nowMillis: UInt64) -> RegionID? {
        durableVector.origins.first { origin in
            let next = session.sent[origin] + 1
            guard next <= durableVector[origin], next < log.firstAvailable(origin), next > storeHorizon[origin],
                let bound = sendBound(of: origin, to: peer, session, nowMillis: nowMillis), next <= bound.seqMax
            else { return false }
            return log.wallMillis(of: origin, seq: log.firstAvailable(origin)).map { $0 <= bound.wallMax }
                ?? true
        }
    }

    /// Whether entries for the peer should go now: a full batch is waiting, a client
    /// waits for a peer to store one of them (`remote`), or the oldest unsent entry has
    /// waited `batchDelayMillis` (or there is no delay). `unsentSince`: the peer's
    /// `unsentSinceMillis`, set and cleared here.
    func batchIsDue(_ session: PeerSession, unsentSince: inout UInt64?, nowMillis: UInt64) -> Bool {
        guard config.batchDelayMillis > 0 else { return true }
        var unsent: UInt64 = 0
        for origin in log.origins {
            let have = durableVector[origin]
            if have > session.sent[origin] { unsent += have - session.sent[origin] }
        }
        if unsent == 0 {
            unsentSince = nil
            return false
        }
        if unsent >= UInt64(config.batchEntriesMax) { return true }
        if waitingRemoteHead < waitingRemote.count, let newest = waitingRemote.last, newest.seq > session.sent[region] {
            return true
        }
        guard let since = unsentSince else {
            unsentSince = nowMillis
            return false
        }
        return nowMillis >= since + config.batchDelayMillis
    }

    /// Whether a peer that has `sent` is missing entries the store's log no longer holds.
    func needsSnapshot(_ sent: VersionVector) -> Bool {
        durableVector.origins.contains { origin in
            durableVector[origin] > sent[origin] && sent[origin] < storeHorizon[origin]
        }
    }

    /// Sends snapshot chunks while the window has room; the last one carries the vector.
    /// Chunks are cut only while nothing is uncommitted, so they hold durable state only.
    /// With records in a bounded cache, each chunk is read from the store (committed
    /// state) and sent when the read comes back (`snapshotChunkRead`).
    mutating func streamSnapshot(
        _ session: inout PeerSession, to peer: RegionID, nowMillis: UInt64, into directives: inout [EngineDirective]
    ) {
        guard let progress = session.snapshot else { return }
        if records.isBounded {
            guard session.storeRead == nil && session.inFlight.count < config.snapshotWindow else { return }
            directives.append(
                .readSnapshotChunk(
                    for: peer, read: startStoreRead(&session, nowMillis: nowMillis), after: progress.after,
                    limit: config.chunkBudget))
            return
        }
        while session.snapshot != nil && session.inFlight.count < config.snapshotWindow && pendingPersists.isEmpty {
            let (ids, next) = (session.snapshot!.ids, session.snapshot!.next)
            var (chunk, end, budget) = ([[UInt8]](), next, config.chunkBudget)
            while end < ids.count {
                // A record gone since the stream started is skipped (it is in no chunk).
                guard let bytes = records.encoding(of: ids[end]) else {
                    end += 1
                    continue
                }
                guard budget.take(bytes.count) else { break }
                chunk.append(bytes)
                end += 1
            }
            session.snapshot!.next = end
            directives.append(sendChunk(chunk, last: end == ids.count, to: peer, &session, nowMillis: nowMillis))
        }
    }

    /// Sends the next chunk of `session`'s snapshot to `peer` (records in their held or
    /// stored encoding, in id order), in flight until acked; the last one carries the
    /// vector and ends the stream.
    mutating func sendChunk(
        _ chunk: [[UInt8]], last: Bool, to peer: RegionID, _ session: inout PeerSession, nowMillis: UInt64
    ) -> EngineDirective {
        let progress = session.snapshot!
        session.inFlight.append(.init(upTo: last ? progress.vector : nil, sentAtMillis: nowMillis))
        session.snapshot!.part += 1
        if last {
            session.sent = session.sent.merged(with: progress.vector)
            session.snapshot = nil
            counters.snapshotsCompleted += 1
        }
        return .send(
            to: peer, .encodedSnapshot(records: chunk, vector: last ? progress.vector : nil, part: progress.part))
    }
}
