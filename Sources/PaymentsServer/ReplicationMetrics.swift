import Foundation
import NIOConcurrencyHelpers
import PaymentNode
import Prometheus
import ReplicaCore

/// `/metrics`: the node's replication state in Prometheus text format (swift-prometheus),
/// read fresh at each scrape, in the node's own registry beside the HTTP request metrics
/// `HTTPRequestMetrics` records there.
///
/// Names: `paynode_replication_lag_seconds{peer}`, `paynode_unreplicated_entries{peer}`,
/// `paynode_peer_connected{peer}`, `paynode_peer_clock_offset_seconds{peer}`, `paynode_clock_in_bound`, `paynode_rpo_exposure_seconds`,
/// `paynode_unreplicated_local_entries`, `paynode_wire_format_active`,
/// `paynode_wire_format_awaiting_peers`, `paynode_peer_message_bytes_total` (before LZ4),
/// `paynode_peer_wire_bytes_total` (after), `paynode_conflicts_total`,
/// `paynode_peer_refused_total`, `paynode_peer_malformed_frames_total`,
/// `paynode_retransmits_total`, `paynode_protocol_violations_total`,
/// `paynode_writes_refused_clock_total`, `paynode_writes_refused_clock_unverified_total`,
/// `paynode_clock_steps_total`, `paynode_entries_held_clock_total`,
/// `paynode_snapshots_sent_total`, `paynode_snapshots_received_total`,
/// `paynode_snapshot_records_received_total`, `paynode_catch_up_in_progress{peer}`,
/// `paynode_retired_region{retired_region}`, `paynode_retired_region_lost_entries{retired_region}` (a
/// retired region's per-peer series are removed),
/// `paynode_catch_up_records{peer}`, beside the HTTP ones (`HTTPRequestMetrics`) and what
/// the node records as it happens (commits, session waits: `NodeActivityMetrics`).
final class ReplicationMetrics: Sendable {
    let node: ReplicaNode
    let registry: PrometheusCollectorRegistry
    private let reported = NIOLockedValueBox<[String: UInt64]>([:])
    /// Label sets each amount gauge was ever set for, by gauge name.
    private let amountLabels = NIOLockedValueBox<[String: [String: [(String, String)]]]>([:])

    init(node: ReplicaNode, registry: PrometheusCollectorRegistry) {
        self.node = node
        self.registry = registry
    }

