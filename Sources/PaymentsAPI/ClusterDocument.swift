import Foundation
import PaymentNode
import ReplicaCore
import ReplicaTransport

/// `/v1/cluster`'s JSON, as types an encoder writes: the region's vector, each peer
/// (connected, last contact, acked vector, lag, unreplicated entries and amounts, clock
/// offset), RPO exposure in seconds and money, the engine's counters and the transport's
/// byte counts. Seconds are decimal numbers with millisecond precision (never floats);
/// amounts are integers in minor units.
struct ClusterDocument: Encodable {
    struct Peer: Encodable {
        let region: String
        let connected: Bool
        let lastContact: String?
        let ackedVector: [String: UInt64]
        let lagSeconds: Decimal
        let unreplicatedEntries: UInt64
        let clockOffsetMs: Int64?
        let clockUncertaintyMs: UInt64?
        let unreplicatedAmounts: [Amount]

        enum CodingKeys: String, CodingKey {
            case region, connected
            case lastContact = "last_contact", ackedVector = "acked_vector", lagSeconds = "lag_seconds"
            case unreplicatedEntries = "unreplicated_entries", clockOffsetMs = "clock_offset_ms"
            case clockUncertaintyMs = "clock_uncertainty_ms", unreplicatedAmounts = "unreplicated_amounts"
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(region, forKey: .region)
            try c.encode(connected, forKey: .connected)
            try c.encode(lastContact, forKey: .lastContact) // null, not absent
            try c.encode(ackedVector, forKey: .ackedVector)
            try c.encode(lagSeconds, forKey: .lagSeconds)
            try c.encode(unreplicatedEntries, forKey: .unreplicatedEntries)
            try c.encode(clockOffsetMs, forKey: .clockOffsetMs)
            try c.encode(clockUncertaintyMs, forKey: .clockUncertaintyMs)
            try c.encode(unreplicatedAmounts, forKey: .unreplicatedAmounts)
        }
    }

    struct Amount: Encodable {
        let currency: String
        let amount: Int64
    }

    struct Counters: Encodable {
        let entries_applied, duplicates_skipped, gaps_skipped, conflicts_detected, batches_sent, retransmits: UInt64
        let snapshots_sent, snapshots_received, snapshot_chunks_declined, protocol_violations: UInt64
        let writes_refused_for_clock, entries_held_for_clock: UInt64
    }

    struct Transport: Encodable {
        let message_bytes_sent, wire_bytes_sent, delta_message_bytes_sent, delta_wire_bytes_sent: UInt64
        let frames_sent, frames_received, malformed_frames, refused_peers: UInt64
    }

    let region: String
    let vector: [String: UInt64]
    let peers: [Peer]
    let rpoExposureSeconds: Decimal
    let rpoExposureAmounts: [Amount]
    let unreplicatedLocalEntries: UInt64
    let clockProblem: String?
    let counters: Counters
    let transport: Transport
    let stateDigest: String?

    enum CodingKeys: String, CodingKey {
        case region, vector, peers, counters, transport
        case rpoExposureSeconds = "rpo_exposure_seconds", rpoExposureAmounts = "rpo_exposure_amounts"
        case unreplicatedLocalEntries = "unreplicated_local_entries", clockProblem = "clock_problem", stateDigest = "state_digest"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(region, forKey: .region)
        try c.encode(vector, forKey: .vector)
        try c.encode(peers, forKey: .peers)
        try c.encode(rpoExposureSeconds, forKey: .rpoExposureSeconds)
        try c.encode(rpoExposureAmounts, forKey: .rpoExposureAmounts)
        try c.encode(unreplicatedLocalEntries, forKey: .unreplicatedLocalEntries)
        try c.encode(clockProblem, forKey: .clockProblem) // null, not absent
        try c.encode(counters, forKey: .counters)
        try c.encode(transport, forKey: .transport)
        try c.encodeIfPresent(stateDigest, forKey: .stateDigest) // only when asked for
    }

    init(status: ReplicationStatus, atRisk: MoneyAtRisk, transport t: TransportStats.Snapshot, connected: Set<RegionID>,
         stateDigest: String?) {
        func amounts(_ list: [(currency: String, minorUnits: Int64)]) -> [Amount] {
            list.map { Amount(currency: $0.currency, amount: $0.minorUnits) }
        }
        region = status.region.name
        vector = Self.object(status.vector)
        peers = status.peers.map { p in
            Peer(region: p.region.name, connected: p.connected && connected.contains(p.region),
                 lastContact: p.lastContactMillis.map(RFC3339.format(millis:)), ackedVector: Self.object(p.acked),
                 lagSeconds: Self.seconds(p.lagMillis), unreplicatedEntries: p.unreplicatedEntries,
                 clockOffsetMs: p.clockOffset.map { Int64($0.offsetMillis) }, clockUncertaintyMs: p.clockOffset.map { UInt64($0.roundTripMillis / 2) },
                 unreplicatedAmounts: amounts(atRisk.perPeer.first { $0.peer == p.region }?.amounts ?? []))
        }
        rpoExposureSeconds = Self.seconds(status.rpoExposureMillis)
        rpoExposureAmounts = amounts(atRisk.total)
        unreplicatedLocalEntries = status.unreplicatedLocalEntries
        clockProblem = status.clockProblem
        let c = status.counters
        counters = Counters(
            entries_applied: c.entriesApplied, duplicates_skipped: c.duplicatesSkipped, gaps_skipped: c.gapsSkipped,
            conflicts_detected: c.conflictsDetected, batches_sent: c.batchesSent, retransmits: c.retransmits,
            snapshots_sent: c.snapshotsCompleted, snapshots_received: c.snapshotsReceived,
            snapshot_chunks_declined: c.snapshotChunksDeclined, protocol_violations: c.protocolViolations,
            writes_refused_for_clock: c.writesRefusedForClock, entries_held_for_clock: c.entriesHeldForClock)
        transport = Transport(
            message_bytes_sent: t.messageBytesSent, wire_bytes_sent: t.wireBytesSent,
            delta_message_bytes_sent: t.deltaMessageBytesSent, delta_wire_bytes_sent: t.deltaWireBytesSent,
            frames_sent: t.framesSent, frames_received: t.framesReceived, malformed_frames: t.malformedFrames,
            refused_peers: t.refusedPeers)
        self.stateDigest = stateDigest
    }

    /// A vector as a JSON object, region to seq.
    static func object(_ v: VersionVector) -> [String: UInt64] {
        Dictionary(uniqueKeysWithValues: v.sortedEntries.map { ($0.origin.name, $0.seq) })
    }

    /// Milliseconds as an exact decimal number of seconds.
    static func seconds(_ millis: UInt64) -> Decimal { Decimal(sign: .plus, exponent: -3, significand: Decimal(millis)) }
}
