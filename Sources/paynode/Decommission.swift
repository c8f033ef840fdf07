import ArgumentParser
import Foundation
import Logging
import NIOPosix
import PaymentNode
import ReplicaCore

/// `paynode decommission --config FILE`: retires the region whose store this is. Run with
/// its node stopped: it takes no client writes, links to its peers, waits until each one
/// holds every write this region made (printing what each still lacks), then records in
/// the store that the region was retired and exits. The store serves no more afterwards.
struct Decommission: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retire this region: hand every write it made to its peers, then record it retired.",
        discussion: """
            1. Stop the region's node (SIGTERM): its clients fail over to the other regions. \
            2. Run this with the same config: it opens the store, takes no client writes, links to \
            the peers and waits until every one of them holds every write this region made, \
            showing what each still lacks. Then it records the retirement in the store and exits 0. \
            3. On every other region, move the region from `peers` to `retired` in the config and \
            send the node SIGHUP: it stops dialing and waiting for the region, and /v1/cluster lists \
            it under `retired` with lost_entries 0.
            A retired store serves no more (`paynode serve` refuses it), and the region's name is \
            never reused: its peers refuse a certificate that names it. If the wait times out, \
            nothing is recorded: the store can serve again, or be decommissioned later.
            """)

    @Option(help: "The region's YAML file, e.g. config/us-east-1.yaml.")
    var config: String

    @Option(help: "How long to wait for the peers to hold every write, in seconds.")
    var timeoutSeconds: Int = 600

    @Option(help: "Log level of the node's lines on standard error.")
    var logLevel: String = "warning"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel)")
        }
        guard (1...86_400).contains(timeoutSeconds) else { throw ValidationError("--timeout-seconds must be 1-86400") }
        let nodeConfig = try loadConfig(config)
        NodeLogging.bootstrap(level: level, format: nodeConfig.logFormat)
        var logger = Logger(label: "paynode")
        logger[metadataKey: "region"] = "\(nodeConfig.region)"
        let node: ReplicaNode
        do {
            node = try ReplicaNode(config: nodeConfig, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        } catch {
            throw ValidationError("cannot open the region's store (stop its node first): \(error)")
        }
        try await node.beginRetirement()
        try await node.start()
        let region = nodeConfig.region
        print("decommissioning \(region): waiting for every peer to hold every write it made")
        let started = ContinuousClock.now
        var lastShown: String?
        var lastShownAt = started
        var retired = false
        while ContinuousClock.now - started < .seconds(timeoutSeconds) {
            let status = try await node.retirement()
            if status.drained, try await node.finishRetirement() {
                retired = true
                break
            }
            let line = Self.progress(status)
            if line != lastShown || ContinuousClock.now - lastShownAt >= .seconds(10) {
                print(line)
                lastShown = line
                lastShownAt = ContinuousClock.now
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let final = try await node.retirement()
        await node.shutdown()
        guard retired else {
            print(
                "not retired: \(Self.progress(final)) after \(timeoutSeconds) s. Nothing was recorded; the store can serve again (paynode serve), or run this again once the peers are reachable."
            )
            throw ExitCode(1)
        }
        let peers = nodeConfig.peers.keys.sorted().map(\.name).joined(separator: ", ")
        print(
            """
            retired \(region): every peer holds all \(final.ownWrites) of its writes; its store serves no more.
            Next, on every other region (\(peers.isEmpty ? "none" : peers)): move \(region) from peers to retired in the config, then send the node SIGHUP.
            """)
    }

    /// One line: what each peer still lacks of this region's writes.
    static func progress(_ status: RetirementStatus) -> String {
        let lacking = status.missing.filter { $0.entries > 0 }
        guard !lacking.isEmpty else { return "every peer holds all \(status.ownWrites) writes" }
        let parts = lacking.map { "\($0.region) lacks \($0.entries)" }.joined(separator: ", ")
        return "\(status.ownWrites) writes made here: \(parts)"
    }
}
