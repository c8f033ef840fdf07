import ReplicaCore

// MARK: - Prefetch, then execute: records an input needs are loaded before the engine runs it

/// A client write, peer event or membership change waiting for the records it needs (or
/// for an earlier input to run: inputs run in the order they arrived, so a peer's
/// messages keep theirs, and a region retired after a message arrived is retired after
/// that message runs).
enum ShellInput {
    case submit(PaymentCommand, String?, Durability, (Result<WriteAck, NodeError>) -> Void)
    case peerConnected(RegionID, wire: UInt8?)
    case peerDisconnected(RegionID)
    case peerSent(PeerMessage, RegionID)
    case addPeer(RegionID)
    case retirePeer(RegionID)
}

/// Records a store read for the engine, as the store hands them over.
enum LoadedRecords {
    case encoded([[UInt8]])
    case decoded([EncodedRecord])
}

/// The queue of inputs and the one store read in flight for them.
struct PrefetchState {
    var inputs: [ShellInput] = []
    var loading = false
    /// Ids asked for in one read, at most.
    static let idsPerReadMax = 2_048
}

extension ReplicaShell {
    /// Runs `input` now when nothing waits before it and the engine holds what it needs;
    /// else queues it behind a store read of those records.
    func accept(_ input: ShellInput) {
        prefetch.inputs.append(input)
        runReadyInputs()
    }

    func recordsToLoad(for input: ShellInput) -> [PaymentID] {
        switch input {
        case .submit(let command, _, _, _): inPlace { $0.recordsToLoad(for: command) }
        case .peerSent(let message, _): inPlace { $0.recordsToLoad(for: message) }
        case .peerConnected, .peerDisconnected, .addPeer, .retirePeer: []
        }
    }

    /// Runs inputs from the head of the queue while their records are held; at the first
    /// that lacks some, reads those (and what the inputs behind it lack) in one go.
    func runReadyInputs() {
        while let head = prefetch.inputs.first {
            let missing = recordsToLoad(for: head)
            if missing.isEmpty {
                prefetch.inputs.removeFirst()
                run(head)
                continue
            }
            guard !prefetch.loading else { return }
            var ids = missing
            var seen = Set(ids)
            for input in prefetch.inputs.dropFirst() where ids.count < PrefetchState.idsPerReadMax {
                for id in recordsToLoad(for: input) where seen.insert(id).inserted { ids.append(id) }
            }
            guard load(ids) else { return }
        }
    }

    /// Reads `ids` for the engine. Returns true when the store answered before returning
    /// (a small read a node does in place): the caller goes on with its loop; else the
    /// answer runs the queue again when it comes.
    func load(_ ids: [PaymentID]) -> Bool {
        // Ids the store cannot hold are found nowhere, with no read.
        let reads = storedIDs.map { filter in ids.filter(filter.mayContain) } ?? ids
        if reads.isEmpty {
            if health == .serving { engine.admitRecords(decoded: [], asked: ids) }
            return true
        }
        prefetch.loading = true
        let generation = engineGeneration
        var answeredInPlace = false
        var returned = false
        let loaded = { [weak self] (result: Result<LoadedRecords, StoreReadFailure>) in
            guard let self else { return }
            prefetch.loading = false
            if generation == engineGeneration, health == .serving {
                switch result {
                case .success(.encoded(let found)):
                    engine.admitRecords(found, asked: ids)
                case .success(.decoded(let found)):
                    engine.admitRecords(decoded: found, asked: ids)
                case .failure(let failure):
                    // Nothing can run without its records: treated like a failed commit (the
                    // region stops writing, closes its links, and recovers by itself).
                    storeFailed("reading records failed: \(failure)", uncertain: false)
                    return
                }
            }
            if returned { runReadyInputs() } else { answeredInPlace = true }
        }
        if !store.loadDecodedRecords(reads, completion: { loaded($0.map(LoadedRecords.decoded)) }) {
            store.loadRecords(reads) { loaded($0.map(LoadedRecords.encoded)) }
        }
        returned = true
        return answeredInPlace
    }

    func run(_ input: ShellInput) {
        switch input {
        case .submit(let command, let actor, let durability, let reply):
            runSubmit(command, actor: actor, durability: durability, reply: reply)
        case .peerConnected(let peer, let wire):
            guard health == .serving else { return }
            carryOut(engine.peerConnected(peer, wire: wire, nowMillis: clock.nowMillis))
        case .peerDisconnected(let peer):
            carryOut(engine.peerDisconnected(peer, nowMillis: clock.nowMillis))
        case .peerSent(let message, let peer):
            guard health == .serving else { return }
            carryOut(engine.receive(message, from: peer, nowMillis: clock.nowMillis))
        case .addPeer(let peer):
            carryOut(engine.addPeer(peer, nowMillis: clock.nowMillis))
        case .retirePeer(let peer):
            guard health == .serving else { return }  // the engine rebuilt on recovery has it from the config
            carryOut(engine.retirePeer(peer, nowMillis: clock.nowMillis))
        }
    }

    /// Answers queued writes with `error` and drops queued peer messages and connections
    /// (their links are closing: the peers resend on the next connection). A queued
    /// disconnection still runs (it needs no records): its link is gone, and no later
    /// event would tell the engine, which would go on reporting the peer connected.
    func failQueuedInputs(_ error: NodeError) {
        let queued = prefetch.inputs
        prefetch.inputs = []
        for input in queued {
            switch input {
            case .submit(_, _, _, let reply): reply(.failure(error))
            case .peerDisconnected(let peer): carryOut(engine.peerDisconnected(peer, nowMillis: clock.nowMillis))
            // Membership is in the shell's config already: the engine rebuilt on recovery has it.
            case .peerConnected, .peerSent, .addPeer, .retirePeer: break
            }
        }
    }

    /// A store read the engine asked for on behalf of a peer (`readSnapshotChunk`,
    /// `readLog`): `read` starts it, `answer` hands the engine what came back. A failed
    /// read leaves the peer waiting: the engine's retransmit timer gives it up and retries.
    func readForPeer<Answer>(
        _ read: (@escaping (Result<Answer, StoreReadFailure>) -> Void) -> Void,
        answer: @escaping (inout ReplicationEngine, Answer, UInt64) -> [EngineDirective]
    ) {
        let generation = engineGeneration
        read { [weak self] result in
            guard let self, generation == engineGeneration, health == .serving, case .success(let encoded) = result
            else { return }
            carryOut(answer(&engine, encoded, clock.nowMillis))
        }
    }
}

// MARK: - The ids a store that held few at the start may hold

extension ReplicaShell {
    /// Starts the filter with the ids the store holds, when it said (it holds few) and
    /// the config asks for one.
    func startStoredIDFilter(_ recovered: RecoveredState) {
        guard let held = recovered.heldIDs, config.storedIDFilterBits > 0 else { return }
        var filter = StoredIDFilter(bits: config.storedIDFilterBits)
        for id in held { filter.insert(id) }
        storedIDs = filter.isFull ? nil : filter
    }

    /// Notes the ids of a request handed to the store, before it is (so no read can
    /// miss one), and lets the filter go once it is too full to spare reads.
    func noteStored(_ request: PersistRequest) {
        guard storedIDs != nil else { return }
        for record in request.records { storedIDs!.insert(record.record.id) }
        if storedIDs!.isFull { storedIDs = nil }
    }
}
