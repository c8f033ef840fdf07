import PaymentsAPI
import Prometheus
import ReplicaCore
import Synchronization

/// One region in memory, for route tests: a `PaymentService` with no store, peers,
/// certificates or clock. Writes apply at once (stamped on a counter, not the wall
/// clock), `remote` durability is never reached (there is no other region), a session
/// token ahead of the region is refused at once, and the change feed is ReplicaCore's
/// `InMemoryEventLog`, so pages follow the same selection rule as the store's.
///
/// The engine's own rules (validation, idempotent replays, status transitions) are
/// tested on the engine; this service keeps just enough of them that each refusal the
/// API maps can be reached through a route.
final class InMemoryPaymentService: PaymentService {
    struct State {
        var seq: UInt64 = 0
        var millis: UInt64 = 1_764_000_000_000
        var records: [PaymentID: PaymentRecord] = [:]
        var events = InMemoryEventLog()
        var conflicts: [ConflictLogRow] = []
        var unavailable: String?
        var minted: UInt64 = 0
        var metricRefreshes = 0
    }

    let apiSettings: APISettings
    let metricsRegistry = PrometheusCollectorRegistry()
    private let keyHashes: [[UInt8]]
    private let state = Mutex(State())

    init(region: String = "us-east-1", bodyBytesMax: Int = 2_048, apiKeys: [String] = ["paynode-dev-key"]) {
        apiSettings = APISettings(region: RegionID(region)!, bodyBytesMax: bodyBytesMax, defaultDurability: .local)
        keyHashes = apiKeys.map { Array(SHA256.hex(SHA256.hash(Array($0.utf8))).utf8) }
    }

    var region: RegionID { apiSettings.region }

    /// Writes are refused with `reason` from now on (a draining or failed region).
    func stopTakingWrites(_ reason: String) { state.withLock { $0.unavailable = reason } }

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

    var metricRefreshes: Int { state.withLock { $0.metricRefreshes } }

    // MARK: PaymentService

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
            if let reason = s.unavailable { return .failure(.unavailable(reason)) }
            let changes: [(PaymentField, FieldValue)]
            let id = command.paymentID
            do throws(PaymentError) {
                switch command {
                case .create(_, let create, let idempotent):
                    try PaymentValidation.validate(create)
                    if let existing = s.records[id], let payment = Payment(existing) {
                        guard idempotent, existing[.requestFingerprint]?.value.text == create.fingerprint else {
                            throw PaymentError(
                                .idempotencyKeyReused, "this Idempotency-Key was already used with other parameters")
                        }
                        return .success(
                            WriteAck(
                                payment: payment, sessionToken: Self.vector(s, region), achieved: .local,
                                replayed: true))
                    }
                    changes = create.fieldValues + [(.requestFingerprint, .text(create.fingerprint))]
                case .update(_, let patch):
                    try PaymentValidation.validate(patch)
                    guard let existing = s.records[id], let payment = Payment(existing) else {
                        throw PaymentError(.notFound, "no payment \(id) in region \(region)", field: "id")
                    }
                    if let next = patch.status, next != payment.status, !payment.status.canTransition(to: next) {
                        throw PaymentError(
                            .invalidStatusTransition,
                            "status cannot go from \(payment.status.rawValue) to \(next.rawValue)", field: "status")
                    }
                    changes = patch.fieldValues
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
            s.events.append(EncodedEntry(entry), record: EncodedRecord(record))
            return .success(
                WriteAck(
                    payment: Payment(record)!, sessionToken: Self.vector(s, region), achieved: .local,
                    replayed: false, seq: s.seq))
        }
        return try result.get()
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

    func conflicts(limit: Int, before: Int64?) async throws -> [ConflictLogRow] {
        state.withLock { s in Array(s.conflicts.reversed().filter { $0.sequence < (before ?? .max) }.prefix(limit)) }
    }

    func events(_ query: EventQuery) async throws(NodeError) -> EventPage {
        let region = self.region
        let result = state.withLock { $0.events.page(query, region: region, ownVisibleThrough: $0.seq) }
        switch result {
        case .success(let page): return page
        case .failure(.cursorTooOld(let oldest)): throw .eventCursorTooOld(oldest: oldest)
        }
    }

    func eventsVersion() async throws -> UInt64 { state.withLock { $0.seq } }

    /// Never waits: the version now (the same one when nothing moved, as after a timeout).
    func waitForEvents(after version: UInt64, timeoutMillis: UInt64) async throws -> UInt64 {
        try await eventsVersion()
    }

    /// A region alone: every payment's amount is at risk.
    func cluster(withDigest: Bool) async throws -> ClusterDocument {
        let region = self.region
        return state.withLock { s in
            var atRisk: [String: Int64] = [:]
            for payment in s.records.values.compactMap(Payment.init) {
                atRisk[payment.currency, default: 0] += payment.amount
            }
            let counters = ClusterDocument.Counters(
                entriesApplied: 0, duplicatesSkipped: 0, gapsSkipped: 0, conflictsDetected: UInt64(s.conflicts.count),
                batchesSent: 0, retransmits: 0, snapshotsSent: 0, snapshotsReceived: 0, snapshotChunksDeclined: 0,
                protocolViolations: 0, writesRefusedForClock: 0, entriesHeldForClock: 0)
            let transport = ClusterDocument.Transport(
                messageBytesSent: 0, wireBytesSent: 0, deltaMessageBytesSent: 0, deltaWireBytesSent: 0,
                framesSent: 0, framesReceived: 0, malformedFrames: 0, refusedPeers: 0)
            return ClusterDocument(
                region: region, vector: Self.vector(s, region), peers: [], rpoExposureMillis: s.seq == 0 ? 0 : 1_500,
                rpoExposureAmounts: atRisk.keys.sorted().map { .init(currency: $0, amount: atRisk[$0]!) },
                unreplicatedLocalEntries: s.seq, clockProblem: nil, counters: counters, transport: transport,
                stateDigest: withDigest ? SHA256.hex(SHA256.hash(Array("\(s.seq)".utf8))) : nil)
        }
    }

    func unavailableReason() async -> String? { state.withLock { $0.unavailable } }

    func refreshMetrics() async throws {
        let seq = state.withLock { s in
            s.metricRefreshes += 1
            return s.seq
        }
        metricsRegistry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "paynode", metricName: "unreplicated_local", unitName: "entries",
                helpText: "Local writes no other region holds")
        )
        .set(Int64(seq))
    }

    private static func vector(_ s: State, _ region: RegionID) -> VersionVector {
        var v = VersionVector()
        if s.seq > 0 { v[region] = s.seq }
        return v
    }
}
