import ReplicaCore
import ReplicaShell

// MARK: - Convergence, durability, RPO, RTO and payment rules, checked once the world has healed

extension Simulation {
    func finish() -> SimResult {
        let live = liveRegions.filter { regions[$0].up }
        var digests: [String] = []
        if convergedAtMicros != nil {
            digests = live.map { (try? regions[$0].store.stateDigest()) ?? "unreadable" }
            if Set(digests).count > 1 {
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "converged vectors but different states: "
                            + zip(live, digests).map { "\(regionIDs[$0.0])=\($0.1.prefix(12))" }.joined(separator: " "))
                )
            }
        }
        let (lostCount, window, lostPayments) = checkDurability(live: live)
        checkPaymentRules(live: live, lostPayments: lostPayments)
        checkAcknowledgedCreations(live: live)
        checkRecordCacheBookkeeping(live: live)
        checkWireExpectation(live: live)
        if options.expectUnsyncedChunksLost && stats.unsyncedGroupsLost == 0 {
            violations.append(
                SimViolation(
                    kind: .liveness,
                    message:
                        "no power loss took back snapshot chunks committed without their fsync: the scenario did not test what it says"
                ))
        }
        checkRetirements(live: live)
        if convergedAtMicros != nil {
            checkFeed(live: live)
            checkHistories(live: live, lostPayments: lostPayments)
        }
        violations += suspectViolations.filter { !lostPayments.contains($0.0) }.map(\.1)
        let outageResults = outages.map { o -> OutageResult in
            let times = o.affectedClients.compactMap { o.recoveredMicros[$0] }.map { $0 - o.startMicros }
            let rto = times.max().map { $0 / 1_000 }
            if let rto, rto > options.rtoBudgetMillis {
                violations.append(
                    SimViolation(
                        kind: .liveness,
                        message:
                            "RTO of the outage of \(regionIDs[o.region]) at \(o.startMicros / 1_000) ms was \(rto) ms, budget \(options.rtoBudgetMillis) ms"
                    ))
            }
            return OutageResult(
                region: regionIDs[o.region].name, startMillis: o.startMicros / 1_000, permanent: o.permanent,
                affectedClients: o.affectedClients.count, rtoMillis: rto)
        }
        for r in regions.indices { trace.mix(regions[r].shell?.engine.durableVector.total ?? 0) }
        var result = SimResult(
            seed: seed, options: options, regions: regionIDs.map(\.name), traceHash: trace.hex, violations: violations,
            probes: probes, stats: stats, simulatedMillis: now / 1_000, events: eventsProcessed,
            writesAcked: acked.count,
            lastAckMillis: regions.indices.map { r in acked.last { $0.region == r }.map { $0.ackMicros / 1_000 } },
            rpoLostWrites: lostCount, rpoWindowMillis: window, outages: outageResults,
            convergedAfterHealMillis: convergedAtMicros.flatMap { c in healedAtMicros.map { (c - $0) / 1_000 } },
            digests: digests, samples: samples, timeline: timeline)
        result.clocks = regions.map { ($0.clockOffsetMicros / 1_000, $0.driftPPM) }
        return result
    }

    /// No acknowledged write is lost, except `local` writes of a lost or wiped region:
    /// those are the RPO, held against the budget. Returns the payments such lost
    /// writes touched (their owners' last writes may be gone with them).
    func checkDurability(live: [Int]) -> (lost: Int, windowMillis: UInt64, payments: Set<PaymentID>) {
        guard let reference = live.first.map({ regions[$0].engine.durableVector }) else { return (0, 0, []) }
        /// Lost writes by the event that lost them: (region, when).
        var lostByEvent: [LossEvent: [AckedWrite]] = [:]
        var lostPayments = Set<PaymentID>()
        for w in acked {
            let wiped = wipes.first { $0.region == w.region && $0.epoch >= w.epoch }
            let survived =
                wiped.map { w.seq <= ($0.survivedThrough ?? $0.peersHeld) } ?? (reference[regionIDs[w.region]] >= w.seq)
            guard !survived else { continue }
            lostPayments.insert(w.paymentID)
            if let at = wiped?.atMicros ?? (regions[w.region].lost ? lossTimes[w.region] : nil), w.achieved == .local {
                lostByEvent[LossEvent(region: w.region, atMicros: at), default: []].append(w)
            } else {
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "write \(regionIDs[w.region]):\(w.seq) (\(w.paymentID)) acknowledged as \(w.achieved.rawValue) at \(w.ackMicros / 1_000) ms is lost"
                            + (regions[w.region].lost
                                ? " with its region" : wiped != nil ? " with its wiped data folder" : "")))
            }
        }
        var total = 0
        var windowMax: UInt64 = 0
        for event in lostByEvent.keys.sorted() {
            let writes = lostByEvent[event]!
            let r = event.region
            // An answer may reach its client after the loss (it was on its way).
            let window = (event.atMicros - min(event.atMicros, writes.map(\.ackMicros).min()!)) / 1_000
            total += writes.count
            windowMax = max(windowMax, window)
            // The budget grows by the time the region could not replicate (down, or cut off
            // from every peer) between the first lost acknowledgement and the loss.
            let firstAck = min(event.atMicros, writes.map(\.ackMicros).min()!)
            let isolated = cutOffMicros(r, from: firstAck, to: event.atMicros)
            let allowed = options.rpoBudgetMillis + isolated / 1_000
            if window > allowed {
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "RPO: \(writes.count) local writes lost with \(regionIDs[r]) at \(event.atMicros / 1_000) ms span \(window) ms, budget \(allowed) ms"
                            + " (\(options.rpoBudgetMillis) ms + \(isolated / 1_000) ms down or cut off from every peer)"
                    ))
            }
            if let budget = options.rpoBudgetWrites, UInt64(writes.count) > budget {
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "RPO: \(writes.count) local writes lost with \(regionIDs[r]), budget \(budget)"))
            }
        }
        return (total, windowMax, lostPayments)
    }

    /// One payment per idempotency key; statuses reachable; the owner's last
    /// acknowledged status and description survive (the clock check: no acked update is
    /// overwritten by an older one, whatever the clocks said).
    func checkPaymentRules(live: [Int], lostPayments: Set<PaymentID>) {
        guard let r = live.first, convergedAtMicros != nil else { return }
        let store = regions[r].store!
        var orders = Set<String>()
        for id in store.committed.records.keys.sortedByID() {
            guard let p = Payment(store.committed.records[id]!.record) else { continue }
            if !orders.insert("\(p.merchantID)/\(p.orderID)").inserted {
                violations.append(
                    SimViolation(kind: .safety, message: "two payments for order \(p.merchantID)/\(p.orderID)"))
            }
        }
        for client in clients {
            for id in client.ownedOrder where !client.tainted.contains(id) && !lostPayments.contains(id) {
                let mine = client.owned[id]!
                guard let p = store.payment(id) else {
                    violations.append(
                        SimViolation(
                            kind: .safety, message: "payment \(id) acknowledged to client \(client.index) is missing"))
                    continue
                }
                if let (seen, wrote) = Self.differs(p, from: mine) {
                    violations.append(
                        SimViolation(
                            kind: .safety,
                            message:
                                "payment \(id): converged to \(seen) but its owner's last acknowledged write set \(wrote)"
                        ))
                }
            }
        }
    }
}

