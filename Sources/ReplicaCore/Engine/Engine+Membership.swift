// MARK: - Membership: a region added while the cluster serves

extension ReplicationEngine {
    /// `region` has joined the cluster (the operator added it to this region's config):
    /// from now on it is a peer like the others. Nothing it holds is assumed: its first
    /// HELLO says what it has (an empty store: everything from the log's start, or a
    /// snapshot when the log no longer goes back that far). Vectors and change-feed
    /// cursors grow by its origin without a reset. Adding a region already known, or this
    /// region itself, changes nothing.
    ///
    /// The clock fence counts it at once: a majority of a larger cluster is needed to
    /// vouch for this region's clock, so add a region when the others are up.
    public mutating func addPeer(_ peer: RegionID, nowMillis: UInt64) -> [EngineDirective] {
        guard peer != region, peers[peer] == nil else { return [] }
        config.peers.append(peer)
        peers[peer] = PeerState(acked: VersionVector(), clockWaitSinceMillis: nowMillis)
        counters.peersAdded += 1
        return []
    }
}
