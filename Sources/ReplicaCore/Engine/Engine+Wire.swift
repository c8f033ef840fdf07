// MARK: - Wire formats: what each link runs, and the gate on format 4's features

/// What a region knows of the wire formats in its cluster: the format the cluster has
/// turned on (`active`, recorded in the store, never lowered) and, per peer, the newest
/// format that peer's binary speaks, as heard from the peer itself.
struct WireState: Sendable {
    var active: UInt8
    /// Peers' newest format, from their own HELLO (format 3's HELLO: 3). Kept in the
    /// store, so a region remembers what a peer that is down now announced.
    var speaks: [RegionID: UInt8]
    /// Peers' release names (format 4's HELLO), for status; not kept.
    var releases: [RegionID: String] = [:]
    /// The state changed since the store last got it.
    var unrecorded = false
}

/// What the store keeps of the wire state: the active format and each peer's newest.
public struct WireRecord: Hashable, Sendable {
    /// A peer's newest format, as it announced it.
    public struct Speaks: Hashable, Sendable {
        public var region: RegionID
        public var version: UInt8

        public init(region: RegionID, version: UInt8) {
            self.region = region
            self.version = version
        }
    }

    public var active: UInt8
    /// Sorted by region.
    public var speaks: [Speaks]

    public init(active: UInt8, speaks: [Speaks]) {
        self.active = active
        self.speaks = speaks
    }
}

/// The wire formats as status shows them.
public struct WireStatus: Hashable, Sendable {
    /// The formats this region's binary speaks, and its release.
    public let speaks: ClosedRange<UInt8>
    public let release: String
    /// The format the cluster has turned on (every region announced a binary speaking it).
    public let active: UInt8
    /// Peers not yet heard to speak the newest format this binary speaks (what holds the
    /// gate), sorted. Empty once it is on.
    public let awaiting: [RegionID]

    public init(speaks: ClosedRange<UInt8>, release: String, active: UInt8, awaiting: [RegionID]) {
        self.speaks = speaks
        self.release = release
        self.active = active
        self.awaiting = awaiting
    }
}

extension ReplicationEngine {
    /// The format the cluster has turned on.
    public var wireActive: UInt8 { wire.active }

    /// The wire state for status.
    public var wireStatus: WireStatus {
        let own = config.wireVersions.upperBound
        let awaiting =
            wire.active >= own ? [] : config.peers.sorted().filter { (wire.speaks[$0] ?? 0) < own }
        return WireStatus(
            speaks: config.wireVersions, release: config.release, active: wire.active, awaiting: awaiting)
    }

    /// The HELLO this region sends on a link of format `linkWire`.
    func hello(linkWire: UInt8) -> PeerMessage {
        let announcement =
            linkWire >= 4
            ? WireAnnouncement(speaks: config.wireVersions, active: wire.active, release: config.release) : nil
        return .hello(region: region, vector: durableVector, wire: announcement)
    }

    /// Why a link of format `linkWire` to `peer` is refused (nil when it may run).
    func wireRefusal(_ linkWire: UInt8, peer: RegionID) -> String? {
        guard config.wireVersions.contains(linkWire) else {
            return
                "the link to \(peer) runs wire format \(linkWire), which this binary does not speak (\(config.wireVersions.lowerBound)-\(config.wireVersions.upperBound))"
        }
        guard linkWire >= wire.active else {
            return
                "\(peer) speaks wire format \(linkWire) at most, and this cluster has turned on format \(wire.active) (every region announced it): start \(peer) with this release or a newer one; a cluster does not go back to an older release"
        }
        return nil
    }

    /// A peer's HELLO on a link of format `linkWire`: note what its binary speaks, adopt
    /// the active format it reports, and turn the gate on when every region speaks more.
    mutating func noteWire(_ announcement: WireAnnouncement?, from peer: RegionID, linkWire: UInt8)
        -> [EngineDirective]
    {
        let newest = announcement?.speaks.upperBound ?? linkWire
        if wire.speaks[peer] != newest {
            wire.speaks[peer] = newest
            wire.unrecorded = true
        }
        wire.releases[peer] = announcement?.release
        return adoptActive(announcement?.active ?? 0) + turnGateOnIfEveryRegionSpeaks()
    }

    /// A peer reports the cluster's active format (its HELLO or PING): a format it turned
    /// on, having heard every region announce it. Taken when this binary speaks it and no
    /// peer is known to speak less: a peer's word cannot cut off a region this one has
    /// heard on an older release (a region added with plain `paynode init` to a cluster
    /// still being upgraded announces the newest format as active).
    mutating func adoptActive(_ theirs: UInt8) -> [EngineDirective] {
        guard theirs > wire.active, config.wireVersions.contains(theirs) else { return [] }
        guard !config.peers.contains(where: { (wire.speaks[$0] ?? theirs) < theirs }) else { return [] }
        return raiseActive(to: theirs)
    }

    /// Turns on the newest format this binary speaks once every peer has announced it.
    /// (What peers speak is recorded with the next commit; only a raise commits at once.)
    mutating func turnGateOnIfEveryRegionSpeaks() -> [EngineDirective] {
        var target = config.wireVersions.upperBound
        for peer in config.peers {
            guard let theirs = wire.speaks[peer] else { return [] }
            target = min(target, theirs)
        }
        guard target > wire.active, config.wireVersions.contains(target) else { return [] }
        return raiseActive(to: target)
    }

    /// Raises the active format: recorded in the store (with or before the first entry it
    /// shapes), and links that run an older one are closed.
    mutating func raiseActive(to version: UInt8) -> [EngineDirective] {
        wire.active = version
        wire.unrecorded = true
        counters.wireFormatRaised += 1
        // Committed before any entry it shapes can be: a local write with an actor is
        // never in a store that does not also hold the raise (and a peer's entry with one
        // raises the receiver first: `receiveDelta`).
        var directives: [EngineDirective] = [
            .persist(makePersist(entries: [], records: [], conflicts: [], localWrites: [], ackPeer: nil))
        ]
        for peer in config.peers.sorted() {
            guard let state = peers[peer], state.isOpen, let linkWire = state.linkWire, linkWire < version else {
                continue
            }
            peers[peer]!.link = .closing
            directives.append(.disconnect(peer, reason: wireRefusal(linkWire, peer: peer)!))
        }
        return directives
    }

    /// The wire state for a persist request (nil when unchanged), marked recorded.
    mutating func takeUnrecordedWire() -> WireRecord? {
        guard wire.unrecorded else { return nil }
        wire.unrecorded = false
        return WireRecord(
            active: wire.active,
            speaks: wire.speaks.keys.sorted().map { WireRecord.Speaks(region: $0, version: wire.speaks[$0]!) })
    }
}
