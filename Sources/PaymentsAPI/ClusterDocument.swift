import Foundation
import PaymentsWire
import ReplicaCore

/// `/v1/cluster`'s JSON, as values an encoder writes: the region's vector, each peer
/// (connected, last contact, acked vector, lag, unreplicated entries and amounts, clock
/// offset), RPO exposure in seconds and money, the engine's counters and the transport's
/// byte counts. The service fills in milliseconds and minor units; encoding writes
/// seconds as exact decimal numbers (never floats), times in RFC 3339 and amounts as
/// integers.
public struct ClusterDocument: Encodable, Sendable {
    /// One peer as this region sees it.
    public struct Peer: Encodable, Sendable {
        public var region: RegionID
        /// A verified link is up now.
        public var connected: Bool
        public var lastContactMillis: UInt64?
        /// What the peer has acknowledged holding.
        public var acked: VersionVector
        /// Age of the oldest entry the peer has not acknowledged.
        public var lagMillis: UInt64
        public var unreplicatedEntries: UInt64
        /// The peer's clock minus this region's, and half the round trip it was measured over.
        public var clockOffsetMillis: Int64?
        public var clockUncertaintyMillis: UInt64?
        /// Per currency, the payments with a write here the peer does not hold yet.
        public var unreplicatedAmounts: [Amount]
        /// The wire format of the open link; the newest format and the release the peer's
        /// binary was last heard to announce (a release before 0.4.0 announces none: 3, nil).
        public var linkWire: UInt8? = nil
        public var speaksWire: UInt8? = nil
        public var release: String? = nil

        public init(
            region: RegionID, connected: Bool, lastContactMillis: UInt64?, acked: VersionVector, lagMillis: UInt64,
            unreplicatedEntries: UInt64, clockOffsetMillis: Int64?, clockUncertaintyMillis: UInt64?,
            unreplicatedAmounts: [Amount]
        ) {
            self.region = region
            self.connected = connected
            self.lastContactMillis = lastContactMillis
            self.acked = acked
            self.lagMillis = lagMillis
            self.unreplicatedEntries = unreplicatedEntries
            self.clockOffsetMillis = clockOffsetMillis
            self.clockUncertaintyMillis = clockUncertaintyMillis
            self.unreplicatedAmounts = unreplicatedAmounts
        }

        enum CodingKeys: String, CodingKey {
            case region, connected
            case lastContact = "last_contact"
            case ackedVector = "acked_vector"
            case lagSeconds = "lag_seconds"
            case unreplicatedEntries = "unreplicated_entries"
            case clockOffsetMs = "clock_offset_ms"
            case clockUncertaintyMs = "clock_uncertainty_ms"
            case unreplicatedAmounts = "unreplicated_amounts"
            case wire
        }

        enum WireKeys: String, CodingKey {
            case link, speaks, release
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(region.name, forKey: .region)
            try c.encode(connected, forKey: .connected)
            try c.encode(lastContactMillis.map(RFC3339.format(millis:)), forKey: .lastContact)  // null, not absent
            try c.encode(ClusterDocument.object(acked), forKey: .ackedVector)
            try c.encode(ClusterDocument.seconds(lagMillis), forKey: .lagSeconds)
            try c.encode(unreplicatedEntries, forKey: .unreplicatedEntries)
            try c.encode(clockOffsetMillis, forKey: .clockOffsetMs)
            try c.encode(clockUncertaintyMillis, forKey: .clockUncertaintyMs)
            try c.encode(unreplicatedAmounts, forKey: .unreplicatedAmounts)
            var w = c.nestedContainer(keyedBy: WireKeys.self, forKey: .wire)
            try w.encode(linkWire, forKey: .link)  // null, not absent
            try w.encode(speaksWire, forKey: .speaks)
            try w.encode(release, forKey: .release)
        }
    }

    /// An amount of one currency, in minor units.
    public struct Amount: Encodable, Sendable, Hashable {
        public var currency: String
        public var amount: Int64

