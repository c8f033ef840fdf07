// MARK: - Client writes

extension ReplicationEngine {
    /// A client's create or patch, by `actor` (the API key's id, carried in the log entry;
    /// the engine never decides on it), at wall time `nowMillis`.
    ///
    /// Validation happens first: a refused write changes nothing. An accepted one is
    /// applied in memory and handed to the shell to persist; the client's answer comes
    /// later as an `.acknowledge(ticket, …)` directive, once the write is durable at
    /// the requested level.
    public mutating func submit(
        _ command: PaymentCommand, actor: String? = nil, ticket: WriteTicket, durability: Durability,
        nowMillis: UInt64
    ) -> (result: SubmitResult, directives: [EngineDirective]) {
        let pings = noteWallTime(nowMillis)
        let (result, directives) = decideAndWrite(
            command, actor: actor, ticket: ticket, durability: durability, nowMillis: nowMillis)
        return (result, pings + directives)
    }

    mutating func decideAndWrite(
        _ command: PaymentCommand, actor: String?, ticket: WriteTicket, durability: Durability, nowMillis: UInt64
    ) -> (result: SubmitResult, directives: [EngineDirective]) {
        latchOwnHistory()
        if retiring {
            counters.writesRefusedForRetirement += 1
            return (
                .rejected(
                    PaymentError(
                        .regionRetiring,
                        "\(region) is being retired from the cluster and takes no writes: use another region")), []
            )
        }
        if let why = ownHistoryMissing {
            return (.rejected(PaymentError(.regionRecovering, why)), [])
        }
        switch decide(command, durability: durability) {
        case .refuse(let error):
            return (.rejected(error), [])
        case .answer(let ack):
            return answerWhenDurable(ack, ticket: ticket, nowMillis: nowMillis)
        case .write(let id, let changes):
            switch clockStanding(nowMillis: nowMillis) {
            case .vouched, .unverified: break
            case .outOfBound(let why):
                counters.writesRefusedForClock += 1
                return (.rejected(PaymentError(.clockOutOfBound, why)), [])
            case .awaitingReadings(let why):
                counters.writesRefusedForClockReadings += 1
                return (.rejected(PaymentError(.clockUnverified, why)), [])
            }
            return write(
                changes, to: id, command: command, actor: actor, ticket: ticket, durability: durability,
                nowMillis: nowMillis)
        }
    }

    /// What a client's command comes to against the records held.
    enum WriteDecision {
        /// Invalid, or not allowed now: nothing changes.
        case refuse(PaymentError)
        /// Nothing to write (an identical replay, a patch that changes nothing): answered
        /// with the payment as it is, once what it shows is durable.
        case answer(WriteAck)
        /// These fields of this payment change.
        case write(PaymentID, [(PaymentField, FieldValue)])
    }

    func decide(_ command: PaymentCommand, durability: Durability) -> WriteDecision {
        let id = command.paymentID
        switch PaymentWriteRule.decide(command, existing: records[id], region: region) {
        case .refuse(let error):
            return .refuse(error)
        case .unchanged(let payment, let replayed):
            return .answer(WriteAck(payment: payment, sessionToken: vector, achieved: durability, replayed: replayed))
        case .write(let changes):
            return .write(id, changes)
        }
    }

    /// Makes the log entry of `changes` (stamped above the record's newest stamp, next
    /// seq of this region), applies it, and hands it to the shell to persist.
    mutating func write(
        _ changes: [(PaymentField, FieldValue)], to id: PaymentID, command: PaymentCommand, actor: String?,
        ticket: WriteTicket, durability: Durability, nowMillis: UInt64
    ) -> (SubmitResult, [EngineDirective]) {
        let record = records[id] ?? PaymentRecord(id: id)
        let hlc = clock.stamp(after: record.maxStamp?.time ?? .zero, nowMillis: nowMillis)
        let seq = vector[region] + 1
        let entry = LogEntry(
            origin: region, seq: seq, hlc: hlc, paymentID: id,
            changes: changes.sorted { $0.0 < $1.0 }.map { field, value in
                let replaced = record[field]
                let depth = replaced.map { $0.depth == .max ? $0.depth : $0.depth + 1 } ?? 1
                return FieldChange(field: field, value: value, base: replaced?.stamp, depth: depth)
            },
            // Only once the cluster has turned on the format that carries it (every
            // region's binary speaks it): until then no region records one.
            actor: wire.active >= WireVersion.actorSince ? actor : nil)
        let (conflicts, merged) = apply(entry)
        guard let payment = Payment(merged) else {
            preconditionFailure("payment \(id) incomplete right after a local \(command)")
        }
        let ack = WriteAck(payment: payment, sessionToken: vector, achieved: durability, replayed: false, seq: seq)
        let write = LocalWrite(ticket: ticket, seq: seq, durability: durability, ack: ack)
        let request = makePersist(
            entries: [entry], records: [merged], conflicts: conflicts, localWrites: [write], ackPeer: nil)
        return (.pending(seq: seq), [.persist(request)])
    }
}

