import Foundation
import ReplicaCore
import ReplicaTransport

/// Everything one region's node needs, read from `config/<region>.yaml` by
/// `NodeConfig.load(file:)`. The README's "Configuration" section lists
/// every key.
public struct NodeConfig: Sendable {
    public var region: RegionID
    /// Holds `paynode.sqlite` (created when missing).
    public var dataDirectory: String
    public var apiListen: HostPort
    /// The API's certificate and key: it serves HTTPS. Nil only when the file says
    /// `api.plain_http: true` (behind a TLS-terminating proxy on the same host, say).
    public var apiTLS: APITLS?
    /// Every API key accepted: `api.keys`, then one per hash of `api.key_sha256`.
    public var apiKeys: [NodeAPIKey]
    /// Request bodies larger than this get 413.
    public var bodyBytesMax: Int
    /// How long a read with a session token waits for this region to catch up before 412.
    public var sessionWaitMillis: UInt64
    /// `peer_listen`: where this node accepts the other regions' mutual-TLS links.
    public var peerListen: HostPort
    public var peers: [RegionID: HostPort]
    public var tls: PeerTLSFiles
    public var defaultDurability: Durability
    public var engine: EngineConfig
    /// The file this came from (for messages).
    public var sourceFile: String
    /// `log.format`: plain text lines, or one JSON object per line.
    public var logFormat: LogFormat = .text
    /// `log.access`: a line per HTTP request (method, route, status, time, request id).
    public var accessLog = true
    /// Changes the change feed keeps (`events.keep`): the newest ones.
    public var eventsKept = 1_000_000
    /// Rows one compaction step deletes at most (`StoreOptions.compactionStepRows`; nil:
    /// the store's default). Not read from the file: tests lower it to see a compaction
    /// take many steps.
    var compactionStepRows: Int? = nil
    /// `tracing:`: where spans go over OTLP; nil (no section) traces nothing.
    public var tracing: TracingConfig? = nil

    /// Path of the SQLite database.
    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("paynode.sqlite") }

    /// The transport settings for this node.
    public var transport: PeerTransportConfig {
        var transport = PeerTransportConfig(region: region, listen: peerListen, peers: peers)
        transport.wireVersions = engine.wireVersions
        transport.retired = engine.retired
        return transport
    }

    /// The scheme clients use: `https`, or `http` when the config asks for plain HTTP.
    public var apiScheme: String { apiTLS == nil ? "http" : "https" }

    /// SHA-256 of `paynode-dev-key`, the development key the shipped configs accept.
    public static let developmentKeyHash = "c2b41294c1c2c096c6e1a275c848e468757573dd9241d2497e80ab5245b6b5da"
}

/// The client API's TLS: a certificate chain and key (PEM files), and the lowest TLS
/// version offered (1.2 unless the file says 1.3).
public struct APITLS: Sendable, Hashable {
    public var certificatePath: String
    public var keyPath: String
    public var minimumVersion: String

    public init(certificatePath: String, keyPath: String, minimumVersion: String = "1.2") {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.minimumVersion = minimumVersion
    }
}

/// How the node writes its log lines (`log.format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-11-25T21:58:03+0000 info paynode : region=eu-west-1 [paynode] serving`.
    case text
    /// One JSON object per line (`JSONLogHandler`).
    case json
}
