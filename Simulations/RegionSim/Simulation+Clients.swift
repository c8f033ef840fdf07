import ReplicaCore
import ReplicaShell

// MARK: - The client workload, routed by the shared `RegionRouter`

extension Simulation {
    static let requestTimeoutMicros: UInt64 = 1_500_000
    static let sessionRetryMicros: UInt64 = 50_000
    /// A region waits this long for a session to be served before answering 412 (the
    /// node's default `session_wait_ms`).
    static let sessionWaitMillis: UInt64 = 1_000
    static let sessionRetriesMax = 1
    /// A client gives up on an operation after this many attempts (and reports an error).
    static let attemptsMax = 4

    func clientNext(_ c: Int) {
        guard !healing else { return }
        let meanMicros = UInt64(clients.count) * 1_000_000 / max(options.writesPerSecond, 1)
        schedule(.clientNext(client: c), in: max(workRNG.around(meanMicros: meanMicros), 1_000))
        guard !clients[c].busy else { return }
        let kind = nextOperation(c)
        let durability: Durability = workRNG.below(100) < options.remoteDurabilityPercent ? .remote : .local
        let op = ClientOp(id: nextOpID, client: c, kind: kind, durability: durability, startedMicros: now)
        nextOpID += 1
        ops[op.id] = op
        clients[c].busy = true
        sendAttempt(op.id)
    }

    func nextOperation(_ c: Int) -> ClientOp.Kind {
        let client = clients[c]
        let roll = workRNG.below(100)
        if !client.ownedOrder.isEmpty && roll < options.readPercent {
            return .read(workRNG.pick(client.ownedOrder))
        }
        if !client.ownedOrder.isEmpty && roll < options.readPercent + (100 - options.readPercent) / 2 {
            let id = workRNG.pick(client.ownedOrder)
            let current = client.owned[id]!.status
            let nexts = PaymentStatus.allCases.filter { current.canTransition(to: $0) }
            let description = "d\(c)-\(nextOpID)"
            let status = nexts.isEmpty || workRNG.below(4) == 0 ? nil : workRNG.pick(nexts)
            var patch = PaymentPatch(status: status, description: .set(description))
            if options.largePaymentPercent > 0 && workRNG.below(100) < options.largePaymentPercent {
                patch.metadata = .set(Self.largestMetadata)
            }
            return .update(id, patch, owned: true)
        }
        if workRNG.below(100) < options.foreignUpdatePercent {
            let others = clients.indices.filter { $0 != c && !clients[$0].ownedOrder.isEmpty }
            if !others.isEmpty {
                let id = workRNG.pick(clients[workRNG.pick(others)].ownedOrder)
                return .update(
                    id, PaymentPatch(metadata: .set(["by": "client-\(c)", "op": "\(nextOpID)"])), owned: false)
            }
        }
        clients[c].created += 1
        let n = clients[c].created
        var create = CreatePayment(
            merchantID: "m\(c)", orderID: "o\(c)-\(n)", amount: Int64(workRNG.between(1, 100_000_000)),
            currency: workRNG.pick(["USD", "EUR", "JPY"]), method: workRNG.pick([.card, .bankTransfer]),
            paymentKey: "tok_\(c)_\(n)", description: "d\(c)-0")
        if options.largePaymentPercent > 0 && workRNG.below(100) < options.largePaymentPercent {
            create = Self.largest(create)
        }
        return .create(PaymentID.derived(merchantID: create.merchantID, idempotencyKey: "k\(c)-\(n)"), create)
    }

    /// `create` at the largest size the API takes: every text as long as it may be, in
    /// characters of 4 bytes in UTF-8, and as many metadata pairs as allowed. Its own
    /// order id keeps it distinct (the description and metadata are the same everywhere).
    static func largest(_ create: CreatePayment) -> CreatePayment {
        var large = create
        large.description = widest("", PaymentValidation.descriptionLengthMax)
        large.metadata = largestMetadata
        return large
    }

