// MARK: - Replication status (for /v1/cluster, metrics and the simulator)

/// The link to a peer as the engine sees it: the one view of "connected" the node
/// reports (`/v1/cluster`, `/metrics`).
public enum PeerLinkState: String, Hashable, Sendable {
    /// No connection.
    case down
    /// Connected, waiting for the peer's HELLO.
    case greeting
    /// HELLOs exchanged: replicating.
    case up
    /// This region is closing the connection (the peer broke the protocol).
    case closing
}

/// One peer as this region sees it.
public struct PeerStatus: Hashable, Sendable {
    public let region: RegionID
    public let link: PeerLinkState
    /// The link is up: HELLOs exchanged, entries flow.
    public var connected: Bool { link == .up }
    public let lastContactMillis: UInt64?
    /// What the peer has durably stored.
    public let acked: VersionVector
    /// Entries we hold that the peer has not acked.
    public let unreplicatedEntries: UInt64
    /// Age of the oldest entry we hold that the peer has not acked (0 when none).
    public let lagMillis: UInt64
    /// How far the peer's clock is from ours, when there is a fresh estimate.
    public let clockOffset: ClockOffset?
    /// The peer is streaming this region a snapshot now: this region is catching up from it.
    public let sendingSnapshot: Bool
    /// Records merged from the peer's current snapshot stream (from its last one once that ended).
    public let snapshotRecordsReceived: UInt64
    /// The wire format of the link, while it is open.
    public var linkWire: UInt8? = nil
    /// The newest wire format the peer's binary was last heard to speak, and its release
    /// (nil until heard; a release of format 3 announces none).
    public var speaksWire: UInt8? = nil
    public var release: String? = nil
}

/// This region's replication state at one instant.
public struct ReplicationStatus: Hashable, Sendable {
    public let region: RegionID
    public let vector: VersionVector
    public let peers: [PeerStatus]
    /// Local writes not yet durable in any other region.
    public let unreplicatedLocalEntries: UInt64
    /// Age of the oldest local write not yet durable in any other region: what losing
    /// this region now would cost (the RPO exposure). 0 when everything is replicated.
    public let rpoExposureMillis: UInt64
    /// Why this region takes no writes for its clock (nil when its clock is in bound).
    public let clockProblem: String?
    /// The cluster's active wire format, and what this binary speaks.
    public let wire: WireStatus
    /// Regions retired from the cluster, sorted: what survivors hold of their writes.
    public var retired: [RetiredStatus] = []
    /// Set while this region is being retired: what its peers still lack of its writes.
    public var retirement: RetirementStatus? = nil
    public let counters: EngineCounters
}

extension ReplicationEngine {
    /// The highest seq of this region's own writes that some peer has durably stored:
    /// writes up to it survive the loss of this region.
    var storedElsewhere: UInt64 {
        var most: UInt64 = 0
        for peer in config.peers { most = max(most, peers.withValue(peer) { $0.acked[region] }!) }
        return most
    }

    /// The change feed shows this region's own changes up to this seq: those another
    /// region holds durably (all committed ones when the cluster has no other region),
    /// so losing this region never takes back a change a consumer saw.
    public var ownChangesVisibleThrough: UInt64 {
        config.peers.isEmpty ? durableVector[region] : min(storedElsewhere, durableVector[region])
    }

    /// The replication status at wall time `nowMillis`.
    public func status(nowMillis: UInt64) -> ReplicationStatus {
        let catchingUpFrom = activeSnapshotSource(nowMillis: nowMillis)
        let peerStatuses = config.peers.sorted().map { peer -> PeerStatus in
            let state = peers[peer]!
            var missing: UInt64 = 0
            var oldest: UInt64?
            for origin in durableVector.origins where durableVector[origin] > state.acked[origin] {
                missing += durableVector[origin] - state.acked[origin]
                if let wall = log.wallMillis(of: origin, seq: state.acked[origin] + 1) {
                    oldest = min(oldest ?? wall, wall)
                }
            }
            let lag = oldest.map { nowMillis > $0 ? nowMillis - $0 : 0 } ?? 0
            return PeerStatus(
                region: peer, link: state.link.state, lastContactMillis: state.lastContactMillis,
                acked: state.acked, unreplicatedEntries: missing, lagMillis: lag,
                clockOffset: clockOffset(of: peer, nowMillis: nowMillis),
                sendingSnapshot: catchingUpFrom == peer, snapshotRecordsReceived: state.snapshotRecordsMerged,
                linkWire: state.isOpen ? state.linkWire : nil, speaksWire: wire.speaks[peer],
                release: wire.releases[peer])
        }
        let replicatedElsewhere = storedElsewhere
        let own = durableVector[region]
        var exposure: UInt64 = 0
        if own > replicatedElsewhere, let wall = log.wallMillis(of: region, seq: replicatedElsewhere + 1) {
            exposure = nowMillis > wall ? nowMillis - wall : 0
        }
        var status = ReplicationStatus(
            region: region, vector: durableVector, peers: peerStatuses,
            unreplicatedLocalEntries: own > replicatedElsewhere ? own - replicatedElsewhere : 0,
            rpoExposureMillis: exposure,
            clockProblem: clockProblem(nowMillis: nowMillis), wire: wireStatus, counters: counters)
        status.retired = retiredStatuses
        status.retirement = retiring ? retirement : nil
        return status
    }
}