        public init(currency: String, amount: Int64) {
            self.currency = currency
            self.amount = amount
        }
    }

    /// The engine's counters with the contract's names (`snapshots_sent` is the engine's
    /// completed snapshots).
    struct Counters: Encodable {
        let c: EngineCounters

        func encode(to encoder: Encoder) throws {
            let fields: [(String, UInt64)] = [
                ("entries_applied", c.entriesApplied), ("duplicates_skipped", c.duplicatesSkipped),
                ("gaps_skipped", c.gapsSkipped), ("conflicts_detected", c.conflictsDetected),
                ("batches_sent", c.batchesSent), ("retransmits", c.retransmits),
                ("snapshots_sent", c.snapshotsCompleted), ("snapshots_received", c.snapshotsReceived),
                ("snapshot_chunks_declined", c.snapshotChunksDeclined), ("protocol_violations", c.protocolViolations),
                ("writes_refused_for_clock", c.writesRefusedForClock),
                ("entries_held_for_clock", c.entriesHeldForClock),
                ("wire_format_raised", c.wireFormatRaised), ("links_refused_for_wire", c.linksRefusedForWire),
                ("peers_added", c.peersAdded), ("peers_retired", c.peersRetired),
            ]
            try Dictionary(uniqueKeysWithValues: fields).encode(to: encoder)
        }
    }

    /// The peer links' byte and frame counts.
    public struct Transport: Encodable, Sendable {
        public var messageBytesSent: UInt64
        public var wireBytesSent: UInt64
        public var deltaMessageBytesSent: UInt64
        public var deltaWireBytesSent: UInt64
        public var framesSent: UInt64
        public var framesReceived: UInt64
        public var malformedFrames: UInt64
        public var refusedPeers: UInt64

        public init(
            messageBytesSent: UInt64, wireBytesSent: UInt64, deltaMessageBytesSent: UInt64, deltaWireBytesSent: UInt64,
            framesSent: UInt64, framesReceived: UInt64, malformedFrames: UInt64, refusedPeers: UInt64
        ) {
            self.messageBytesSent = messageBytesSent
            self.wireBytesSent = wireBytesSent
            self.deltaMessageBytesSent = deltaMessageBytesSent
            self.deltaWireBytesSent = deltaWireBytesSent
            self.framesSent = framesSent
            self.framesReceived = framesReceived
            self.malformedFrames = malformedFrames
            self.refusedPeers = refusedPeers
        }

        enum CodingKeys: String, CodingKey {
            case messageBytesSent = "message_bytes_sent"
            case wireBytesSent = "wire_bytes_sent"
            case deltaMessageBytesSent = "delta_message_bytes_sent"
            case deltaWireBytesSent = "delta_wire_bytes_sent"
            case framesSent = "frames_sent"
            case framesReceived = "frames_received"
            case malformedFrames = "malformed_frames"
            case refusedPeers = "refused_peers"
        }
    }

    public var region: RegionID
    public var vector: VersionVector
    public var peers: [Peer]
    /// Age of the oldest local write no other region holds yet.
    public var rpoExposureMillis: UInt64
    /// Per currency, the payments with a write here no other region holds yet.
    public var rpoExposureAmounts: [Amount]
    /// How long ago the amounts (these and each peer's) were read: 0 when they are of the
    /// store as it is now.
    public var rpoExposureAmountsAgeMillis: UInt64 = 0
    public var unreplicatedLocalEntries: UInt64
    /// Why this region's clock is out of bound (it refuses writes), if it is.
    public var clockProblem: String?
    public var counters: EngineCounters
    public var transport: Transport
    /// `StateDigest` of the committed records, when asked for.
    public var stateDigest: String?
    /// The cluster's active wire format, what this region's binary speaks, and the peers
    /// not yet heard to speak its newest format (what holds the gate).
    public var wire = WireStatus(
        speaks: WireVersion.supported, release: WireVersion.release, active: WireVersion.current, awaiting: [])
    /// Regions retired from the cluster: what each was last heard to hold, what the
    /// survivors hold, and the difference (the writes its loss cost; 0 after a drain).
    public var retired: [RetiredStatus] = []

