import ReplicaCore
import ReplicaShell

// MARK: - The simulated world's implementations of the shell's ports

/// The shell every simulated region runs: the node's own, over simulated parts.
typealias SimShell = ReplicaShell<SimStore, SimBus, SimClock>

/// One region's simulated disk. What `committed` holds survives a crash; requests
/// handed in wait for the next group commit (an fsync a little later), where the
/// disk's faults strike: a full disk (the group rolls back), a failed fsync (the group
/// may or may not land), a power loss before the fsync (the group is lost, with the
/// groups committed without an fsync since the last one).
final class SimStore: ShellStore {
    unowned let world: Simulation
    let region: Int
    /// What is on disk.
    var committed = InMemoryStorage()
    /// What was on disk at the last fsync, while groups have committed without one since
    /// (snapshot chunks before the last: `PersistRequest.durableLater`, as the node's
    /// store commits them); nil when everything committed is fsynced. A power loss
    /// takes `committed` back to it.
    var synced: InMemoryStorage?
    /// Handed in, not yet fsynced.
    var queued: [(request: PersistRequest, completion: (StoreOutcome) -> Void)] = []
    var commitScheduled = false
    /// After a failed group: refuse everything until a probe succeeds (the node's committer does this).
    var refusing: String?
    /// The disk is full until then.
    var fullUntilMicros: UInt64 = 0
    /// The next group's fsync fails.
    var fsyncFailureArmed = false
    /// Commits take this much longer until then.
    var slowUntilMicros: UInt64 = 0
    var slowExtraMicros: UInt64 = 0

    init(world: Simulation, region: Int) {
        self.world = world
        self.region = region
    }

    func commit(_ request: PersistRequest, completion: @escaping (StoreOutcome) -> Void) {
        world.checkPeerStamps(request, at: region)
        queued.append((request, completion))
        if request.snapshotChunk {
            world.checkSnapshotBacklog(queued.lazy.filter(\.request.snapshotChunk).count, at: region)
        }
        guard !commitScheduled else { return }
        commitScheduled = true
        let slow = world.now < slowUntilMicros ? slowExtraMicros : 0
        world.later(region, inMicros: world.netRNG.between(500, 3_000) + slow) { [unowned self] in self.commitQueued() }
    }

    /// One group commit of everything queued.
    func commitQueued() {
        commitScheduled = false
        let group = queued
        queued = []
        guard !group.isEmpty else { return }
        let outcome: StoreOutcome
        if let reason = refusing {
            outcome = .rolledBack(reason)
        } else if world.now < fullUntilMicros {
            refusing = "disk full"
            outcome = .rolledBack("disk full")
            world.probes.diskFullRefused = true
        } else if fsyncFailureArmed {
            fsyncFailureArmed = false
            refusing = "fsync failed"
            // What a failed fsync leaves on disk is unknown: the group may have landed.
            if world.faultRNG.below(2) == 0 { committed.commit(group.map { onDisk($0.request) }) }
            outcome = .uncertain("fsync failed")
        } else if world.options.crashBeforeFsyncPerMillion > 0
            && world.faultRNG.chance(perMillion: world.options.crashBeforeFsyncPerMillion)
            && !world.healing && !world.anotherRegionOut(region)
        {
            // The machine loses power between the write and the fsync: the group is lost,
            // and so are the groups committed without an fsync since the last one.
            queued = group
            if let synced {
                committed = synced
                self.synced = nil
                world.stats.unsyncedGroupsLost += 1
            }
            world.probes.crashBeforeFsync = true
            world.apply(.crash(region, downMicros: world.faultRNG.between(500_000, 3_000_000)))
            return
        } else {
            if !group.allSatisfy(\.request.durableLater) {
                synced = nil
            } else if synced == nil {
                synced = committed
            }
            committed.commit(group.map { onDisk($0.request) })
            world.stats.commitGroups += 1
            outcome = .committed
        }
        for item in group { item.completion(outcome) }
    }

    func compactLog(through vector: VersionVector) { committed.compactLog(through: vector) }

    /// What the disk writes of `request`. With `brokenMerge` (a test of the checks), a
    /// wrong merge: of each field, the register with the *lower* stamp is kept.
    func onDisk(_ request: PersistRequest) -> PersistRequest {
        guard world.options.brokenMerge else { return request }
        return request.replacingRecords(
            request.records.map { encoded in
                guard let old = committed.records[encoded.record.id]?.record else { return encoded }
                var kept = PaymentRecord(id: old.id)
                for field in Set(old.presentFields + encoded.record.presentFields).sorted() {
                    let pick = [old[field], encoded.record[field]].compactMap { $0 }.min { $0.stamp < $1.stamp }!
                    _ = kept.merge(pick, into: field)
                }
                return EncodedRecord(kept)
            })
    }

    func readPayment(_ id: PaymentID, reply: @escaping (Result<Payment?, StoreReadFailure>) -> Void) {
        reply(.success(payment(id)))
    }

