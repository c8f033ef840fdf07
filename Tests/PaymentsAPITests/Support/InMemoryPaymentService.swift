import PaymentsAPI
import PaymentsWire
import Prometheus
import ReplicaCore
import Synchronization

/// One region in memory, for route tests: a `PaymentService` with no store, peers,
/// certificates or clock. Writes apply at once, stamped on a counter, not the wall clock;
/// the same counter is the region's time (`nowMillis`), which tests move on by hand
/// (`advanceTime`) to expire keys and refill rate limits. Its keys can be replaced at any
/// time, as a reload does.
/// A session token ahead of the region is refused at once, and a wait for the feed to
/// move returns at once when nothing moved, as its timeout would (virtual time: no test
/// sleeps). The change feed is ReplicaCore's `InMemoryEventLog`, so pages follow the same
/// selection rule as the store's.
///
/// Writes follow the engine's own rule (`PaymentWriteRule`: validation, idempotent
/// replays, status transitions, patches that change nothing). Switches let the tests
/// reach every answer: `remote` durability reached or not, writes refused, changes
/// forgotten, a feed that fails, peers in the cluster document.
final class InMemoryPaymentService: PaymentService {
    struct State {
        var seq: UInt64 = 0
        var millis: UInt64 = 1_764_000_000_000
        var records: [PaymentID: PaymentRecord] = [:]
        /// Every change committed, with the record after it.
        var changes: [(entry: EncodedEntry, record: EncodedRecord)] = []
        /// What retention trimmed from the feed.
        var forgotten = VersionVector()
        /// Waits for the feed that found nothing new: a stream a test forgot to end fails
        /// after many, instead of spinning for ever.
        var idleWaits = 0
        var conflicts: [ConflictLogRow] = []
        var minted: UInt64 = 0
        var metricRefreshes = 0
        /// Test switches.
        var reachesRemote = false
        var refusal: NodeError?
        var feedReadsLeft: Int?
        var peers: [ClusterDocument.Peer] = []
        var keys: [APIKey] = []
        /// Reads by id made at once (`readPaymentBodyAtOnce`), and whether they are made.
        var readsMadeAtOnce = 0
        var readsAtOnce = true
        /// `readPayment` (the router's read) fails: only a read at once can answer.
        var routedReadsFail = false
        /// Writes handed over through `submit(_:actor:durability:reply:)` (the create fast
        /// path's); the async `submit` (the router's) fails.
        var writesHandedOver = 0
        var routedWritesFail = false
        /// Replies to writes handed over wait here while `holdsReplies`.
        var holdsReplies = false
        var heldReplies: [@Sendable () -> Void] = []
        /// With the feed held: waits for it to move park here until it is released.
        var feedHeld = false
        var feedWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The development key, `paynode-dev-key`, with every scope: what the route tests send.
    static let devKey = APIKey(id: "dev", secret: "paynode-dev-key", scopes: [.admin])

    let apiSettings: APISettings
    let metricsRegistry = PrometheusCollectorRegistry()
    let state = Mutex(State())

    init(
        region: String = "us-east-1", bodyBytesMax: Int = 2_048, apiKeys: [APIKey] = [devKey], accessLog: Bool = false,
        tracing: Bool = false
    ) {
        apiSettings = APISettings(
            region: RegionID(region)!, bodyBytesMax: bodyBytesMax, defaultDurability: .local, accessLog: accessLog,
            tracing: tracing)
        state.withLock { $0.keys = apiKeys }
    }

    var region: RegionID { apiSettings.region }

    // MARK: Switches

    /// `remote` writes reach another region from now on (as if a peer acknowledged them).
    func reachRemote() { state.withLock { $0.reachesRemote = true } }

    /// Every write is refused with `error` from now on; readiness gives its reason.
    func refuseWrites(_ error: NodeError) { state.withLock { $0.refusal = error } }

