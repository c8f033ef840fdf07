import Foundation
import ReplicaCore
import ReplicaTransport
import Yams

extension NodeConfig {
    /// Environment variables that override secrets in the file.
    public enum Environment {
        /// Comma-separated SHA-256 hashes replacing `api.key_sha256` (keys with every scope;
        /// `api.keys` is left as the file says).
        public static let apiKeyHashes = "PAYNODE_API_KEY_SHA256"
        /// Path replacing `tls.key`.
        public static let tlsKey = "PAYNODE_TLS_KEY"
    }

    /// Reads and validates a region's YAML file. Relative paths in it are taken from the
    /// file's own folder (the same file works from any working directory, as a service
    /// unit runs it). Every error names the file, the key and the problem.
    public static func load(file: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(NodeConfigError) -> NodeConfig
    {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw NodeConfigError(file: file, key: "", problem: "cannot read the file: \(error.localizedDescription)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw NodeConfigError(file: file, key: "", problem: "not valid YAML: \(error)")
        }
        guard root != nil else { throw NodeConfigError(file: file, key: "", problem: "the file is empty") }
        let top = try YAMLSection(file: file, path: "", node: root)
        return try parse(top, environment: environment)
    }

    /// The whole file, section by section (each names its own errors), then what only the
    /// sections together can tell (the two listen addresses differ).
    static func parse(_ top: YAMLSection, environment: [String: String]) throws(NodeConfigError) -> NodeConfig {
        let region = try parseRegion(top)
        let dataDirectory = resolve(try top.requiredString("data_dir"), in: top)
        let api = try parseAPI(top, environment: environment)
        let peerListen = try address(top, "peer_listen")
        let peers = try parsePeers(top, region: region)
        let tls = try parsePeerTLS(top, environment: environment)
        let durability = try parseDurability(top)
        var engine = try parseEngine(top, region: region, peers: peers.keys.sorted())
        engine.retired = try parseRetired(top, region: region, peers: peers)
        let log = try parseLog(top)
        let eventsKept = try parseEventsKept(top)
        let tracing = try parseTracing(top)
        try top.finish()

        if peerListen == api.listen && peerListen.port != 0 {
            throw top.error("peer_listen", "is the same address as api.listen")
        }
        return NodeConfig(
            region: region, dataDirectory: dataDirectory, apiListen: api.listen, apiTLS: api.tls, apiKeys: api.keys,
            bodyBytesMax: api.bodyBytesMax, sessionWaitMillis: api.sessionWaitMillis,
            peerListen: peerListen, peers: peers, tls: tls, defaultDurability: durability, engine: engine,
            sourceFile: top.file, logFormat: log.format, accessLog: log.access, eventsKept: eventsKept,
            tracing: tracing)
    }

    /// `region`.
    private static func parseRegion(_ top: YAMLSection) throws(NodeConfigError) -> RegionID {
        let regionName = try top.requiredString("region")
        guard let region = RegionID(regionName) else {
            throw top.error("region", "\"\(regionName)\" is not a region name (1-32 characters of a-z, 0-9, -)")
        }
        return region
    }

    /// What `api:` says.
    private struct APISection {
        var listen: HostPort
        var tls: APITLS?
        var keys: [NodeAPIKey]
        var bodyBytesMax: Int
        var sessionWaitMillis: UInt64
    }

    /// `api:`: where it listens, its keys, its limits, and HTTPS or plain HTTP.
    private static func parseAPI(_ top: YAMLSection, environment: [String: String]) throws(NodeConfigError)
        -> APISection
    {
        let api = try top.section("api")
        let listen = try address(api, "listen")
        let keys = try parseAPIKeys(api, environment: environment)
        let bodyMax = try api.integer("body_bytes_max", in: 1_024...16_777_216) ?? 65_536
        let sessionWait = try api.integer("session_wait_ms", in: 0...60_000) ?? 1_000
        let tls = try parseAPITLS(api)
        try api.finish()
        return APISection(
            listen: listen, tls: tls, keys: keys, bodyBytesMax: Int(bodyMax), sessionWaitMillis: UInt64(sessionWait))
    }

    /// `api.tls` (a certificate and key: HTTPS) or `api.plain_http: true`: exactly one of them.
    private static func parseAPITLS(_ api: YAMLSection) throws(NodeConfigError) -> APITLS? {
        let plainHTTP = try api.string("plain_http")
        var apiTLS: APITLS?
        if api.node("tls") != nil {
            let section = try api.section("tls")
            let version = try section.string("min_version") ?? "1.2"
            guard version == "1.2" || version == "1.3" else {
                throw section.error("min_version", "must be 1.2 or 1.3, not \(version)")
            }
            apiTLS = APITLS(
                certificatePath: try existingFile(section, "certificate", try section.requiredString("certificate")),
                keyPath: try existingFile(section, "key", try section.requiredString("key")), minimumVersion: version)
            try section.finish()
        }
        switch (apiTLS, plainHTTP) {
        case (nil, nil):
            throw api.error(
                "tls",
                "is required (certificate and key: the API serves HTTPS); plain_http: true serves plain HTTP instead")
        case (.some, .some):
            throw api.error("plain_http", "cannot be set with api.tls")
        case (nil, .some(let value)):
            guard value == "true" else {
                throw api.error("plain_http", "may only be true (leave it out to serve HTTPS)")
            }
        case (.some, nil):
            break
        }
        return apiTLS
    }

    /// `peers:`: every other region as name: host:port.
    private static func parsePeers(_ top: YAMLSection, region: RegionID) throws(NodeConfigError)
        -> [RegionID: HostPort]
    {
        guard top.node("peers") != nil else {
            throw top.error("peers", "is required: every other region as name: host:port ({} for a region alone)")
        }
        let peerSection = try top.section("peers")
        var peers: [RegionID: HostPort] = [:]
        for name in peerSection.keys {
            guard let peer = RegionID(name) else { throw peerSection.error(name, "not a region name") }
            guard peer != region else { throw peerSection.error(name, "a region cannot be its own peer") }
            peers[peer] = try address(peerSection, name)
        }
        try peerSection.finish()
        return peers
    }

    /// `retired:`: regions retired from the cluster (a list of names). Their writes stay
    /// valid; they are never dialed, waited for or accepted as peers again.
    private static func parseRetired(_ top: YAMLSection, region: RegionID, peers: [RegionID: HostPort])
        throws(NodeConfigError) -> [RegionID]
    {
        var retired: [RegionID] = []
        for name in try top.strings("retired") ?? [] {
            guard let r = RegionID(name) else { throw top.error("retired", "\"\(name)\" is not a region name") }
            guard r != region else {
                throw top.error(
                    "retired",
                    "names this region (\(r)): a region is retired with paynode decommission, not its own config")
            }
            guard peers[r] == nil else {
                throw top.error(
                    "retired",
                    "\(r) is also under peers: a retired region's name is never reused; remove it from peers")
            }
            guard !retired.contains(r) else { throw top.error("retired", "lists \(r) twice") }
            retired.append(r)
        }
        return retired.sorted()
    }

    /// `tls:`: the peer links' CA, certificate and key (the key's path may come from the
    /// environment).
    private static func parsePeerTLS(_ top: YAMLSection, environment: [String: String]) throws(NodeConfigError)
        -> PeerTLSFiles
    {
        let tlsSection = try top.section("tls")
        var keyPath = try tlsSection.requiredString("key")
        var keyKey = "key"
        if let fromEnv = environment[Environment.tlsKey] {
            keyPath = URL(fileURLWithPath: fromEnv).path  // the environment's: from the working directory
            keyKey = "key (from \(Environment.tlsKey))"
        }
        let tls = PeerTLSFiles(
            caPath: try existingFile(tlsSection, "ca", try tlsSection.requiredString("ca")),
            certificatePath: try existingFile(tlsSection, "certificate", try tlsSection.requiredString("certificate")),
            keyPath: try existingFile(tlsSection, keyKey, keyPath))
        try tlsSection.finish()
        return tls
    }

    /// `durability`: what a write waits for unless it asks (local when absent).
    private static func parseDurability(_ top: YAMLSection) throws(NodeConfigError) -> Durability {
        let durabilityName = try top.string("durability") ?? "local"
        guard let durability = Durability(rawValue: durabilityName) else {
            throw top.error("durability", "must be local or remote, not \"\(durabilityName)\"")
        }
        return durability
    }

    /// `tuning:` over the node's defaults, checked as the engine checks its configuration.
    private static func parseEngine(_ top: YAMLSection, region: RegionID, peers: [RegionID])
        throws(NodeConfigError) -> EngineConfig
    {
        var engine = EngineConfig(region: region, peers: peers)
        // A node batches for a few milliseconds (better compression, at most that much lag)
        // and ticks often enough to honour it.
        engine.batchDelayMillis = 20
        engine.tickIntervalMillis = 5
        engine.relayDelayMillis = 2_500
        engine.recordCacheBytes = 32 << 20
        engine.logCacheEntries = 20_000
        let tuning = try top.section("tuning")
        if let v = try tuning.integer("batch_entries_max", in: 1...Int64(WireLimits.entriesPerBatchMax)) {
            engine.batchEntriesMax = Int(v)
        }
        if let v = try tuning.integer("batch_delay_ms", in: 0...10_000) { engine.batchDelayMillis = UInt64(v) }
        if let v = try tuning.integer("relay_delay_ms", in: 0...600_000) { engine.relayDelayMillis = UInt64(v) }
        if let v = try tuning.integer("in_flight_batches_max", in: 1...1_024) { engine.inFlightBatchesMax = Int(v) }
        if let v = try tuning.integer("snapshot_chunks_in_flight", in: 1...1_024) {
            engine.snapshotChunksInFlightMax = Int(v)
        }
        if let v = try tuning.integer("tick_interval_ms", in: 1...1_000) { engine.tickIntervalMillis = UInt64(v) }
        if let v = try tuning.integer("ping_interval_ms", in: 10...60_000) { engine.pingIntervalMillis = UInt64(v) }
        if let v = try tuning.integer("retransmit_after_ms", in: 10...600_000) {
            engine.retransmitAfterMillis = UInt64(v)
        }
        if let v = try tuning.integer("remote_ack_timeout_ms", in: 1...600_000) {
            engine.remoteAckTimeoutMillis = UInt64(v)
        }
        if let v = try tuning.integer("max_clock_skew_ms", in: 0...3_600_000) { engine.maxClockSkewMillis = UInt64(v) }
        if let v = try tuning.integer("clock_first_reading_ms", in: 0...600_000) {
            engine.clockFirstReadingMillis = UInt64(v)
        }
        if let v = try tuning.integer("log_entries_max", in: 1...100_000_000) { engine.logEntriesMax = Int(v) }
        if let v = try tuning.integer("record_cache_mb", in: 1...1_048_576) { engine.recordCacheBytes = Int(v) << 20 }
        if let v = try tuning.integer("log_cache_entries", in: 1...100_000_000) { engine.logCacheEntries = Int(v) }
        if let v = try tuning.integer("snapshot_chunk_records", in: 1...Int64(WireLimits.recordsPerChunkMax)) {
            engine.snapshotChunkRecords = Int(v)
        }
        try tuning.finish()
        do { try engine.validate() } catch {
            throw NodeConfigError(file: top.file, key: "tuning", problem: error.description)
        }
        if let wire = testWireVersions() { engine.wireVersions = wire }
        return engine
    }

    /// `log:`: the lines' format and whether each HTTP request gets one.
    private static func parseLog(_ top: YAMLSection) throws(NodeConfigError) -> (format: LogFormat, access: Bool) {
        let logSection = try top.section("log")
        var logFormat = LogFormat.text
        if let text = try logSection.string("format") {
            guard let format = LogFormat(rawValue: text) else {
                throw logSection.error("format", "must be text or json, not \"\(text)\"")
            }
            logFormat = format
        }
        var accessLog = true
        if let text = try logSection.string("access") {
            guard text == "true" || text == "false" else {
                throw logSection.error("access", "must be true or false, not \"\(text)\"")
            }
            accessLog = text == "true"
        }
        try logSection.finish()
        return (logFormat, accessLog)
    }

    /// `events.keep`: how many changes the change feed keeps.
    private static func parseEventsKept(_ top: YAMLSection) throws(NodeConfigError) -> Int {
        let eventsSection = try top.section("events")
        let eventsKept = try eventsSection.integer("keep", in: 1_000...1_000_000_000).map { Int($0) } ?? 1_000_000
        try eventsSection.finish()
        return eventsKept
    }

    private static func address(_ section: YAMLSection, _ key: String) throws(NodeConfigError) -> HostPort {
        let text = try section.requiredString(key)
        guard let value = HostPort(text) else { throw section.error(key, "\"\(text)\" is not host:port") }
        return value
    }

    /// `path` as written, when absolute; else taken from the folder of the config file.
    static func resolve(_ path: String, in section: YAMLSection) -> String {
        guard !path.hasPrefix("/") else { return path }
        let folder = URL(fileURLWithPath: section.file).deletingLastPathComponent()
        return folder.appendingPathComponent(path).standardizedFileURL.path
    }

    private static func existingFile(_ section: YAMLSection, _ key: String, _ written: String) throws(NodeConfigError)
        -> String
    {
        let path = resolve(written, in: section)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw section.error(key, "file not found: \(path) (make development certificates with `paynode certs`)")
        }
        return path
    }
}

extension NodeConfig {
    /// Debug builds only (the integration tests run them): `PAYNODE_TEST_WIRE_VERSIONS=3`
    /// makes the node speak wire format 3 alone, as the release before does, so a test can
    /// run a mixed cluster and upgrade it. A release build has no such switch.
    static func testWireVersions() -> ClosedRange<UInt8>? {
        #if DEBUG
            guard let text = ProcessInfo.processInfo.environment["PAYNODE_TEST_WIRE_VERSIONS"],
                let newest = UInt8(text), WireVersion.supported.contains(newest)
            else { return nil }
            return WireVersion.supported.lowerBound...newest
        #else
            return nil
        #endif
    }
}
