import Foundation
import Hummingbird
import PaymentsWire
import ReplicaCore

/// `/health`, `/ready` and `/v1/cluster`: is the server up, can the region take writes, and how is
/// replication doing (per-peer lag, unreplicated entries, acked vectors, RPO exposure).
/// `/v1/cluster` needs `cluster:read`; it shows region-wide figures (amounts at risk are
/// totals per currency), so merchant bounds do not narrow it.
struct ClusterRoutes<Service: PaymentService>: Sendable {
    let service: Service

    func register(on router: RouteRegistrar) {
        router.open(.get, "/health") { _, _ in APIResponses.json(.ok, "{\"status\":\"ok\"}") }
        router.open(.get, "/ready") { _, _ in
            if let reason = await service.unavailableReason() {
                throw APIError(.serviceUnavailable, "not_ready", reason)
            }
            // Ready, with what an operator should still know (a clock no majority vouched for).
            guard let note = await service.readinessNote() else {
                return APIResponses.json(.ok, "{\"status\":\"ready\"}")
            }
            return APIResponses.json(.ok, "{\"status\":\"ready\",\"note\":\(JSONString.quote(note))}")
        }
        router.get("/v1/cluster", scope: .clusterRead) { request, _, _ in
            let digest = request.uri.queryParameters["digest"].map(String.init)
            guard digest == nil || digest == "true" || digest == "false" else {
                throw APIError.invalid("digest", "digest must be true or false")
            }
            let withDigest = digest == "true"
            return APIResponses.json(.ok, try await cluster(digest: withDigest))
        }
    }

    func cluster(digest: Bool) async throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(try await service.cluster(withDigest: digest)), as: UTF8.self)
    }
}
