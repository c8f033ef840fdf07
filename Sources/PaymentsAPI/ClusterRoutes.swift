import Foundation
import Hummingbird
import PaymentNode
import ReplicaCore

/// `/health`, `/ready` and `/v1/cluster`: is the node up, can it take writes, and how is
/// replication doing (per-peer lag, unreplicated entries, acked vectors, RPO exposure).
struct ClusterRoutes: Sendable {
    let node: ReplicaNode

    func register(on router: Router<BasicRequestContext>) {
        router.get("/health") { _, _ in APIResponses.json(.ok, "{\"status\":\"ok\"}") }
        router.get("/ready") { _, _ in
            if let reason = await node.unavailableReason() {
                throw APIError(.serviceUnavailable, "not_ready", reason)
            }
            return APIResponses.json(.ok, "{\"status\":\"ready\"}")
        }
        router.get("/v1/cluster") { request, _ in
            let digest = request.uri.queryParameters["digest"].map(String.init)
            guard digest == nil || digest == "true" || digest == "false" else {
                throw APIError.invalid("digest", "digest must be true or false")
            }
            let withDigest = digest == "true"
            return APIResponses.json(.ok, try await cluster(digest: withDigest))
        }
    }

    func cluster(digest: Bool) async throws -> String {
        let status = try await node.status()
        let atRisk = try node.moneyAtRisk(status)
        let connected = Set(node.transport.connectedRegions)
        let document = ClusterDocument(
            status: status, atRisk: atRisk, transport: node.transport.stats.snapshot, connected: connected,
            stateDigest: digest ? await node.stateDigest() : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
