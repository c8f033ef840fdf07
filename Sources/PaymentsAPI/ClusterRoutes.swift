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
        let t = node.transport.stats.snapshot
        let connected = Set(node.transport.connectedRegions)
        let peers = status.peers.map { p in
            "{\"region\":\(JSONString.quote(p.region.name)),\"connected\":\(p.connected && connected.contains(p.region))"
                + ",\"last_contact\":\(p.lastContactMillis.map { "\"\(RFC3339.format(millis: $0))\"" } ?? "null")"
                + ",\"acked_vector\":\(PaymentJSON.vector(p.acked))"
                + ",\"lag_seconds\":\(seconds(p.lagMillis)),\"unreplicated_entries\":\(p.unreplicatedEntries)"
                + ",\"clock_offset_ms\":\(p.clockOffset.map { "\($0.offsetMillis)" } ?? "null")"
                + ",\"clock_uncertainty_ms\":\(p.clockOffset.map { "\($0.roundTripMillis / 2)" } ?? "null")"
                + ",\"unreplicated_amounts\":\(amounts(atRisk.perPeer.first { $0.peer == p.region }?.amounts ?? []))}"
        }
        var s = "{\"region\":\(JSONString.quote(status.region.name)),\"vector\":\(PaymentJSON.vector(status.vector))"
        s += ",\"peers\":[\(peers.joined(separator: ","))]"
        s += ",\"rpo_exposure_seconds\":\(seconds(status.rpoExposureMillis))"
        s += ",\"rpo_exposure_amounts\":\(amounts(atRisk.total))"
        s += ",\"unreplicated_local_entries\":\(status.unreplicatedLocalEntries)"
        s += ",\"clock_problem\":\(status.clockProblem.map(JSONString.quote) ?? "null")"
        let c = status.counters
        s += ",\"counters\":{\"entries_applied\":\(c.entriesApplied),\"duplicates_skipped\":\(c.duplicatesSkipped)"
        s += ",\"gaps_skipped\":\(c.gapsSkipped),\"conflicts_detected\":\(c.conflictsDetected)"
        s += ",\"batches_sent\":\(c.batchesSent),\"retransmits\":\(c.retransmits),\"snapshots_sent\":\(c.snapshotsCompleted)"
        s += ",\"snapshots_received\":\(c.snapshotsReceived),\"snapshot_chunks_declined\":\(c.snapshotChunksDeclined)"
        s += ",\"protocol_violations\":\(c.protocolViolations)"
        s += ",\"writes_refused_for_clock\":\(c.writesRefusedForClock),\"entries_held_for_clock\":\(c.entriesHeldForClock)}"
        s += ",\"transport\":{\"message_bytes_sent\":\(t.messageBytesSent),\"wire_bytes_sent\":\(t.wireBytesSent)"
        s += ",\"delta_message_bytes_sent\":\(t.deltaMessageBytesSent),\"delta_wire_bytes_sent\":\(t.deltaWireBytesSent)"
        s += ",\"frames_sent\":\(t.framesSent),\"frames_received\":\(t.framesReceived)"
        s += ",\"malformed_frames\":\(t.malformedFrames),\"refused_peers\":\(t.refusedPeers)}"
        if digest { s += ",\"state_digest\":\(JSONString.quote(await node.stateDigest()))" }
        return s + "}"
    }

    /// `[{"currency":"EUR","amount":1250},…]`.
    private func amounts(_ list: [(currency: String, minorUnits: Int64)]) -> String {
        "[" + list.map { "{\"currency\":\(JSONString.quote($0.currency)),\"amount\":\($0.minorUnits)}" }.joined(separator: ",") + "]"
    }

    /// Milliseconds as a JSON number of seconds with millisecond precision (integers only).
    private func seconds(_ millis: UInt64) -> String {
        let frac = String(millis % 1_000)
        return "\(millis / 1_000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }
}