    /// As many metadata pairs as the API takes, each key and value as long as it may be.
    static let largestMetadata = Dictionary(
        uniqueKeysWithValues: (0..<PaymentValidation.metadataPairsMax).map {
            (
                widest("k\($0)", PaymentValidation.metadataKeyLengthMax),
                widest("", PaymentValidation.metadataValueLengthMax)
            )
        })

    /// `prefix` filled to `length` characters with 𝄞 (4 bytes in UTF-8).
    static func widest(_ prefix: String, _ length: Int) -> String {
        prefix + String(repeating: "\u{1D11E}", count: length - prefix.unicodeScalars.count)
    }

    /// Sends the operation's current attempt to the best-ranked region.
    func sendAttempt(_ opID: UInt64) {
        guard var op = ops[opID] else { return }
        let c = op.client
        let target = clients[c].router.preferred(nowMillis: now / 1_000)!
        op.region = regionIDs.firstIndex(of: target)!
        op.sentMicros = now
        ops[opID] = op
        let oneWay = Geography.clientLatencyMillis(home: clients[c].home, target: op.region) * 1_000
        schedule(.requestArrives(op: opID, attempt: op.attempt, region: op.region), in: oneWay)
        if options.duplicateRequestPercent > 0 && workRNG.below(100) < options.duplicateRequestPercent {
            // The same request again, at once: the region may answer either first.
            schedule(
                .requestArrives(op: opID, attempt: op.attempt, region: op.region),
                in: oneWay + workRNG.between(100, 2_000))
        }
        if case .create = op.kind, options.twinCreatePercent > 0, workRNG.below(100) < options.twinCreatePercent {
            // Its twin, at another region: whichever answers first completes the operation.
            let others = memberRegions.filter { $0 != op.region }
            let twin = workRNG.pick(others)
            let twinOneWay = Geography.clientLatencyMillis(home: clients[c].home, target: twin) * 1_000
            schedule(.requestArrives(op: opID, attempt: op.attempt, region: twin), in: twinOneWay)
        }
        schedule(.requestTimeout(op: opID, attempt: op.attempt), in: Self.requestTimeoutMicros)
    }

    /// The request reaches region `r`'s API: the same shell calls the HTTP routes make.
    /// Reads and updates honour the session token (they concern the client's own
    /// earlier writes); a create does not depend on any.
    func requestArrives(op opID: UInt64, attempt: Int, region r: Int) {
        guard let op = ops[opID], !op.done, op.attempt == attempt, let shell = regions[r].shell else { return }
        let token = clients[op.client].sessionToken
        let mustWait = !shell.engine.canServe(sessionToken: token)
        let answer: (ClientReply) -> Void = { [unowned self] reply in
            if mustWait, case .ok = reply { probes.sessionWaitServed = true }
            self.reply(op: opID, attempt: attempt, from: r, reply)
        }
        switch op.kind {
        case .read(let id):
            shell.readPayment(id, sessionToken: token) { result in
                switch result {
                case .success(let payment): answer(.ok(nil, payment, seq: nil))
                case .failure(let error): answer(Self.clientReply(error))
                }
            }
        case .create(let id, let create):
            submit(.create(id, create, idempotent: true), op: op, at: r, answer: answer)
        case .update(let id, let patch, _):
            shell.waitForSession(token) { [unowned self] result in
                switch result {
                case .success: submit(.update(id, patch), op: op, at: r, answer: answer)
                case .failure(let error): answer(Self.clientReply(error))
                }
            }
        }
    }

