// MARK: - Membership: regions added and retired while the cluster serves

/// A region that left the cluster. Its writes stay valid forever: its origin stays in
/// vectors, stamps and change-feed cursors, and entries of it that one survivor holds
/// still reach the others. It is never dialed, awaited, counted by the clock fence or the
/// wire gate, or shown as lagging again, and its name is never a peer's again.
public struct RetiredRegion: Hashable, Sendable {
    public let region: RegionID
    /// The most of its own writes it was heard to hold (its HELLO, ACK or PING), by this
    /// region, before it was retired here (0: never heard by this region).
    public var lastHeard: UInt64

    public init(region: RegionID, lastHeard: UInt64) {
        self.region = region
        self.lastHeard = lastHeard
    }
}

/// What the store keeps of membership: the retired regions (with what each was last heard
/// to hold), and whether this region itself was retired (its store serves no more).
public struct MembershipRecord: Hashable, Sendable {
    /// Sorted by region.
    public var retired: [RetiredRegion]
    public var selfRetired: Bool

    public init(retired: [RetiredRegion], selfRetired: Bool) {
        self.retired = retired
        self.selfRetired = selfRetired
    }
}

/// A retired region as status shows it: what a survivor knows of its writes.
public struct RetiredStatus: Hashable, Sendable {
    public let region: RegionID
    /// The most of its writes it was last heard to hold.
    public let lastHeard: UInt64
    /// The most of its writes this region or a connected peer holds.
    public let heldBySurvivors: UInt64
    /// Writes it was heard to hold that no surviving region is known to hold: the data
    /// its loss cost (0 after a drain). A lower bound: it may have written more after it
    /// was last heard.
    public var lostEntries: UInt64 { lastHeard > heldBySurvivors ? lastHeard - heldBySurvivors : 0 }
}

/// Where a region that is being retired stands.
public struct RetirementStatus: Hashable, Sendable {
    /// What one peer still lacks of this region's writes.
    public struct Shortfall: Hashable, Sendable {
        public let region: RegionID
        public let entries: UInt64
    }

    /// This region's own writes, those still in their commit included.
    public let ownWrites: UInt64
    /// Per peer (sorted by region), how many of them it does not yet hold.
    public let missing: [Shortfall]
    /// Every peer holds every write this region made: it may leave.
    public var drained: Bool { missing.allSatisfy { $0.entries == 0 } }
}

extension ReplicationEngine {
    /// `region` has joined the cluster (the operator added it to this region's config):
    /// from now on it is a peer like the others. Nothing it holds is assumed: its first
    /// HELLO says what it has (an empty store: everything from the log's start, or a
    /// snapshot when the log no longer goes back that far). Vectors and change-feed
    /// cursors grow by its origin without a reset. Adding a region already known, this
    /// region itself, or a retired region (whose name is never reused) changes nothing.
    ///
    /// The clock fence counts it at once: a majority of a larger cluster is needed to
    /// vouch for this region's clock, so add a region when the others are up.
    public mutating func addPeer(_ peer: RegionID, nowMillis: UInt64) -> [EngineDirective] {
        guard peer != region, peers[peer] == nil, retired[peer] == nil else { return [] }
        config.peers.append(peer)
        peers[peer] = PeerState(acked: VersionVector(), clockWaitSinceMillis: nowMillis)
        counters.peersAdded += 1
        return []
    }

    /// `peer` has left the cluster (drained by `paynode decommission`, or lost for good):
    /// its link closes, it is no longer dialed or waited for (own history, clock fence,
    /// wire gate, `remote` writes, log compaction), and what it was last heard to hold is
    /// kept, so status can say how many of its writes no survivor holds. Recorded in the
    /// store with the next commit; a region already retired, or not a peer, changes
    /// nothing.
    public mutating func retirePeer(_ peer: RegionID, nowMillis: UInt64) -> [EngineDirective] {
        guard let state = peers[peer], retired[peer] == nil else { return [] }
        var directives: [EngineDirective] = []
        if state.link.state != .down { directives.append(.disconnect(peer, reason: "\(peer) was retired")) }
        peers[peer] = nil
        config.peers.removeAll { $0 == peer }
        config.retired.append(peer)
        retired[peer] = max(state.acked[peer], vector[peer])
        membershipUnrecorded = true
        counters.peersRetired += 1
        if snapshotSource?.peer == peer { snapshotSource = nil }
        ownHistoryAwaited.remove(peer)
        wire.speaks[peer] = nil
        wire.releases[peer] = nil
        wire.unrecorded = true
        directives += turnGateOnIfEveryRegionSpeaks()
        // Recorded now, not with the next write: a restart must not dial it again.
        directives.append(.persist(makePersist(entries: [], records: [], conflicts: [], localWrites: [], ackPeer: nil)))
        directives += releaseRemoteWrites(nowMillis: nowMillis)
        directives += compactLog()
        return directives
    }

    /// This region is being retired: it takes no client write from now on (503, clients
    /// go to another region) and keeps replicating until every peer holds all it wrote
    /// (`retirement`).
    public mutating func beginRetirement() { retiring = true }

    /// Whether this region takes no client writes because it is being (or was) retired.
    public var isRetiring: Bool { retiring }

    /// What this region's peers still lack of its own writes: every one it applied, those
    /// still in their commit included (a peer acknowledges only committed ones, so a write
    /// taken just before the retirement began keeps it from being drained until then).
    public var retirement: RetirementStatus {
        let own = vector[region]
        return RetirementStatus(
            ownWrites: own,
            missing: config.peers.sorted().map { p in
                let held = peers[p]!.acked[region]
                return RetirementStatus.Shortfall(region: p, entries: own > held ? own - held : 0)
            })
    }

    /// Records that this region has left: the store serves no more (a node refuses to
    /// start on it). Only once drained; returns nothing before.
    public mutating func finishRetirement() -> [EngineDirective] {
        guard retiring, retirement.drained else { return [] }
        selfRetired = true
        membershipUnrecorded = true
        return [.persist(makePersist(entries: [], records: [], conflicts: [], localWrites: [], ackPeer: nil))]
    }

    /// The retired regions as status shows them, sorted.
    var retiredStatuses: [RetiredStatus] {
        retired.keys.sorted().map { r in
            let held = config.peers.reduce(vector[r]) { Swift.max($0, peers[$1]!.acked[r]) }
            return RetiredStatus(region: r, lastHeard: retired[r]!, heldBySurvivors: held)
        }
    }

    /// The membership for a persist request (nil when unchanged), marked recorded.
    mutating func takeUnrecordedMembership() -> MembershipRecord? {
        guard membershipUnrecorded else { return nil }
        membershipUnrecorded = false
        return MembershipRecord(
            retired: retired.keys.sorted().map { RetiredRegion(region: $0, lastHeard: retired[$0]!) },
            selfRetired: selfRetired)
    }
}
