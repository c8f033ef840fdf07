import PaymentNode
import PaymentsAPI
import ReplicaCore
import ReplicaTransport

extension ClusterDocument {
    /// The document for a node's replication `status`, the money it puts at risk, its
    /// transport's counts, and the peers whose links are up now.
    init(status: ReplicationStatus, atRisk: MoneyAtRisk, transport t: TransportStats.Snapshot, connected: Set<RegionID>,
         stateDigest: String?) {
        func amounts(_ list: [(currency: String, minorUnits: Int64)]) -> [Amount] {
            list.map { Amount(currency: $0.currency, amount: $0.minorUnits) }
        }
        let peers = status.peers.map { p in
            Peer(region: p.region, connected: p.connected && connected.contains(p.region), lastContactMillis: p.lastContactMillis,
                 acked: p.acked, lagMillis: p.lagMillis, unreplicatedEntries: p.unreplicatedEntries,
                 clockOffsetMillis: p.clockOffset.map { Int64($0.offsetMillis) },
                 clockUncertaintyMillis: p.clockOffset.map { UInt64($0.roundTripMillis / 2) },
                 unreplicatedAmounts: amounts(atRisk.perPeer.first { $0.peer == p.region }?.amounts ?? []))
        }
        let c = status.counters
        self.init(
            region: status.region, vector: status.vector, peers: peers, rpoExposureMillis: status.rpoExposureMillis,
            rpoExposureAmounts: amounts(atRisk.total), unreplicatedLocalEntries: status.unreplicatedLocalEntries,
            clockProblem: status.clockProblem,
            counters: Counters(
                entries_applied: c.entriesApplied, duplicates_skipped: c.duplicatesSkipped, gaps_skipped: c.gapsSkipped,
                conflicts_detected: c.conflictsDetected, batches_sent: c.batchesSent, retransmits: c.retransmits,
                snapshots_sent: c.snapshotsCompleted, snapshots_received: c.snapshotsReceived,
                snapshot_chunks_declined: c.snapshotChunksDeclined, protocol_violations: c.protocolViolations,
                writes_refused_for_clock: c.writesRefusedForClock, entries_held_for_clock: c.entriesHeldForClock),
            transport: Transport(
                message_bytes_sent: t.messageBytesSent, wire_bytes_sent: t.wireBytesSent,
                delta_message_bytes_sent: t.deltaMessageBytesSent, delta_wire_bytes_sent: t.deltaWireBytesSent,
                frames_sent: t.framesSent, frames_received: t.framesReceived, malformed_frames: t.malformedFrames,
                refused_peers: t.refusedPeers),
            stateDigest: stateDigest)
    }
}
