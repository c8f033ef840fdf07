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
        let ids: [PaymentID] =
            switch message {
            case .delta(_, let entries): entries.map(\.paymentID)
            case .snapshot(let chunk, _, _): chunk.map(\.id)
            case .encodedDelta, .encodedSnapshot: ((try? message.decodedForm()).map(recordsToLoad(for:))) ?? []
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

    /// `admitRecords` with each record decoded beside its encoding (a store in memory
    /// keeps both): nothing is decoded again. Each `record` MUST be what its `bytes` decode to.
    public mutating func admitRecords(decoded found: [EncodedRecord], asked: [PaymentID]) {
        records.admit(decoded: found, asked: asked)
    }

    /// Bytes the record cache holds now (0 when the engine holds every record).
    public var recordCacheBytesHeld: Int { records.bytes }

    /// Records read from the store for a snapshot to `peer` (`readSnapshotChunk`), in the
    /// store's own order, each in its stored encoding, sent as it is (the store checked
    /// that each starts with its row's id; the receiver checks the rest like any peer
    /// input); `position` is where the next read goes on. `more` false (the read ran out
    /// of records before the chunk's count or bytes): the last chunk, which carries the
    /// vector. An answer to a read since abandoned (the link dropped, a retransmit
    /// restarted the stream) is ignored.
    public mutating func snapshotChunkRead(
        _ encoded: [[UInt8]], position: UInt64, more: Bool, for peer: RegionID, read: UInt64, nowMillis: UInt64
    ) -> [EngineDirective] {
        guard var session = answeredStoreRead(read, for: peer), session.snapshot != nil else { return [] }
        session.snapshot!.after = position
        let send = sendChunk(encoded, last: !more, to: peer, &session, nowMillis: nowMillis)
        peers[peer]!.link = .up(session)
        return [send] + pump(peer, nowMillis: nowMillis)
    }

    /// Log entries read from the store for `peer` (`readLog`), in order, each in its stored
    /// encoding, sent as it is (the store checked each header against its row). What
    /// continues the peer's sequence, may go now (`sendBound`) and fits a batch
    /// (`batchBudget`) goes out as one DELTA; an answer to a read since abandoned is ignored.
    public mutating func logEntriesRead(_ encoded: [[UInt8]], for peer: RegionID, read: UInt64, nowMillis: UInt64)
        -> [EngineDirective]
    {
        guard var session = answeredStoreRead(read, for: peer) else { return [] }
        var batch: [[UInt8]] = []
        var budget = config.batchBudget
        var upTo = session.sent
        for bytes in encoded {
            // Sent as stored: only the header is read here (the receiver checks the rest).
            guard let entry = try? EntryHeader(of: bytes) else {
                preconditionFailure("a stored log entry has no header")
            }
            guard entry.seq == upTo[entry.origin] + 1,
                let bound = sendBound(of: entry.origin, to: peer, session, nowMillis: nowMillis),
                entry.seq <= bound.seqMax, entry.hlc.wallMillis <= bound.wallMax, budget.take(bytes.count)
            else { break }
            batch.append(bytes)
            upTo[entry.origin] = entry.seq
        }
        guard !batch.isEmpty else {
            peers[peer]!.link = .up(session)
            return []  // the next tick tries again
        }
        peers[peer]!.unsentSinceMillis = nil
        let send = sendBatch(batch, upTo: upTo, to: peer, &session, nowMillis: nowMillis)
        peers[peer]!.link = .up(session)
        return [send] + pump(peer, nowMillis: nowMillis)
    }

    /// The peer's session with its store read `read` answered, or nil when that read is
    /// no longer the one awaited (or the link is not up).
    func answeredStoreRead(_ read: UInt64, for peer: RegionID) -> PeerSession? {
        guard var session = peers[peer]?.session, session.storeRead?.id == read else { return nil }
        session.storeRead = nil
        return session
    }
}