    func readHistory(
        _ id: PaymentID, limit: Int, reply: @escaping (Result<PaymentHistory?, HistoryReadFailure>) -> Void
    ) {
        do throws(PaymentHistoryError) {
            reply(.success(try committed.history(id, limit: limit)))
        } catch {
            reply(.failure(.truncated(error)))
        }
    }

    /// Reads of records for the engine's cache answer after a disk read's time, so inputs
    /// queue behind them as they do in a node.
    func loadRecords(_ ids: [PaymentID], completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void) {
        world.later(region, inMicros: Self.readMicros) { [unowned self] in
            let found = committed.encodedRecords(ids)
            if !found.isEmpty { world.probes.recordReadBack = true }
            completion(.success(found))
        }
    }

    /// The disk model keeps records decoded beside their encodings: it hands both over.
    func loadDecodedRecords(
        _ ids: [PaymentID], completion: @escaping (Result<[EncodedRecord], StoreReadFailure>) -> Void
    ) -> Bool {
        world.later(region, inMicros: Self.readMicros) { [unowned self] in
            let found = committed.records(ids)
            if !found.isEmpty { world.probes.recordReadBack = true }
            completion(.success(found))
        }
        return true
    }

    func readRecords(
        after: UInt64, limit: MessageBudget, completion: @escaping (Result<StoredRecords, StoreReadFailure>) -> Void
    ) {
        world.later(region, inMicros: Self.readMicros) { [unowned self] in
            let (records, position, more) = committed.encodedRecords(after: after, limit: limit)
            completion(.success(StoredRecords(records: records, position: position, more: more)))
        }
    }

    func readLogEntries(
        of origin: RegionID, after: UInt64, limit: MessageBudget,
        completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void
    ) {
        world.later(region, inMicros: Self.readMicros) { [unowned self] in
            let entries = committed.encodedLogEntries(of: origin, after: after, limit: limit)
            if !entries.isEmpty { world.probes.logReadFromStore = true }
            completion(.success(entries))
        }
    }

    static let readMicros: UInt64 = 150

    func readEvents(
        _ query: EventQuery, region: RegionID, ownVisibleThrough: UInt64,
        reply: @escaping (Result<EventPage, EventReadFailure>) -> Void
    ) {
        reply(committed.events.page(query, region: region, ownVisibleThrough: ownVisibleThrough).mapError { .feed($0) })
    }

    /// The payment as committed (nil when unknown or incomplete).
    func payment(_ id: PaymentID) -> Payment? { committed.records[id].flatMap { Payment($0.record) } }

    func recover(completion: @escaping (Result<RecoveredState, StoreReadFailure>) -> Void) {
        world.later(region, inMicros: 1_000) { [unowned self] in
            completion(
                .success(committed.recover(includingRecords: false, logTailPerOrigin: Simulation.logCacheEntries)))
        }
    }

    func probeWritable(completion: @escaping (Bool) -> Void) {
        world.later(region, inMicros: 1_000) { [unowned self] in
            let ok = world.now >= fullUntilMicros
            if ok { refusing = nil }
            completion(ok)
        }
    }

    func stateDigest() throws -> String {
        var digest = StateDigest()
        for id in committed.records.keys.sortedByID() {
            digest.add(encodedRecord: committed.records[id]!.bytes)
        }
        return digest.hex()
    }

    /// The process died: what was not fsynced is gone.
    func crashed() {
        if !queued.isEmpty { world.probes.tornCommit = true }
        queued = []
        commitScheduled = false
        refusing = nil
    }
}

/// One region's end of the simulated network.
final class SimBus: ShellPeerBus {
    unowned let world: Simulation
    let region: Int

    init(world: Simulation, region: Int) {
        self.world = world
        self.region = region
    }

    func send(_ message: PeerMessage, to peer: RegionID) {
        world.send(message, from: region, to: world.index(of: peer))
    }

    func disconnect(_ peer: RegionID, reason: String) {
        let p = world.index(of: peer)
        // Between honest regions nothing is a protocol violation; a link closed to hold a
        // value from the future (a snapshot chunk stamped beyond the bound) is not one.
        let violations = world.regions[region].shell?.engine.counters.protocolViolations ?? 0
        world.later(region, inMicros: 0) { [unowned self] in
            if violations > 0 {
                world.violations.append(
                    SimViolation(kind: .safety, message: "\(world.regionIDs[region]) disconnected \(peer): \(reason)"))
            }
            world.dropConnection(region, p)
        }
    }

    func setLinksEnabled(_ enabled: Bool) {
        world.later(region, inMicros: 0) { [unowned self] in
            world.regions[region].linksEnabled = enabled
            for p in world.regions.indices where p != region {
                if enabled { world.tryConnect(region, p) } else { world.dropConnection(region, p) }
            }
        }
    }
}

/// One region's clock: virtual time, plus the region's offset, drift and jumps.
final class SimClock: ShellClock {
    unowned let world: Simulation
    let region: Int

    init(world: Simulation, region: Int) {
        self.world = world
        self.region = region
    }

    var nowMillis: UInt64 { world.wallMillis(region) }

    func schedule(afterMillis millis: UInt64, _ body: @escaping () -> Void) {
        world.later(region, inMicros: millis * 1_000, body)
    }
}