    func submit(_ command: PaymentCommand, op: ClientOp, at r: Int, answer: @escaping (ClientReply) -> Void) {
        guard let shell = regions[r].shell else { return }
        if let traced = options.tracePayment, command.paymentID.rawValue == traced {
            print(
                "[\(now / 1_000) ms] client \(op.client) op \(op.id)#\(op.attempt) at \(regionIDs[r]) wall \(wallMillis(r)): \(command)"
                    + " record \(shell.engine.record(command.paymentID).map { "\($0[.description]?.stamp.description ?? "-")" } ?? "none")"
            )
        }
        // The active format only rises: taken at 4, the write records its actor; still at 3
        // when acknowledged, it records none.
        let activeAtSubmit = shell.engine.wireActive
        shell.submit(command, actor: Self.actor(of: op.client), durability: op.durability) {
            [unowned shell] result in
            switch result {
            case .success(let ack):
                let wire = WireWindow(atSubmit: activeAtSubmit, atAck: shell.engine.wireActive)
                answer(.ok(ack, ack.payment, seq: ack.seq, wire: wire))
            case .failure(let error): answer(Self.clientReply(error))
            }
        }
    }

    /// The actor a client writes as: the id of its API key, as a node would record it.
    static func actor(of client: Int) -> String { "client-\(client)" }

    /// What a client sees of a region's error (the HTTP status it would get).
    static func clientReply(_ error: NodeError) -> ClientReply {
        switch error {
        case .rejected(let e): .rejected(e)
        case .sessionNotAvailable: .sessionNotAvailable
        case .unavailable, .eventCursorTooOld, .historyTruncated: .unavailable
        }
    }

    func reply(op opID: UInt64, attempt: Int, from r: Int, _ reply: ClientReply) {
        guard let op = ops[opID] else { return }
        if case .create(let id, _) = op.kind, case .ok(_, let payment?, _, _) = reply {
            // Answered 201 (or a replay's 200): what it shows is acknowledged, whichever
            // answer the client reads first.
            ackedCreations[id, default: []].insert(payment.createdAtMillis)
        }
        let oneWay = Geography.clientLatencyMillis(home: clients[op.client].home, target: r) * 1_000
        schedule(
            .replyArrives(op: opID, attempt: attempt, reply: reply, region: r, epoch: regions[r].storageEpoch),
            in: oneWay)
    }

    func replyArrives(op opID: UInt64, attempt: Int, reply: ClientReply, from r: Int, epoch: Int) {
        guard var op = ops[opID], !op.done, op.attempt == attempt else { return }
        if r != op.region {
            // A twin's answer: a success completes the operation there; a refusal is
            // dropped (the first try may still succeed).
            guard case .ok = reply else { return }
            op.region = r
        }
        let c = op.client
        switch reply {
        case .sessionNotAvailable:
            op.sessionRetries += 1
            stats.sessionWaits += 1
            ops[opID] = op
            if op.sessionRetries > Self.sessionRetriesMax {
                failAttempt(opID, benchRegion: true)
            } else {
                let oneWay = Geography.clientLatencyMillis(home: clients[c].home, target: op.region) * 1_000
                schedule(
                    .requestArrives(op: opID, attempt: attempt, region: op.region), in: Self.sessionRetryMicros + oneWay
                )
            }
            return
        case .rejected(let error)
        where error.code == .regionRecovering || error.code == .clockOutOfBound || error.code == .clockUnverified
            || error.code == .regionRetiring:
            if error.code == .clockOutOfBound {
                stats.clockRefusals += 1
                probes.clockFenced = true
            }
            if error.code == .clockUnverified { stats.clockUnverifiedRefusals += 1 }
            failAttempt(opID, benchRegion: true, refused: true)
            return
        case .unavailable:
            stats.unavailable += 1
            failAttempt(opID, benchRegion: true, refused: true)
            return
        case .rejected(let error):
            stats.rejections += 1
            if case .update(let id, _, true) = op.kind, !clients[c].tainted.contains(id) {
                suspect(
                    id,
                    SimViolation(
                        kind: .safety,
                        message:
                            "owner's update of \(id) refused at \(regionIDs[op.region]): \(error)"))
            }
        case .ok(let ack, let payment, let seq, let wire):
            if let ack {
                clients[c].sessionToken.merge(ack.sessionToken)
                if let seq, let wire {
                    acked.append(
                        AckedWrite(
                            region: op.region, epoch: epoch, seq: seq,
                            achieved: ack.achieved, ackMicros: now, paymentID: ack.payment.id,
                            actor: Self.actor(of: c), wire: wire))
                }
                if ack.achieved == .remote { stats.remoteAcks += 1 } else { stats.localAcks += 1 }
                if let joined = regions[op.region].joinedAtMicros { noteJoinedRegionWrite(since: joined) }
            }
            noteSuccess(c, op: op, payment: payment)
        }
        clients[c].router.recordSuccess(regionIDs[op.region], latencyMicros: max(now - op.sentMicros, 1))
        op.done = true
        ops[opID] = op
        clients[c].busy = false
        if op.region != clients[c].home { probes.failover = true }
        for i in outages.indices
        where outages[i].affectedClients.contains(c) && outages[i].recoveredMicros[c] == nil
            && now > outages[i].startMicros
        {
            outages[i].recoveredMicros[c] = now
        }
    }

