import PaymentsWire
import Prometheus
import ReplicaCore

/// What the HTTP API asks of the region behind it. The routes parse and check a
/// request, make one or two of these calls, and write the answer; they know nothing of
/// stores, peers or certificates, and read no wall clock (payment ids and times, key
/// expiry and rate limits included, come from the service; the API only times its own
/// requests).
///
/// A node conforms in the `PaymentsServer` module (`NodePaymentService`); the route tests
/// run on an in-memory one. Refusals are `NodeError`s, which the API maps to statuses;
/// any other error is a 500.
public protocol PaymentService: Sendable {
    /// What the API needs to know of its region's configuration.
    var apiSettings: APISettings { get }
    /// The API keys accepted now, with their hashes, scopes and bounds: read per request,
    /// so a reload applies to the next one. Called on every request: keep it cheap.
    func apiKeys() -> [APIKey]
    /// The region's time now, in milliseconds since 1970: when keys expire, and how fast
    /// their rate limits refill.
    func nowMillis() -> UInt64
    /// A new payment id, for a create without an `Idempotency-Key`.
    func newPaymentID() -> PaymentID

    /// Applies a create or patch; returns once it is durable at `durability` (or `local`
    /// when `remote` timed out: see `WriteAck.achieved`).
    /// `actor` is the id of the key that made the request: it is recorded with the change
    /// and replicated with it, so every region can say who made it.
    func submit(_ command: PaymentCommand, actor: String, durability: Durability) async throws(NodeError) -> WriteAck
    /// The same write, answered through `reply` (on any thread) instead of awaited: what
    /// a connection's event loop calls, which must not wait. By default the async
    /// `submit`, in a task of its own.
    func submit(
        _ command: PaymentCommand, actor: String, durability: Durability,
        reply: @escaping @Sendable (Result<WriteAck, NodeError>) -> Void)
    /// Returns once this region holds everything `token` covers (412 when it does not
    /// in time).
    func waitForSession(_ token: VersionVector) async throws(NodeError)
    /// The payment as committed here, once the session (if any) is served.
    func readPayment(_ id: PaymentID, sessionToken: VersionVector?) async throws(NodeError) -> Payment?
    /// The payment as committed here, as the API's JSON (the body `readPayment`'s payment
    /// is answered with), read at once on the calling thread (a connection's event loop)
    /// when that needs no wait for a connection. Nil when it was not read so: not held
    /// here, no connection free, or the read failed; the caller then asks `readPayment`,
    /// which says which.
    func readPaymentBodyAtOnce(_ id: PaymentID) -> PaymentBody?
    /// A page of the reporting list: payments matching `filter`, newest first, after `cursor`.
    func listPayments(_ filter: PaymentFilter, limit: Int, after cursor: ListCursor?) async throws -> PaymentPage
    /// A page of the conflict log, newest first, below sequence `before`; with
    /// `merchantIDs`, only rows about payments of those merchants (a page may then hold
    /// fewer than `limit` rows and still say more follow).
    func conflicts(limit: Int, before: Int64?, merchantIDs: Set<String>?) async throws -> ConflictLogPage

    /// One payment's changes, oldest first (nil when the region does not hold it whole;
    /// `historyTruncated` when it no longer holds a change the history needs).
    func history(_ id: PaymentID, limit: Int) async throws(NodeError) -> PaymentHistory?

    /// A page of the change feed (`eventCursorTooOld` when the cursor is older than the
    /// region keeps).
    func events(_ query: EventQuery) async throws(NodeError) -> EventPage
    /// The feed's version now: it moves with every commit, and when own changes become
    /// visible.
    func eventsVersion() async throws -> UInt64
    /// The feed's new version once it moves past `version`, or `version` after `timeoutMillis`.
    func waitForEvents(after version: UInt64, timeoutMillis: UInt64) async throws -> UInt64

    /// `/v1/cluster`: replication as this region sees it; the state digest only when asked.
    func cluster(withDigest: Bool) async throws -> ClusterDocument
    /// Why writes are refused, if they are (nil when ready).
    func unavailableReason() async -> String?
    /// What a ready region should still say of itself (`/ready`'s `note`): it writes on a
    /// clock no majority of the cluster has vouched for. Nil by default.
    func readinessNote() async -> String?

    /// The region's metrics registry: the API records its request metrics there and
    /// serves it at `/metrics`.
    var metricsRegistry: PrometheusCollectorRegistry { get }
    /// Brings the gauges read at scrape time up to date, before `/metrics` is written.
    func refreshMetrics() async throws
}

/// The settings the API reads from its region's configuration.
public struct APISettings: Sendable {
    /// The region: `X-Region` on every answer, and in error messages.
    public var region: RegionID
    /// The largest request body taken (larger: 413).
    public var bodyBytesMax: Int
    /// A write's durability when it sends no `X-Durability`.
    public var defaultDurability: Durability
    /// One info line per request.
    public var accessLog: Bool
    /// A server span per request (the tracer is bootstrapped by the process).
    public var tracing: Bool

    public init(
        region: RegionID, bodyBytesMax: Int, defaultDurability: Durability,
        accessLog: Bool = false, tracing: Bool = false
    ) {
        self.region = region
        self.bodyBytesMax = bodyBytesMax
        self.defaultDurability = defaultDurability
        self.accessLog = accessLog
        self.tracing = tracing
    }
}

extension PaymentService {
    /// No note.
    public func readinessNote() async -> String? { nil }

    public func submit(
        _ command: PaymentCommand, actor: String, durability: Durability,
        reply: @escaping @Sendable (Result<WriteAck, NodeError>) -> Void
    ) {
        Task {
            do throws(NodeError) {
                reply(.success(try await submit(command, actor: actor, durability: durability)))
            } catch {
                reply(.failure(error))
            }
        }
    }
}