/// A region lost for good, or its data folder wiped, at an instant.
struct LossEvent: Hashable, Comparable {
    let region: Int
    let atMicros: UInt64
    static func < (a: LossEvent, b: LossEvent) -> Bool { (a.atMicros, a.region) < (b.atMicros, b.region) }
}

extension Simulation {
    /// When `p` does not show the owner's last acknowledged status and description: both,
    /// as `status/description` texts.
    static func differs(_ p: Payment, from mine: (status: PaymentStatus, description: String)) -> (String, String)? {
        guard p.status != mine.status || (p.description ?? "") != mine.description else { return nil }
        return ("\(p.status.rawValue)/\(p.description ?? "")", "\(mine.status.rawValue)/\(mine.description)")
    }
}

// MARK: - Clocks

extension Simulation {
    /// A region never stores a peer's entry stamped further ahead of its own clock than
    /// the skew bound (it holds it until its clock catches up), so `updated_at` never
    /// reads further ahead than that on a clock in bound.
    func checkPeerStamps(_ request: PersistRequest, at r: Int) {
        let trueNow = (Self.epochMicros + now) / 1_000
        for write in request.entries.map(\.entry) where write.origin == regionIDs[r] && write.seq > 0 {
            trueWriteMillis[write.stamp] = trueNow
        }
        let limit = wallMillis(r) + engineConfig(r).maxClockSkewMillis
        for entry in request.entries.map(\.entry) where entry.origin != regionIDs[r] && entry.hlc.wallMillis > limit {
            violations.append(
                SimViolation(
                    kind: .safety,
                    message:
                        "\(regionIDs[r]) stored \(entry.origin):\(entry.seq) stamped \(entry.hlc.wallMillis - limit) ms beyond its clock plus the bound"
                ))
        }
    }
}