    public init(
        region: RegionID, vector: VersionVector, peers: [Peer], rpoExposureMillis: UInt64, rpoExposureAmounts: [Amount],
        unreplicatedLocalEntries: UInt64, clockProblem: String?, counters: EngineCounters, transport: Transport,
        stateDigest: String?
    ) {
        self.region = region
        self.vector = vector
        self.peers = peers
        self.rpoExposureMillis = rpoExposureMillis
        self.rpoExposureAmounts = rpoExposureAmounts
        self.unreplicatedLocalEntries = unreplicatedLocalEntries
        self.clockProblem = clockProblem
        self.counters = counters
        self.transport = transport
        self.stateDigest = stateDigest
    }

    enum CodingKeys: String, CodingKey {
        case region, vector, peers, counters, transport
        case rpoExposureSeconds = "rpo_exposure_seconds"
        case rpoExposureAmounts = "rpo_exposure_amounts"
        case rpoExposureAmountsAgeSeconds = "rpo_exposure_amounts_age_seconds"
        case unreplicatedLocalEntries = "unreplicated_local_entries"
        case clockProblem = "clock_problem"
        case stateDigest = "state_digest"
        case wire, retired
    }

    enum WireKeys: String, CodingKey {
        case active, speaks, release, awaiting
    }

    enum RetiredKeys: String, CodingKey {
        case region
        case lastHeardSeq = "last_heard_seq"
        case heldSeq = "held_seq"
        case lostEntries = "lost_entries"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(region.name, forKey: .region)
        try c.encode(Self.object(vector), forKey: .vector)
        try c.encode(peers, forKey: .peers)
        try c.encode(Self.seconds(rpoExposureMillis), forKey: .rpoExposureSeconds)
        try c.encode(rpoExposureAmounts, forKey: .rpoExposureAmounts)
        try c.encode(Self.seconds(rpoExposureAmountsAgeMillis), forKey: .rpoExposureAmountsAgeSeconds)
        try c.encode(unreplicatedLocalEntries, forKey: .unreplicatedLocalEntries)
        try c.encode(clockProblem, forKey: .clockProblem)  // null, not absent
        try c.encode(Counters(c: counters), forKey: .counters)
        try c.encode(transport, forKey: .transport)
        var w = c.nestedContainer(keyedBy: WireKeys.self, forKey: .wire)
        try w.encode(wire.active, forKey: .active)
        try w.encode(Array(wire.speaks), forKey: .speaks)
        try w.encode(wire.release, forKey: .release)
        try w.encode(wire.awaiting.map { $0.name }, forKey: .awaiting)
        var r = c.nestedUnkeyedContainer(forKey: .retired)
        for g in retired {
            var one = r.nestedContainer(keyedBy: RetiredKeys.self)
            try one.encode(g.region.name, forKey: .region)
            try one.encode(g.lastHeard, forKey: .lastHeardSeq)
            try one.encode(g.heldBySurvivors, forKey: .heldSeq)
            try one.encode(g.lostEntries, forKey: .lostEntries)
        }
        try c.encodeIfPresent(stateDigest, forKey: .stateDigest)  // only when asked for
    }

    /// A vector as a JSON object, region to seq.
    static func object(_ v: VersionVector) -> [String: UInt64] {
        Dictionary(uniqueKeysWithValues: v.sortedEntries.map { ($0.origin.name, $0.seq) })
    }

    /// Milliseconds as an exact decimal number of seconds.
    static func seconds(_ millis: UInt64) -> Decimal {
        Decimal(sign: .plus, exponent: -3, significand: Decimal(millis))
    }
}