// MARK: - Answers that write nothing

extension ReplicationEngine {
    /// An identical replay or a patch that changes nothing writes nothing, but what it
    /// shows may not be durable yet (the first attempt may still be in the group commit).
    /// It is answered once everything applied so far is committed; for `remote`, once a
    /// peer also holds every write of this region so far (else, after the timeout, as
    /// `local`), as a new write would be.
    mutating func answerWhenDurable(_ ack: WriteAck, ticket: WriteTicket, nowMillis: UInt64) -> (
        SubmitResult, [EngineDirective]
    ) {
        let write = LocalWrite(ticket: ticket, seq: vector[region], durability: ack.achieved, ack: ack)
        if !pendingPersists.isEmpty {
            pendingPersists[pendingPersists.count - 1].localWrites.append(write)
            return (.pending(seq: nil), [])
        }
        if ack.achieved == .local || write.seq <= storedElsewhere { return (.answered(ack), []) }
        waitingRemote.append(
            RemoteWait(
                ticket: ticket, seq: write.seq, deadlineMillis: nowMillis + config.remoteAckTimeoutMillis, ack: ack))
        return (.pending(seq: nil), [])
    }
}

// MARK: - Applying entries (local and remote share this path)

extension ReplicationEngine {
    /// Merges one entry into its record and advances the vector. The entry MUST be the
    /// next of its origin. Returns the conflicts its merge found and the merged record.
    mutating func apply(_ entry: LogEntry) -> (conflicts: [ConflictRecord], record: PaymentRecord) {
        precondition(
            entry.seq == vector[entry.origin] + 1,
            "applying \(entry.origin):\(entry.seq) out of order (vector has \(vector[entry.origin]))")
        var record = records[entry.paymentID] ?? PaymentRecord(id: entry.paymentID)
        var conflicts: [ConflictRecord] = []
        for change in entry.changes {
            if let c = merge(entry.register(for: change), into: change.field, of: &record) { conflicts.append(c) }
        }
        records[entry.paymentID] = record
        vector[entry.origin] = entry.seq
        counters.entriesApplied += 1
        counters.conflictsDetected += UInt64(conflicts.count)
        return (conflicts, record)
    }

    /// Merges one register, returning the conflict it revealed, if any.
    mutating func merge(_ register: FieldRegister, into field: PaymentField, of record: inout PaymentRecord)
        -> ConflictRecord?
    {
        guard let c = record.merge(register, into: field).conflict else { return nil }
        return ConflictRecord(
            paymentID: record.id, field: field, winner: c.winner, loser: c.loser, detectedAt: clock.last)
    }

    /// Registers a persist request and returns it for the shell.
    mutating func makePersist(
        entries: [LogEntry], records touched: [PaymentRecord]? = nil, conflicts: [ConflictRecord],
        localWrites: [LocalWrite], ackPeer: RegionID?, compactThrough: VersionVector? = nil
    ) -> PersistRequest {
        latchOwnHistory()
        let id = nextPersistID
        nextPersistID += 1
        // Each record once, as the cache now holds it: its encoding there is what the
        // store writes (nothing is encoded twice).
        var ids: [PaymentID] = []
        var seen = Set<PaymentID>()
        for pid in touched?.map(\.id) ?? entries.map(\.paymentID) where seen.insert(pid).inserted { ids.append(pid) }
        var given: [PaymentID: PaymentRecord] = [:]
        for r in touched ?? [] { given[r.id] = r }
        let recordsToStore = ids.map { pid in
            EncodedRecord(given[pid] ?? records[pid]!, bytes: records.encoding(of: pid)!)
        }
        let encodedEntries = entries.map(EncodedEntry.init)
        records.pin(ids)
        pendingPersists.append(
            PendingPersist(
                id: id, vector: vector, entries: encodedEntries, localWrites: localWrites,
                ackPeer: ackPeer, compactThrough: compactThrough, pinned: ids))
        var request = PersistRequest(
            id: id, entries: encodedEntries, records: recordsToStore, conflicts: conflicts, vector: vector,
            clockHighWater: clock.last, compactThrough: compactThrough, ownHistoryComplete: ownHistoryComplete)
        request.wire = takeUnrecordedWire()
        request.membership = takeUnrecordedMembership()
        return request
    }
}