    /// Sets every scrape-time gauge and counter from the node's state now.
    func update() async throws {
        let status = try await node.status()
        let t = node.transport.stats.snapshot
        for p in status.peers {
            let labels = [("peer", p.region.name)]
            registry.gauge(
                named: "paynode_replication_lag_seconds", labels: labels,
                help: Self.perPeerHelp["paynode_replication_lag_seconds"]!
            ).set(Double(p.lagMillis) / 1_000)
            registry.gauge(
                named: "paynode_unreplicated_entries", labels: labels,
                help: Self.perPeerHelp["paynode_unreplicated_entries"]!
            ).set(Int64(p.unreplicatedEntries))
            registry.gauge(
                named: "paynode_peer_connected", labels: labels, help: Self.perPeerHelp["paynode_peer_connected"]!
            ).set(Int64(p.connected ? 1 : 0))
            if let o = p.clockOffset {
                registry.gauge(
                    named: "paynode_peer_clock_offset_seconds", labels: labels,
                    help: Self.perPeerHelp["paynode_peer_clock_offset_seconds"]!
                )
                .set(Double(o.offsetMillis) / 1_000)
            }
        }
        Self.catchUp(status.peers, into: registry)
        retire(status.retired)
        registry.gauge(
            named: "paynode_rpo_exposure_seconds",
            help: "Age of the oldest local write not yet durable in another region"
        )
        .set(Double(status.rpoExposureMillis) / 1_000)
        NodeResourceMetrics.update(
            registry, config: node.config, credentials: node.credentials.current,
            nowSeconds: Date().timeIntervalSince1970)
        if let ticks = NodeResourceMetrics.cpuTicks() {
            let counter = registry.counter(
                named: "paynode_process_cpu_seconds_total", help: "CPU time the node's process used, user and system")
            let delta: UInt64 = reported.withLockedValue { last in
                defer { last["cpu_ticks"] = max(ticks, last["cpu_ticks", default: 0]) }
                return ticks >= last["cpu_ticks", default: 0] ? ticks - last["cpu_ticks", default: 0] : 0
            }
            counter.increment(by: Double(delta) / NodeResourceMetrics.ticksPerSecond)
        }
        let checkpoints = node.walCheckpoints
        count(
            "paynode_wal_checkpoints_total", checkpoints.background,
            "WAL checkpoints run by the store's checkpointing thread, beside the commits")
        count(
            "paynode_wal_checkpoints_inline_total", checkpoints.inline,
            "WAL checkpoints the writer ran inside a commit: the log passed 4x the threshold (the thread is behind)")
        count(
            "paynode_wal_checkpoint_failures_total", checkpoints.failed,
            "WAL checkpoints of the checkpointing thread that failed (tried again at the next commit past it)")
        let atRisk = try await node.moneyAtRisk(status)
        setAmounts(
            "paynode_rpo_exposure_amount", atRisk.total.map { ([("currency", $0.currency)], $0.minorUnits) },
            "Minor units of the payments with a write here no other region holds yet: what losing this region now would lose"
        )
        setAmounts(
            "paynode_unreplicated_amount",
            atRisk.perPeer.flatMap { peer, list in
                list.map { ([("peer", peer.name), ("currency", $0.currency)], $0.minorUnits) }
            },
            "Minor units of the payments with a write here this peer does not hold yet")
        registry.gauge(
            named: "paynode_rpo_exposure_amount_age_seconds",
            help:
                "How old the two amounts above are: 0 when read from the store as it is now; a slow read of the log is not repeated on every ask"
        ).set(Double(atRisk.ageMillis) / 1_000)
        registry.gauge(
            named: "paynode_unreplicated_local_entries",
            help: "Local writes not yet durable in any other region"
        ).set(Int64(status.unreplicatedLocalEntries))
        registry.gauge(
            named: "paynode_clock_in_bound",
            help: "1 when this region's clock agrees with most of the cluster's (it takes writes), 0 when not"
        )
        .set(Int64(status.clockProblem == nil ? 1 : 0))
        registry.gauge(
            named: "paynode_wire_format_active",
            help: "The wire format the cluster has turned on (every region announced a binary speaking it)"
        ).set(Int64(status.wire.active))
        registry.gauge(
            named: "paynode_wire_format_awaiting_peers",
            help: "Peers not yet heard to speak this binary's newest wire format (0 once the cluster runs it)"
        ).set(Int64(status.wire.awaiting.count))
        let c = status.counters
        count("paynode_peer_message_bytes_total", t.messageBytesSent, "Peer frame bytes before LZ4 compression")
        count("paynode_peer_wire_bytes_total", t.wireBytesSent, "Peer frame bytes written (after LZ4)")
        count("paynode_conflicts_total", c.conflictsDetected, "Concurrent writes to one field (kept in /v1/conflicts)")
        count("paynode_peer_refused_total", t.refusedPeers, "Peer connections refused (CA, region name, HELLO)")
        count("paynode_peer_malformed_frames_total", t.malformedFrames, "Peer connections closed for a malformed frame")
        count("paynode_retransmits_total", c.retransmits, "Times a peer's unacknowledged entries were resent")
        count(
            "paynode_protocol_violations_total", c.protocolViolations,
            "Peer messages refused as untrue; each closed its link")
        count(
            "paynode_writes_refused_clock_total", c.writesRefusedForClock,
            "Client writes refused because this region's clock was out of bound")
        count(
            "paynode_writes_refused_clock_unverified_total", c.writesRefusedForClockReadings,
            "Client writes refused while this region waited for its peers' clock readings")
        count(
            "paynode_clock_steps_total", c.clockSteps,
            "Times this region's wall clock stepped (or the process stalled) between two inputs")
        count(
            "paynode_entries_held_clock_total", c.entriesHeldForClock,
            "Peer entries held because they were stamped beyond this clock plus the skew bound")
        count(
            "paynode_snapshots_sent_total", c.snapshotsCompleted, "Snapshots streamed to peers behind the log horizon")
        count(
            "paynode_snapshots_received_total", c.snapshotsReceived,
            "Snapshots received whole from peers (this region was behind their log horizon)")
        count(
            "paynode_snapshot_records_received_total", c.snapshotRecordsReceived,
            "Records merged from peers' snapshot chunks")
    }