    /// Updates the client's model after a success and checks read-your-writes.
    func noteSuccess(_ c: Int, op: ClientOp, payment: Payment?) {
        switch op.kind {
        case .create(let id, let create):
            if clients[c].owned[id] == nil {
                clients[c].owned[id] = (.pending, create.description ?? "")
                clients[c].ownedOrder.append(id)
            }
        case .update(let id, let patch, true):
            // The client's model is what it asked for, not what the region echoed.
            guard let before = clients[c].owned[id] else { return }
            var description = before.description
            if case .set(let d)? = patch.description { description = d }
            clients[c].owned[id] = (patch.status ?? before.status, description)
        case .update:
            break
        case .read(let id):
            stats.reads += 1
            guard let mine = clients[c].owned[id], !clients[c].tainted.contains(id) else { return }
            guard let payment else {
                suspect(
                    id,
                    SimViolation(
                        kind: .safety, message: "session read of \(id) at \(regionIDs[op.region]) found nothing"))
                return
            }
            if let (seen, wrote) = Self.differs(payment, from: mine) {
                suspect(
                    id,
                    SimViolation(
                        kind: .safety,
                        message:
                            "session read of \(id) at \(regionIDs[op.region]) returned \(seen), older than the client's own write \(wrote)"
                    ))
            }
        }
    }

    /// A violation about a payment, judged at the end: when an acknowledged `local`
    /// write to it was lost with its region (or a wiped data folder), its owner's view
    /// is stale by design (that is the RPO), and it is not counted.
    func suspect(_ id: PaymentID, _ violation: SimViolation) {
        suspectViolations.append((id, violation))
    }

    func requestTimedOut(op opID: UInt64, attempt: Int) {
        guard let op = ops[opID], !op.done, op.attempt == attempt else { return }
        failAttempt(opID, benchRegion: true)
    }

    /// The attempt failed: bench the region, taint what may have landed, try again.
    /// `refused`: the region answered 503 (up, refusing for now), as `PaymentsClient` tells apart.
    func failAttempt(_ opID: UInt64, benchRegion: Bool, refused: Bool = false) {
        guard var op = ops[opID] else { return }
        let c = op.client
        if benchRegion && refused {
            clients[c].router.recordRefusal(regionIDs[op.region], nowMillis: now / 1_000)
        } else if benchRegion {
            clients[c].router.recordFailure(regionIDs[op.region], nowMillis: now / 1_000)
        }
        if case .update(let id, _, true) = op.kind { clients[c].tainted.insert(id) }
        stats.retries += 1
        op.attempt += 1
        op.sessionRetries = 0
        if op.attempt >= Self.attemptsMax {
            // Give up: the user sees an error. If the session waits on writes that only a
            // lost region had, no region will ever serve it: start a new session.
            op.done = true
            ops[opID] = op
            clients[c].busy = false
            stats.operationsAbandoned += 1
            clients[c].sessionToken = VersionVector()
            for id in clients[c].ownedOrder { clients[c].tainted.insert(id) }
            return
        }
        ops[opID] = op
        sendAttempt(opID)
    }
}
