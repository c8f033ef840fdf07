import ArgumentParser
import Foundation
import Logging
import NIOPosix
import PaymentDevKit
import PaymentNode
import ReplicaCore
import ServiceLifecycle

/// `paynode demo`: three regions on loopback in one process, with fresh certificates,
/// configs and data in a scratch folder; writes a few payments, prints the endpoints and
/// a curl that works, and runs until Ctrl-C.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a local three-region cluster (ap-northeast-1, us-east-1, eu-west-1) until Ctrl-C.")

    @Option(help: "Scratch folder for certificates, configs and data (default: a new folder under /tmp).")
    var dir: String?

    @Option(help: "API port of the first region; the others follow (8101, 8102, 8103).")
    var apiPort: Int = 8101

    @Option(help: "Peer port of the first region; the others follow.")
    var peerPort: Int = 9101

    @Option(help: "Log level of the nodes' own log lines.")
    var logLevel: String = "warning"

    @Option(help: "Log format: text or json (one object per line).")
    var logFormat: String = "text"

    static let regions = ["ap-northeast-1", "us-east-1", "eu-west-1"].map { RegionID($0)! }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel)")
        }
        NodeLogging.bootstrap(level: level, format: try NodeLogging.format(logFormat, else: .text))
        // Absolute: the YAML written into it names paths that must not depend on where it sits.
        let folder = URL(
            fileURLWithPath: dir
                ?? (NSTemporaryDirectory() + "paynode-demo-\(ProcessInfo.processInfo.processIdentifier)")
        ).path
        let regions = Self.regions
        for (i, _) in regions.enumerated() {
            for port in [apiPort + i, peerPort + i] where !LoopbackPorts.isFree(port) {
                throw ValidationError(
                    "port \(port) is in use (another demo running?); choose others with --api-port and --peer-port")
            }
        }
        say("paynode demo: certificates, configs and data in \(folder)")
        let certs = "\(folder)/certs"
        try DevelopmentCertificates.make(in: certs, regions: regions)
        var configs: [NodeConfig] = []
        for (i, region) in regions.enumerated() {
            let file = "\(folder)/\(region.name).yaml"
            var yaml = LoopbackNodeYAML(
                region: region, dataDir: "\(folder)/data/\(region.name)", apiPort: apiPort + i, peerPort: peerPort + i,
                peers: regions.enumerated().filter { $0.element != region }.map { ($0.element, peerPort + $0.offset) },
                certDir: certs)
            yaml.comment = "paynode demo"
            try yaml.text.write(toFile: file, atomically: true, encoding: .utf8)
            let config = try NodeConfig.load(file: file)
            if !FileManager.default.fileExists(atPath: config.databasePath) {
                try ReplicaNode.initializeNewRegion(config)  // a brand-new cluster: no history anywhere
            }
            configs.append(config)
        }

        var services: [any Service] = []
        var nodes: [ReplicaNode] = []
        for config in configs {
            var logger = Logger(label: "paynode")
            logger[metadataKey: "region"] = "\(config.region)"
            let (node, app) = try await NodeRunner.start(config, logger: logger, warnDevelopmentKey: false)
            nodes.append(node)
            services.insert(node, at: 0)
            services.append(app)
        }
        try await waitForMesh(nodes)
        let written = try await writeSamplePayments(nodes)
        try await waitForConvergence(nodes)
        printWelcome(configs: configs, written: written, folder: folder)

        // APIs stop first, then the nodes drain: services stop in reverse order.
        let group = ServiceGroup(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "paynode-demo"))
        try await group.run()
        say("paynode demo: stopped; data kept in \(folder)")
    }

    private func waitForMesh(_ nodes: [ReplicaNode]) async throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            var up = true
            for node in nodes where !(try await node.status().peers.allSatisfy(\.connected)) { up = false }
            if up { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        say("warning: not every region connected to every other within 20 s; see the log lines above")
    }

    /// Waits until every region holds every sample write, so the printed reads work at once.
    private func waitForConvergence(_ nodes: [ReplicaNode]) async throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            var vectors: [VersionVector] = []
            for node in nodes { vectors.append(try await node.status().vector) }
            if Set(vectors).count == 1 { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        say("warning: the sample payments had not reached every region within 20 s")
    }

    private func writeSamplePayments(_ nodes: [ReplicaNode]) async throws -> [(RegionID, Payment)] {
        var written: [(RegionID, Payment)] = []
        let samples: [(Int, String, Int64, String, PaymentMethod)] = [
            (0, "order-1001", 12_500, "JPY", .card), (1, "order-1002", 4_999, "USD", .card),
            (2, "order-1003", 250_000, "EUR", .bankTransfer),
        ]
        for (i, order, amount, currency, method) in samples {
            let node = nodes[i]
            let create = CreatePayment(
                merchantID: "m_demo", orderID: order, amount: amount, currency: currency,
                method: method, description: "demo payment \(order)")
            let id = PaymentID.derived(merchantID: "m_demo", idempotencyKey: "demo-\(order)")
            // Written by the demo itself, not through a key: its changes name it as their actor.
            let ack = try await node.submit(
                .create(id, create, idempotent: true), actor: "paynode-demo", durability: .local)
            written.append((node.config.region, ack.payment))
        }
        return written
    }

    private func printWelcome(configs: [NodeConfig], written: [(RegionID, Payment)], folder: String) {
        say("")
        say("Three regions are up (API key: paynode-dev-key):")
        for c in configs {
            say(
                "  \(c.region.name.padding(toLength: 15, withPad: " ", startingAt: 0))  https://\(c.apiListen)   peers on \(c.peerListen) (mutual TLS)"
            )
        }
        say("")
        say("Sample payments written:")
        for (region, p) in written {
            say("  \(p.id.rawValue)  \(p.amount) \(p.currency)  \(p.method.rawValue)  created in \(region)")
        }
        let first = configs[0].apiListen
        let second = configs[1].apiListen
        let ca = DevelopmentCertificates.caPath("\(folder)/certs")
        say(
            """

            The API is HTTPS with a certificate from the demo's CA (\(ca)).
            Try it:
              curl -s --cacert \(ca) -H 'Authorization: Bearer paynode-dev-key' https://\(second)/v1/payments/\(written[0].1.id.rawValue)
              curl -s --cacert \(ca) -X POST https://\(first)/v1/payments -H 'Authorization: Bearer paynode-dev-key' \\
                   -H 'Idempotency-Key: my-first-key' -H 'Content-Type: application/json' \\
                   -d '{"merchant_id":"m_demo","order_id":"order-2001","amount":1999,"currency":"EUR","method":"card"}'
              curl -s --cacert \(ca) -H 'Authorization: Bearer paynode-dev-key' https://\(first)/v1/cluster
              payctl --ca \(ca) --regions https://\(first),https://\(second),https://\(configs[2].apiListen) cluster

            Ctrl-C stops all three regions.
            """)
    }
}

/// Writes a line to standard output at once (unbuffered, so it shows through a pipe too).
func say(_ line: String = "") {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
