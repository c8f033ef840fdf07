import ArgumentParser
import Foundation
import Logging
import NIOPosix
import NodeTracing
import PaymentNode
import PaymentsServer
import ServiceLifecycle
import UnixSignals

/// `paynode serve --config FILE`: runs one region until SIGTERM or SIGINT, then drains
/// in order (API, peers, commits in flight, store, then the last spans when `tracing:`
/// is set). SIGHUP re-reads the file and swaps in API keys and certificates without a
/// restart (`ReplicaNode.reload`).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one region's node.")

    @Option(help: "The region's YAML file, e.g. config/us-east-1.yaml.")
    var config: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log format: text or json (one object per line); overrides the config's log.format.")
    var logFormat: String?

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel)")
        }
        let nodeConfig: NodeConfig
        do { nodeConfig = try NodeConfig.load(file: config) } catch {
            throw ValidationError("invalid configuration: \(error)")
        }
        NodeLogging.bootstrap(level: level, format: try NodeLogging.format(logFormat, else: nodeConfig.logFormat))
        var logger = Logger(label: "paynode")
        logger[metadataKey: "region"] = "\(nodeConfig.region)"
        let hangups = await ReloadOnHangup.trap()
        try await NodeRunner.run(nodeConfig, logger: logger, reloadingOn: hangups, configFile: config)
    }
}

/// Starts a node and its API as one service group (shared by `serve` and `demo`).
enum NodeRunner {
    /// Opens the region's store, starts its node (peers, timer) and builds its API.
    static func start(_ config: NodeConfig, logger: Logger, warnDevelopmentKey: Bool = true) async throws -> (
        ReplicaNode, any Service
    ) {
        config.warnAboutAPIKeys(
            logger, nowMillis: UInt64(Date().timeIntervalSince1970 * 1_000), developmentKey: warnDevelopmentKey)
        let node = try ReplicaNode(config: config, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        try await node.start()
        let app = try NodeServer.application(node: node, logger: logger)
        if config.apiTLS == nil {
            logger.warning(
                "the API serves plain HTTP (api.plain_http): keys and payment data cross the network in clear")
        }
        logger.info(
            "serving",
            metadata: [
                "api.listen": "\(config.apiScheme)://\(config.apiListen)", "peer.listen": "\(config.peerListen)",
            ])
        return (node, app)
    }

    /// Runs the node until SIGTERM or SIGINT, reloading `configFile` on each of `hangups`.
    static func run(_ config: NodeConfig, logger: Logger, reloadingOn hangups: UnixSignalsSequence, configFile: String)
        async throws
    {
        // Before the API listens: the first request is traced. Nil without `tracing:`.
        let tracing = try NodeTracing.bootstrap(config, logger: logger)
        let (node, app) = try await start(config, logger: logger)
        let reloader = ReloadOnHangup(signals: hangups, node: node, configFile: configFile)
        // Services stop in reverse order: reloads first, the API, then the node drains and
        // closes, then the tracer exports the spans left (the drain's included).
        let services: [any Service] = (tracing.map { [$0] } ?? []) + [node, app, reloader]
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// Log lines on standard error: text with metadata as key=value, or JSON objects.
enum NodeLogging {
    static func bootstrap(level: Logger.Level, format: LogFormat = .text) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = TextLogHandler(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    /// The format a `--log-format` option names, or `configured` without one.
    static func format(_ option: String?, else configured: LogFormat) throws -> LogFormat {
        guard let option else { return configured }
        guard let format = LogFormat(rawValue: option) else {
            throw ValidationError("unknown --log-format \(option) (text or json)")
        }
        return format
    }
}