    /// The feed answers `reads` more pages, then fails (the region is stopping).
    func failFeed(afterReads reads: Int) { state.withLock { $0.feedReadsLeft = reads } }

    /// The feed no longer keeps the changes through `vector` (retention trimmed them).
    func forgetChanges(through vector: VersionVector) { state.withLock { $0.forgotten.merge(vector) } }

    /// Adds a row to the conflict log.
    func recordConflict(paymentID: String, field: String, winner: String, loser: String) {
        state.withLock { s in
            let row = ConflictLogRow(
                sequence: Int64(s.conflicts.count + 1), paymentID: paymentID, field: field,
                winnerValueJSON: winner, winnerStamp: "2.0@\(region)", loserValueJSON: loser,
                loserStamp: "1.0@\(region)")
            s.conflicts.append(row)
        }
    }

    /// Puts `peer` in the cluster document.
    func addPeer(_ peer: ClusterDocument.Peer) { state.withLock { $0.peers.append(peer) } }

    var metricRefreshes: Int { state.withLock { $0.metricRefreshes } }

    /// The keys accepted from now on (a reload).
    func replaceKeys(_ keys: [APIKey]) { state.withLock { $0.keys = keys } }

    /// Moves the region's time on by `millis`.
    func advanceTime(millis: UInt64) { state.withLock { $0.millis += millis } }

    // MARK: Writes and reads

    func apiKeys() -> [APIKey] { state.withLock { $0.keys } }

    func nowMillis() -> UInt64 { state.withLock { $0.millis } }

    func newPaymentID() -> PaymentID {
        state.withLock { s in
            s.minted += 1
            return PaymentID.generated(wallMillis: s.millis, entropy: (s.minted, 0))
        }
    }

    func submit(_ command: PaymentCommand, actor: String, durability: Durability) async throws(NodeError) -> WriteAck {
        if state.withLock({ $0.routedWritesFail }) { throw .unavailable("writes fail (test switch)") }
        return try apply(command, actor: actor, durability: durability)
    }

    /// The write handed over without a task (the create fast path's), counted, and
    /// answered before this returns (a reply may come that soon).
    func submit(
        _ command: PaymentCommand, actor: String, durability: Durability,
        reply: @escaping @Sendable (Result<WriteAck, NodeError>) -> Void
    ) {
        let result = Result { () throws(NodeError) in try apply(command, actor: actor, durability: durability) }
        let held = state.withLock { s in
            s.writesHandedOver += 1
            if s.holdsReplies { s.heldReplies.append { reply(result) } }
            return s.holdsReplies
        }
        if !held { reply(result) }
    }

    /// Replies to writes handed over are held from now on, until `releaseReplies`.
    func holdReplies() { state.withLock { $0.holdsReplies = true } }

    /// Gives the held replies, and no longer holds them.
    func releaseReplies() {
        let held = state.withLock { s in
            s.holdsReplies = false
            defer { s.heldReplies = [] }
            return s.heldReplies
        }
        for reply in held { reply() }
    }

    private func apply(_ command: PaymentCommand, actor: String, durability: Durability) throws(NodeError) -> WriteAck {
        let region = self.region
        let result: Result<WriteAck, NodeError> = state.withLock { s in
            if let refusal = s.refusal { return .failure(refusal) }
            let achieved: Durability = durability == .remote && s.reachesRemote ? .remote : .local
            let id = command.paymentID
            let changes: [(PaymentField, FieldValue)]
            switch PaymentWriteRule.decide(command, existing: s.records[id], region: region) {
            case .refuse(let error):
                return .failure(.rejected(error))
            case .unchanged(let payment, let replayed):
                // As the engine: a replay or a patch that changes nothing writes nothing,
                // and is answered at the durability asked.
                let ack = WriteAck(
                    payment: payment, sessionToken: Self.vector(s, region), achieved: durability, replayed: replayed)
                return .success(ack)
            case .write(let fields):
                changes = fields
            }
            s.seq += 1
            s.millis += 1
            let stamp = Stamp(time: HLCTimestamp(wallMillis: s.millis, counter: 0), region: region)
            var record = s.records[id] ?? PaymentRecord(id: id)
            for (field, value) in changes {
                record.merge(FieldRegister(value: value, stamp: stamp, base: nil), into: field)
            }
            s.records[id] = record
            let entry = LogEntry(
                origin: region, seq: s.seq, hlc: stamp.time, paymentID: id,
                changes: changes.map { FieldChange(field: $0.0, value: $0.1, base: nil) }, actor: actor)
            s.changes.append((EncodedEntry(entry), EncodedRecord(record)))
            let ack = WriteAck(
                payment: Payment(record)!, sessionToken: Self.vector(s, region), achieved: achieved, replayed: false,
                seq: s.seq)
            return .success(ack)
        }
        return try result.get()
    }

