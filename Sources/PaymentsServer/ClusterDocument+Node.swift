import PaymentNode
import PaymentsAPI
import ReplicaCore
import ReplicaTransport

extension ClusterDocument {
    /// The document for a node's replication `status` (whose links are up is the
    /// engine's view, the one `/metrics` shows too), the money it puts at risk, and its
    /// transport's counts.
    init(status: ReplicationStatus, atRisk: MoneyAtRisk, transport t: TransportStats.Snapshot, stateDigest: String?) {
        func amounts(_ list: [(currency: String, minorUnits: Int64)]) -> [Amount] {
            list.map { Amount(currency: $0.currency, amount: $0.minorUnits) }
        }
        let peers = status.peers.map { p in
            var peer = Peer(
                region: p.region, connected: p.connected,
                lastContactMillis: p.lastContactMillis,
                acked: p.acked, lagMillis: p.lagMillis, unreplicatedEntries: p.unreplicatedEntries,
                clockOffsetMillis: p.clockOffset.map { Int64($0.offsetMillis) },
                clockUncertaintyMillis: p.clockOffset.map { UInt64($0.roundTripMillis / 2) },
                unreplicatedAmounts: amounts(atRisk.perPeer.first { $0.peer == p.region }?.amounts ?? []))
            peer.linkWire = p.linkWire
            peer.speaksWire = p.speaksWire
            peer.release = p.release
            return peer
        }
        self.init(
            region: status.region, vector: status.vector, peers: peers, rpoExposureMillis: status.rpoExposureMillis,
            rpoExposureAmounts: amounts(atRisk.total), unreplicatedLocalEntries: status.unreplicatedLocalEntries,
            clockProblem: status.clockProblem,
            counters: status.counters,
            transport: Transport(
                messageBytesSent: t.messageBytesSent, wireBytesSent: t.wireBytesSent,
                deltaMessageBytesSent: t.deltaMessageBytesSent, deltaWireBytesSent: t.deltaWireBytesSent,
                framesSent: t.framesSent, framesReceived: t.framesReceived, malformedFrames: t.malformedFrames,
                refusedPeers: t.refusedPeers),
            stateDigest: stateDigest)
        rpoExposureAmountsAgeMillis = atRisk.ageMillis
        wire = status.wire
        retired = status.retired
    }
}