extension Simulation {
    /// A create a region acknowledged keeps what it showed (`created_at` and every field
    /// of the create, which share one stamp), unless a twin with the same key written
    /// within the skew bound replaces it: no value stamped by a clock further ahead of
    /// true time than `max_clock_skew_ms` may replace what a client was told.
    func checkAcknowledgedCreations(live: [Int]) {
        guard let r = live.first, convergedAtMicros != nil else { return }
        let store = regions[r].store!
        for id in ackedCreations.keys.sortedByID() {
            guard let record = store.committed.records[id]?.record, let merchant = record[.merchantID],
                let payment = Payment(record)
            else { continue }
            let told = ackedCreations[id]!.subtracting([payment.createdAtMillis])
            guard let first = told.min(), let written = trueWriteMillis[merchant.stamp] else { continue }
            let bound = engineConfig(r).maxClockSkewMillis
            let stamped = merchant.stamp.time.wallMillis
            if stamped > written + bound {
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "payment \(id): created_at \(first) was acknowledged, but a twin create at "
                            + "\(merchant.stamp.region) stamped \(stamped - written) ms ahead of true time (bound \(bound) ms) "
                            + "replaced it"))
            }
        }
    }
}

// MARK: - Memory a peer controls

extension Simulation {
    /// The record cache keeps beside its records only what its own size bounds: an order
    /// that grew by an id for every record ever stored kept a million ids in a region
    /// that had caught up a million payments.
    func checkRecordCacheBookkeeping(live: [Int]) {
        for r in live where !regions[r].engine.recordCacheBookkeepingIsBounded {
            violations.append(
                SimViolation(
                    kind: .liveness,
                    message:
                        "\(regionIDs[r])'s record cache keeps bookkeeping beyond what it holds (it grows with every record)"
                ))
        }
    }

    /// A region catching up holds the snapshot chunks waiting for its commit in memory:
    /// never more than two windows of them (the source's window, and the one before
    /// whose commit is under way), however slow its disk and however often the source
    /// starts over.
    func checkSnapshotBacklog(_ waiting: Int, at r: Int) {
        let bound = 2 * engineConfig(r).snapshotWindow
        guard waiting > bound else { return }
        // Reported once per region: the backlog stays over the bound for a while.
        let report = "\(regionIDs[r]) held more snapshot chunks waiting for its commit than two windows"
        guard !violations.contains(where: { $0.message.hasPrefix(report) }) else { return }
        violations.append(SimViolation(kind: .liveness, message: "\(report) of the source's (\(waiting) > \(bound))"))
    }
}