    func waitForSession(_ token: VersionVector) async throws(NodeError) {
        let have = state.withLock { Self.vector($0, region) }
        guard have.dominates(token) else { throw .sessionNotAvailable(wanted: token, have: have) }
    }

    func readPayment(_ id: PaymentID, sessionToken: VersionVector?) async throws(NodeError) -> Payment? {
        if let sessionToken { try await waitForSession(sessionToken) }
        if state.withLock({ $0.routedReadsFail }) { throw .unavailable("reads fail (test switch)") }
        return state.withLock { $0.records[id].flatMap(Payment.init) }
    }

    /// Reads at once unless `readsAtOnce` was turned off, counting the payments it read.
    func readPaymentBodyAtOnce(_ id: PaymentID) -> PaymentBody? {
        state.withLock { s in
            guard s.readsAtOnce, let payment = s.records[id].flatMap(Payment.init) else { return nil }
            s.readsMadeAtOnce += 1
            return PaymentBody(payment)
        }
    }

    func listPayments(_ filter: PaymentFilter, limit: Int, after cursor: ListCursor?) async throws -> PaymentPage {
        let all = state.withLock { $0.records.values.compactMap(Payment.init) }
            .filter { filter.matches($0) && (cursor?.precedes($0) ?? true) }
            .sorted { ($0.createdAtMillis, $0.id) > ($1.createdAtMillis, $1.id) }
        let page = Array(all.prefix(limit))
        let next =
            all.count > limit ? page.last.map { ListCursor(createdMillis: Int64($0.createdAtMillis), id: $0.id) } : nil
        return PaymentPage(payments: page, nextCursor: next)
    }

    /// As the store: with `merchantIDs`, only rows about payments of those merchants.
    func conflicts(limit: Int, before: Int64?, merchantIDs: Set<String>?) async throws -> ConflictLogPage {
        let limit = min(max(limit, 1), PaymentPage.limitMax)
        let rows = state.withLock { s in
            s.conflicts.reversed().filter { row in
                guard row.sequence < (before ?? .max) else { return false }
                guard let bounds = merchantIDs else { return true }
                let merchant = PaymentID(row.paymentID).flatMap { s.records[$0] }.flatMap(Payment.init)?.merchantID
                return merchant.map(bounds.contains) ?? false
            }
        }
        let page = Array(rows.prefix(limit))
        return ConflictLogPage(rows: page, nextBefore: rows.count > limit ? page.last?.sequence : nil)
    }

    /// The feed as the region keeps it: every change above what retention forgot.
    static func events(_ s: State) -> InMemoryEventLog {
        var log = InMemoryEventLog()
        log.snapshotApplied(s.forgotten)
        for change in s.changes where change.entry.entry.seq > s.forgotten[change.entry.entry.origin] {
            log.append(change.entry, record: change.record)
        }
        return log
    }

    static func vector(_ s: State, _ region: RegionID) -> VersionVector {
        var v = VersionVector()
        if s.seq > 0 { v[region] = s.seq }
        return v
    }
}
