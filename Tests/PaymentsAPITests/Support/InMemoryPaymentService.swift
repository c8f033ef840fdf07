import PaymentsAPI
import Prometheus
import ReplicaCore
import Synchronization

/// One region in memory, for route tests: a `PaymentService` with no store, peers,
/// certificates or clock. Writes apply at once, stamped on a counter, not the wall clock.
/// A session token ahead of the region is refused at once, and a wait for the feed to
/// move returns at once when nothing moved, as its timeout would (virtual time: no test
/// sleeps). The change feed is ReplicaCore's `InMemoryEventLog`, so pages follow the same
/// selection rule as the store's.
///
/// The engine's rules (validation, idempotent replays, status transitions, patches that
/// change nothing) are tested on the engine; this service keeps what the routes depend
/// on, and switches the tests turn to reach every answer: `remote` durability reached or
/// not, writes refused, changes forgotten, a feed that fails, peers in the cluster
/// document.
final class InMemoryPaymentService: PaymentService {
    struct State {
        var seq: UInt64 = 0
        var millis: UInt64 = 1_764_000_000_000
        var records: [PaymentID: PaymentRecord] = [:]
        var events = InMemoryEventLog()
        /// Every change committed, to rebuild `events` when changes are forgotten.
        var changes: [(entry: EncodedEntry, record: EncodedRecord)] = []
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
    }

    let apiSettings: APISettings
    let metricsRegistry = PrometheusCollectorRegistry()
    private let keyHashes: [[UInt8]]
    let state = Mutex(State())

    init(region: String = "us-east-1", bodyBytesMax: Int = 2_048, apiKeys: [String] = ["paynode-dev-key"]) {
        apiSettings = APISettings(region: RegionID(region)!, bodyBytesMax: bodyBytesMax, defaultDurability: .local)
        keyHashes = apiKeys.map { Array(SHA256.hex(SHA256.hash(Array($0.utf8))).utf8) }
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
    func forgetChanges(through vector: VersionVector) {
        state.withLock { s in
            var kept = InMemoryEventLog()
            kept.snapshotApplied(vector)
            for change in s.changes where change.entry.entry.seq > vector[change.entry.entry.origin] {
                kept.append(change.entry, record: change.record)
            }
            s.events = kept
        }
    }

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

    // MARK: Writes and reads

    func apiKeyHashes() -> [[UInt8]] { keyHashes }

    func newPaymentID() -> PaymentID {
        state.withLock { s in
            s.minted += 1
            return PaymentID.generated(wallMillis: s.millis, entropy: (s.minted, 0))
        }
    }

    func submit(_ command: PaymentCommand, durability: Durability) async throws(NodeError) -> WriteAck {
        let region = self.region
        let result: Result<WriteAck, NodeError> = state.withLock { s in
            if let refusal = s.refusal { return .failure(refusal) }
            let achieved: Durability = durability == .remote && s.reachesRemote ? .remote : .local
            let id = command.paymentID
            let changes: [(PaymentField, FieldValue)]
            do throws(PaymentError) {
                switch Self.decide(command, s.records[id], region) {
                case .answer(let payment, let replayed):
                    // As the engine: a replay or a patch that changes nothing writes nothing.
                    let ack = WriteAck(
                        payment: payment, sessionToken: Self.vector(s, region), achieved: durability, replayed: replayed
                    )
                    return .success(ack)
                case .write(let fields): changes = fields
                case .refuse(let error): throw error
                }
            } catch {
                return .failure(.rejected(error))
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
                changes: changes.map { FieldChange(field: $0.0, value: $0.1, base: nil) })
            s.changes.append((EncodedEntry(entry), EncodedRecord(record)))
            s.events.append(EncodedEntry(entry), record: EncodedRecord(record))
            let ack = WriteAck(
                payment: Payment(record)!, sessionToken: Self.vector(s, region), achieved: achieved, replayed: false,
                seq: s.seq)
            return .success(ack)
        }
        return try result.get()
    }

    enum Decision {
        case answer(Payment, replayed: Bool)
        case write([(PaymentField, FieldValue)])
        case refuse(PaymentError)
    }

    /// What the engine decides for `command` against the record held (validation,
    /// idempotent replays, status transitions, unchanged fields left out).
    static func decide(_ command: PaymentCommand, _ existing: PaymentRecord?, _ region: RegionID) -> Decision {
        do throws(PaymentError) {
            switch command {
            case .create(_, let create, let idempotent):
                try PaymentValidation.validate(create)
                guard let existing, let payment = Payment(existing) else {
                    return .write(create.fieldValues + [(.requestFingerprint, .text(create.fingerprint))])
                }
                guard idempotent, existing[.requestFingerprint]?.value.text == create.fingerprint else {
                    throw PaymentError(
                        .idempotencyKeyReused, "this Idempotency-Key was already used with other parameters")
                }
                return .answer(payment, replayed: true)
            case .update(let id, let patch):
                try PaymentValidation.validate(patch)
                guard let existing, let payment = Payment(existing) else {
                    throw PaymentError(.notFound, "no payment \(id) in region \(region)", field: "id")
                }
                if let next = patch.status, next != payment.status, !payment.status.canTransition(to: next) {
                    throw PaymentError(
                        .invalidStatusTransition,
                        "status cannot go from \(payment.status.rawValue) to \(next.rawValue)",
                        field: "status")
                }
                let changes = patch.fieldValues.filter { existing[$0.0]?.value ?? .absent != $0.1 }
                return changes.isEmpty ? .answer(payment, replayed: false) : .write(changes)
            }
        } catch {
            return .refuse(error)
        }
    }

    func waitForSession(_ token: VersionVector) async throws(NodeError) {
        let have = state.withLock { Self.vector($0, region) }
        guard have.dominates(token) else { throw .sessionNotAvailable(wanted: token, have: have) }
    }

    func readPayment(_ id: PaymentID, sessionToken: VersionVector?) async throws(NodeError) -> Payment? {
        if let sessionToken { try await waitForSession(sessionToken) }
        return state.withLock { $0.records[id].flatMap(Payment.init) }
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

    func conflicts(limit: Int, before: Int64?) async throws -> ConflictLogPage {
        let limit = min(max(limit, 1), PaymentPage.limitMax)
        let rows = state.withLock { s in s.conflicts.reversed().filter { $0.sequence < (before ?? .max) } }
        let page = Array(rows.prefix(limit))
        return ConflictLogPage(rows: page, nextBefore: rows.count > limit ? page.last?.sequence : nil)
    }

    static func vector(_ s: State, _ region: RegionID) -> VersionVector {
        var v = VersionVector()
        if s.seq > 0 { v[region] = s.seq }
        return v
    }
}
