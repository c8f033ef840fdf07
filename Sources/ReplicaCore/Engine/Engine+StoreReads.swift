// MARK: - Reads from the store: records before execute, snapshot chunks, older log entries

extension ReplicationEngine {
    /// The records a client write needs that the cache does not hold: the shell loads
    /// them (`admitRecords`) before it calls `submit`. Empty when the engine holds every record.
    public func recordsToLoad(for command: PaymentCommand) -> [PaymentID] {
        records.isResident(command.paymentID) ? [] : [command.paymentID]
    }

    /// The records a peer message needs that the cache does not hold (DELTA entries'
    /// payments, SNAPSHOT records): loaded before `receive`, like a client write's.
    public func recordsToLoad(for message: PeerMessage) -> [PaymentID] {
        guard records.isBounded else { return [] }
        let ids: [PaymentID] = switch message {
        case .delta(_, let entries): entries.map(\.paymentID)
        case .snapshot(let chunk, _, _): chunk.map(\.id)
        case .hello, .ack, .ping: []
        }
        var seen = Set<PaymentID>()
        return ids.filter { !records.isResident($0) && seen.insert($0).inserted }
    }

    /// What the store holds of `asked`, each record in its wire encoding (checked by the
    /// store as it read it); the rest have no record. Records the cache already holds
    /// keep the cache's copy, which may be newer than the store's.
    public mutating func admitRecords(_ found: [[UInt8]], asked: [PaymentID]) {
        records.admit(found, asked: asked)
    }

    /// Bytes the record cache holds now (0 when the engine holds every record).
    public var recordCacheBytes: Int { records.bytes }

    /// Records read from the store for a snapshot to `peer` (`readSnapshotChunk`), in id
    /// order, each in its wire encoding (checked by the store). Fewer than asked: the
    /// last chunk, which carries the vector. An answer for a stream since abandoned (the
    /// link dropped, a retransmit restarted it) is ignored.
    public mutating func snapshotChunkRead(_ encoded: [[UInt8]], for peer: RegionID, stream: UInt64, nowMillis: UInt64) -> [EngineDirective] {
        guard var state = peers[peer], state.connected, state.greeted, !state.closing,
              var progress = state.snapshot, progress.stream == stream, progress.reading else { return [] }
        let chunk = encoded.map(RecordTable.decode)
        progress.reading = false
        state.storeReadSinceMillis = nil
        if let last = chunk.last { progress.after = last.id }
        let isLast = chunk.count < config.snapshotChunkRecords
        state.inFlight.append(.init(upTo: isLast ? progress.vector : nil, sentAtMillis: nowMillis))
        let directives: [EngineDirective] = [.send(to: peer, .snapshot(records: chunk, vector: isLast ? progress.vector : nil,
                                                                        part: progress.part))]
        progress.part += 1
        if isLast {
            state.sent = state.sent.merged(with: progress.vector)
            state.snapshot = nil
            counters.snapshotsCompleted += 1
        } else {
            state.snapshot = progress
        }
        peers[peer] = state
        return directives + pump(peer, nowMillis: nowMillis)
    }

    /// Log entries read from the store for `peer` (`readLog`), in order, each in its wire
    /// encoding (checked by the store). What continues the peer's sequence, and may be
    /// sent (the peer's own only up to what it lost, a third region's once old enough), goes
    /// out as one DELTA; an answer for a read since abandoned is ignored.
    public mutating func logEntriesRead(_ encoded: [[UInt8]], for peer: RegionID, stream: UInt64, nowMillis: UInt64) -> [EngineDirective] {
        guard var state = peers[peer], state.connected, state.greeted, !state.closing, state.logRead == stream else { return [] }
        state.logRead = nil
        state.storeReadSinceMillis = nil
        var batch: [LogEntry] = []
        var upTo = state.sent
        for bytes in encoded {
            let entry = ByteReader.decodeOwn(bytes, "a log entry") { (r: inout ByteReader) throws(DecodingError) in try r.readEntry() }
            guard entry.seq == upTo[entry.origin] + 1 else { break }
            if entry.origin == peer && entry.seq > state.ownHistoryCap { break }
            if entry.origin != region && entry.origin != peer && config.relayDelayMillis > 0
                && entry.hlc.wallMillis + config.relayDelayMillis > nowMillis { break }
            batch.append(entry)
            upTo[entry.origin] = entry.seq
        }
        guard !batch.isEmpty else {
            peers[peer] = state
            return [] // the next tick tries again
        }
        state.unsentSinceMillis = nil
        state.sent = upTo
        state.inFlight.append(.init(upTo: upTo, sentAtMillis: nowMillis))
        peers[peer] = state
        let directives: [EngineDirective] = [.send(to: peer, .delta(batchID: nextBatchID, entries: batch))]
        nextBatchID += 1
        counters.batchesSent += 1
        return directives + pump(peer, nowMillis: nowMillis)
    }
}