    /// Per-peer series of a retired region are removed (no alert for its silence), and
    /// each retired region is reported with the writes no survivor is known to hold.
    private func retire(_ retired: [RetiredStatus]) {
        for g in retired {
            let labels = [("peer", g.region.name)]
            for (name, help) in Self.perPeerHelp.sorted(by: { $0.key < $1.key }) {
                registry.unregisterGauge(registry.gauge(named: name, labels: labels, help: help))
            }
            // Not `region`: a scrape config that labels each target with its region (as the
            // shipped one does) would rename a `region` label of the series.
            let region = [("retired_region", g.region.name)]
            registry.gauge(
                named: "paynode_retired_region", labels: region,
                help: "1 for each region retired from the cluster (its silence is expected)"
            ).set(Int64(1))
            registry.gauge(
                named: "paynode_retired_region_lost_entries", labels: region,
                help: "Writes a retired region was last heard to hold that no surviving region holds (0 after a drain)"
            ).set(Int64(clamping: g.lostEntries))
        }
    }

    /// The gauges labelled by `peer`, with their help text.
    static let perPeerHelp: [String: String] = [
        "paynode_replication_lag_seconds":
            "Age of the oldest entry this peer has not acknowledged",
        "paynode_unreplicated_entries":
            "Entries held here that this peer has not acknowledged",
        "paynode_peer_connected":
            "1 when the link to the peer is up (verified connection, HELLOs exchanged)",
        "paynode_peer_clock_offset_seconds":
            "The peer's clock minus this region's, as last measured over a PING round trip",
        "paynode_catch_up_in_progress":
            "1 while this peer streams this region a snapshot (this region is catching up from it), else 0",
        "paynode_catch_up_records":
            "Records merged from this peer's current snapshot stream (from its last one once that ended)",
    ]

    /// Catch-up progress per peer: whether it streams this region a snapshot now, and
    /// how many records of its stream have been merged (of its last one once that ended).
    static func catchUp(_ peers: [PeerStatus], into registry: PrometheusCollectorRegistry) {
        for p in peers {
            let labels = [("peer", p.region.name)]
            registry.gauge(
                named: "paynode_catch_up_in_progress", labels: labels,
                help: Self.perPeerHelp["paynode_catch_up_in_progress"]!
            )
            .set(Int64(p.sendingSnapshot ? 1 : 0))
            registry.gauge(
                named: "paynode_catch_up_records", labels: labels, help: Self.perPeerHelp["paynode_catch_up_records"]!
            )
            .set(Int64(clamping: p.snapshotRecordsReceived))
        }
    }

    /// Sets one gauge per label set in `values`, and 0 on those set before that are gone
    /// now (a currency with nothing at risk any more reads 0, not its last amount).
    private func setAmounts(_ name: String, _ values: [(labels: [(String, String)], value: Int64)], _ help: String) {
        func key(_ labels: [(String, String)]) -> String { labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") }
        let current = Set(values.map { key($0.labels) })
        let gone: [[(String, String)]] = amountLabels.withLockedValue { seen in
            let stale = seen[name, default: [:]].filter { !current.contains($0.key) }.map(\.value)
            for v in values { seen[name, default: [:]][key(v.labels)] = v.labels }
            return stale
        }
        for labels in gone { registry.gauge(named: name, labels: labels, help: help).set(Int64(0)) }
        for v in values { registry.gauge(named: name, labels: v.labels, help: help).set(v.value) }
    }

    /// Advances a Prometheus counter to the cumulative value `total`.
    private func count(_ name: String, _ total: UInt64, _ help: String) {
        let counter = registry.counter(named: name, help: help)
        let delta: UInt64 = reported.withLockedValue { last in
            let d = total >= last[name, default: 0] ? total - last[name, default: 0] : 0
            last[name] = max(total, last[name, default: 0])
            return d
        }
        counter.increment(by: Int64(delta))
    }
}
