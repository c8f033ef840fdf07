import Foundation
import PaymentNode
import PaymentsAPI
import PaymentsWire
import Prometheus
import ReplicaCore
import ReplicaStore

/// A region's `ReplicaNode` as the API's `PaymentService`: writes and reads go through
/// the node's shell, the list and conflict log to its store's readers, and `/metrics`
/// and `/v1/cluster` read the node's status, store and transport. Make one per node
/// (`NodeServer.router` does): its metrics add the node's totals to counters as they
/// grow, so two would count them twice.
public struct NodePaymentService: PaymentService {
    public let node: ReplicaNode
    let metrics: ReplicationMetrics
    let keys = APIKeyCache()

    public init(node: ReplicaNode) {
        self.node = node
        metrics = ReplicationMetrics(node: node, registry: node.metrics)
    }

    public var apiSettings: APISettings {
        let config = node.config
        return APISettings(
            region: config.region, bodyBytesMax: config.bodyBytesMax, defaultDurability: config.defaultDurability,
            accessLog: config.accessLog, tracing: config.tracing != nil)
    }

    public func apiKeys() -> [APIKey] { keys.keys(for: node.credentials.current.apiKeys) }

    public func nowMillis() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1_000)) }

    /// Time-ordered: the wall clock's milliseconds, then 80 random bits.
    public func newPaymentID() -> PaymentID {
        PaymentID.generated(
            wallMillis: UInt64(Date().timeIntervalSince1970 * 1_000),
            entropy: (UInt64.random(in: .min ... .max), UInt16.random(in: .min ... .max)))
    }

    public func submit(
        _ command: PaymentCommand, actor: String, durability: Durability
    ) async throws(NodeError) -> WriteAck {
        try await node.submit(command, actor: actor, durability: durability)
    }

    public func submit(
        _ command: PaymentCommand, actor: String, durability: Durability,
        reply: @escaping @Sendable (Result<WriteAck, NodeError>) -> Void
    ) {
        node.submit(command, actor: actor, durability: durability, reply: reply)
    }

    public func waitForSession(_ token: VersionVector) async throws(NodeError) { try await node.waitForSession(token) }

    public func readPayment(_ id: PaymentID, sessionToken: VersionVector?) async throws(NodeError) -> Payment? {
        try await node.readPayment(id, sessionToken: sessionToken)
    }

    public func readPaymentBodyAtOnce(_ id: PaymentID) -> PaymentBody? { node.readPaymentBodyAtOnce(id) }

    public func listPayments(_ filter: PaymentFilter, limit: Int, after cursor: ListCursor?) async throws -> PaymentPage
    {
        try await node.read { try $0.list(filter, limit: limit, cursor: cursor) }
    }

    public func conflicts(limit: Int, before: Int64?, merchantIDs: Set<String>?) async throws -> ConflictLogPage {
        try await node.read { try $0.conflicts(limit: limit, before: before, merchantIDs: merchantIDs) }
    }

    public func events(_ query: EventQuery) async throws(NodeError) -> EventPage { try await node.events(query) }

    public func history(_ id: PaymentID, limit: Int) async throws(NodeError) -> PaymentHistory? {
        try await node.history(id, limit: limit)
    }

    public func eventsVersion() async throws -> UInt64 { try await node.eventsVersion() }

    public func waitForEvents(after version: UInt64, timeoutMillis: UInt64) async throws -> UInt64 {
        try await node.waitForEvents(after: version, timeoutMillis: timeoutMillis)
    }

    public func cluster(withDigest: Bool) async throws -> ClusterDocument {
        let status = try await node.status()
        return ClusterDocument(
            status: status, atRisk: try await node.moneyAtRisk(status), transport: node.transport.stats.snapshot,
            stateDigest: withDigest ? await node.stateDigest() : nil)
    }

    public func unavailableReason() async -> String? { await node.unavailableReason() }
    public func readinessNote() async -> String? { await node.readinessNote() }

    public var metricsRegistry: PrometheusCollectorRegistry { node.metrics }

    public func refreshMetrics() async throws { try await metrics.update() }
}
