import Prometheus
import ReplicaShell

/// What a node records into its metrics registry as it happens: group commits (on the
/// committer's thread, before the group's writers are answered) and session waits (on
/// the node's loop, before the waiting request is answered). Everything else `/metrics`
/// shows is read when the scrape comes (`ReplicationMetrics` in PaymentsServer).
///
/// `paynode_commit_duration_seconds` and `paynode_commit_group_requests` (histograms),
/// `paynode_session_waits_total`, `paynode_session_wait_seconds` (histogram),
/// `paynode_session_not_available_total`. Every family is made when the node starts, so
/// a scrape shows it (at 0) before its first event.
final class NodeActivityMetrics: Sendable {
    let commitDuration: DurationHistogram
    let groupRequests: ValueHistogram
    let sessionWaits: Counter
    let sessionWaitDuration: DurationHistogram
    let sessionNotAvailable: Counter

    static var commitBuckets: [Duration] {
        [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10),
            .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1),
        ]
    }

    static let groupBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024, 4_096]

    /// From a millisecond (the shell's clock) up past the longest configurable wait.
    static var sessionWaitBuckets: [Duration] {
        [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
    }

    init(registry: PrometheusCollectorRegistry) {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "paynode", metricName: metric, unitName: unit, helpText: help)
        }
        commitDuration = registry.makeDurationHistogram(
            descriptor: name(
                "commit_duration", "seconds",
                "Time from a group commit transaction's start until its commit (the fsync) returned"),
            buckets: Self.commitBuckets)
        groupRequests = registry.makeValueHistogram(
            descriptor: name(
                "commit_group", "requests",
                "Persist requests (client writes, peer batches, snapshot chunks) committed together in one transaction"),
            buckets: Self.groupBuckets)
        sessionWaits = registry.makeCounter(
            descriptor: name(
                "session_waits", "total",
                "Reads and patches that waited for this region to catch up to their session token"))
        sessionWaitDuration = registry.makeDurationHistogram(
            descriptor: name(
                "session_wait", "seconds",
                "How long a read or patch waited for its session token, served or answered 412"),
            buckets: Self.sessionWaitBuckets)
        sessionNotAvailable = registry.makeCounter(
            descriptor: name(
                "session_not_available", "total",
                "Reads and patches answered 412 session_not_available: the session's writes did not arrive within session_wait_ms"
            ))
    }

    /// A committed transaction (the committer's observer).
    func groupCommitted(requests: Int, duration: Duration) {
        commitDuration.record(duration)
        groupRequests.record(Double(requests))
    }

    /// The shell's events that are metrics; the rest are logged only.
    func record(_ event: ShellEvent) {
        switch event {
        case .sessionWaitStarted:
            sessionWaits.increment()
        case .sessionWaitEnded(let waitedMillis, let served):
            sessionWaitDuration.record(.milliseconds(Int64(clamping: waitedMillis)))
            if !served { sessionNotAvailable.increment() }
        case .storeFailed, .storeRecovered, .recoveryFailed, .ownHistoryRecovered, .clockStandingChanged,
            .wireFormatRaised, .drained:
            break
        }
    }
}
