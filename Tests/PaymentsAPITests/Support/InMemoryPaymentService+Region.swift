import PaymentsAPI
import Prometheus
import ReplicaCore

/// The in-memory region's change feed, cluster document, readiness and metrics.
extension InMemoryPaymentService {
    func events(_ query: EventQuery) async throws(NodeError) -> EventPage {
        let region = self.region
        let result: Result<EventPage, NodeError> = state.withLock { s in
            if let left = s.feedReadsLeft {
                guard left > 0 else { return .failure(.unavailable("the node is shutting down")) }
                s.feedReadsLeft = left - 1
            }
            return Self.events(s).page(query, region: region, ownVisibleThrough: s.seq).mapError { error in
                switch error {
                case .cursorTooOld(let oldest): .eventCursorTooOld(oldest: oldest)
                }
            }
        }
        return try result.get()
    }

    /// From the feed as the region keeps it (what retention forgot is not there).
    func history(_ id: PaymentID, limit: Int) async throws(NodeError) -> PaymentHistory? {
        let result: Result<PaymentHistory?, NodeError> = state.withLock { s in
            do throws(PaymentHistoryError) {
                let entries = Self.events(s).entries(of: id)
                return .success(try PaymentHistory.assemble(record: s.records[id], entries: entries, limit: limit))
            } catch {
                return .failure(.historyTruncated(error))
            }
        }
        return try result.get()
    }

    func eventsVersion() async throws -> UInt64 { state.withLock { $0.seq } }

    /// Never waits, unless the feed is held: the version now (the same one when nothing
    /// moved, as after the timeout).
    func waitForEvents(after version: UInt64, timeoutMillis: UInt64) async throws -> UInt64 {
        struct StreamNeverEnded: Error {}
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let parked = state.withLock { s in
                guard s.feedHeld else { return false }
                s.feedWaiters.append(waiter)
                return true
            }
            if !parked { waiter.resume() }
        }
        return try state.withLock { s in
            if s.seq == version {
                s.idleWaits += 1
                guard s.idleWaits < 1_000 else { throw StreamNeverEnded() }
            }
            return s.seq
        }
    }

    /// Every payment's amount is at risk toward every peer: none holds anything.
    func cluster(withDigest: Bool) async throws -> ClusterDocument {
        let region = self.region
        return state.withLock { s in
            var atRisk: [String: Int64] = [:]
            for payment in s.records.values.compactMap(Payment.init) {
                atRisk[payment.currency, default: 0] += payment.amount
            }
            var counters = EngineCounters()
            counters.conflictsDetected = UInt64(s.conflicts.count)
            let transport = ClusterDocument.Transport(
                messageBytesSent: 0, wireBytesSent: 0, deltaMessageBytesSent: 0, deltaWireBytesSent: 0,
                framesSent: 0, framesReceived: 0, malformedFrames: 0, refusedPeers: 0)
            return ClusterDocument(
                region: region, vector: Self.vector(s, region), peers: s.peers,
                rpoExposureMillis: s.seq == 0 ? 0 : 1_500,
                rpoExposureAmounts: atRisk.keys.sorted().map { .init(currency: $0, amount: atRisk[$0]!) },
                unreplicatedLocalEntries: s.seq, clockProblem: nil, counters: counters, transport: transport,
                stateDigest: withDigest ? SHA256.hex(SHA256.hash(Array("\(s.seq)".utf8))) : nil)
        }
    }

    /// From now on a stream that caught up waits (without time passing) until `releaseFeed()`.
    func holdFeed() { state.withLock { $0.feedHeld = true } }

    /// Streams waiting on the held feed now.
    var streamsWaiting: Int { state.withLock { $0.feedWaiters.count } }

    /// Lets every waiting stream go on, and no longer holds the feed.
    func releaseFeed() {
        let waiters = state.withLock { s in
            s.feedHeld = false
            defer { s.feedWaiters = [] }
            return s.feedWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func unavailableReason() async -> String? { state.withLock { $0.refusal?.description } }

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
}
