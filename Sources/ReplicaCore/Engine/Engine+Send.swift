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
        guard var state = peers[peer], state.connected, state.greeted else { return [] }
        defer { peers[peer] = state }
        var directives: [EngineDirective] = []
        if state.snapshot == nil && state.inFlight.isEmpty && needsSnapshot(state.sent) {
            guard pendingPersists.isEmpty else { return [] } // cut snapshots only from committed state
            // Another region streams the peer a snapshot: one source at a time.
            if let other = state.snapshotFrom, other != region { return [] }
            var progress = PeerState.SnapshotProgress(vector: durableVector, stream: nextStoreRead)
            nextStoreRead += 1
            if !records.isBounded { progress.ids = records.ids.sortedByID() }
            state.snapshot = progress
            counters.snapshotsStarted += 1
        }
        if state.snapshot != nil {
            streamSnapshot(&state, to: peer, nowMillis: nowMillis, into: &directives)
            return directives
        }
        if !batchIsDue(&state, nowMillis: nowMillis) { return directives }
        if state.logRead != nil { return directives } // older entries are on their way from the store
        while state.inFlight.count < config.inFlightBatchesMax {
            if let origin = originToReadFromStore(for: peer, state, nowMillis: nowMillis) {
                let stream = nextStoreRead
                nextStoreRead += 1
                state.logRead = stream
                state.storeReadSinceMillis = nowMillis
                directives.append(.readLog(for: peer, stream: stream, origin: origin, after: state.sent[origin],
                                           limit: config.batchEntriesMax))
                break
            }
            var batch: [LogEntry] = []
            var upTo = state.sent
            for origin in log.origins where batch.count < config.batchEntriesMax {
                var limit = config.batchEntriesMax - batch.count
                var stampedBy: UInt64?
                if origin == peer {
                    // Only the peer's own writes it may have lost (up to what it had at HELLO).
                    limit = state.ownHistoryCap > upTo[origin] ? min(limit, Int(clamping: state.ownHistoryCap - upTo[origin])) : 0
                } else if origin != region && config.relayDelayMillis > 0 {
                    // A third region's entries only once they are relayDelayMillis old.
                    guard nowMillis >= config.relayDelayMillis else { continue }
                    stampedBy = nowMillis - config.relayDelayMillis
                }
                let slice = limit > 0 ? log.entries(of: origin, after: upTo[origin], limit: limit, wallMillisAtMost: stampedBy) : []
                if let last = slice.last {
                    batch += slice
                    upTo[origin] = last.seq
                }
            }
            guard !batch.isEmpty else { break }
            state.unsentSinceMillis = nil
            state.sent = upTo
            state.inFlight.append(.init(upTo: upTo, sentAtMillis: nowMillis))
            directives.append(.send(to: peer, .delta(batchID: nextBatchID, entries: batch)))
            nextBatchID += 1
            counters.batchesSent += 1
        }
        return directives
    }

    /// The first origin whose next entry for `peer` is no longer in memory but still in
    /// the store, and may be sent now: not the peer's own beyond what it lost, not a third
    /// region's younger than the relay delay (judged by the oldest one in memory, which
    /// is younger still). Nil when memory holds what is next of each.
    func originToReadFromStore(for peer: RegionID, _ state: PeerState, nowMillis: UInt64) -> RegionID? {
        durableVector.origins.first { origin in
            let next = state.sent[origin] + 1
            guard next <= durableVector[origin], next < log.firstAvailable(origin), next > storeHorizon[origin] else { return false }
            if origin == peer { return next <= state.ownHistoryCap }
            if origin != region && config.relayDelayMillis > 0, let oldest = log.entry(of: origin, seq: log.firstAvailable(origin)) {
                return oldest.hlc.wallMillis + config.relayDelayMillis <= nowMillis
            }
            return true
        }
    }

    /// Whether entries for the peer should go now: a full batch is waiting, a client
    /// waits for a peer to store one of them (`remote`), or the oldest unsent entry has
    /// waited `batchDelayMillis` (or there is no delay).
    func batchIsDue(_ state: inout PeerState, nowMillis: UInt64) -> Bool {
        guard config.batchDelayMillis > 0 else { return true }
        var unsent: UInt64 = 0
        for origin in log.origins {
            let have = durableVector[origin]
            if have > state.sent[origin] { unsent += have - state.sent[origin] }
        }
        if unsent == 0 {
            state.unsentSinceMillis = nil
            return false
        }
        if unsent >= UInt64(config.batchEntriesMax) { return true }
        if waitingRemoteHead < waitingRemote.count, let newest = waitingRemote.last, newest.seq > state.sent[region] { return true }
        guard let since = state.unsentSinceMillis else {
            state.unsentSinceMillis = nowMillis
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
        _ state: inout PeerState, to peer: RegionID, nowMillis: UInt64, into directives: inout [EngineDirective]
    ) {
        guard var progress = state.snapshot else { return }
        if records.isBounded {
            guard !progress.reading && state.inFlight.count < config.inFlightBatchesMax else { return }
            progress.reading = true
            state.snapshot = progress
            state.storeReadSinceMillis = nowMillis
            directives.append(.readSnapshotChunk(for: peer, stream: progress.stream, after: progress.after,
                                                 limit: config.snapshotChunkRecords))
            return
        }
        while state.inFlight.count < config.inFlightBatchesMax && pendingPersists.isEmpty {
            let end = min(progress.ids.count, progress.next + config.snapshotChunkRecords)
            let chunk = progress.ids[progress.next..<end].compactMap { records[$0] }
            progress.next = end
            let last = end == progress.ids.count
            state.inFlight.append(.init(upTo: last ? progress.vector : nil, sentAtMillis: nowMillis))
            directives.append(.send(to: peer, .snapshot(records: chunk, vector: last ? progress.vector : nil, part: progress.part)))
            progress.part += 1
            if last {
                state.sent = state.sent.merged(with: progress.vector)
                state.snapshot = nil
                counters.snapshotsCompleted += 1
                return
            }
        }
        state.snapshot = progress
    }
}
