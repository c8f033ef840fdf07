import ReplicaCore

/// A host and port to listen on or dial.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 as `[::1]:port`); nil when malformed.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(portText),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") || host.hasSuffix("]") {
            guard host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 else { return nil }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil  // an IPv6 address needs brackets: [::1]:8101
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "[" || $0 == "]" }) else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Where this region listens for peers, where the peers are, and how connections behave.
public struct PeerTransportConfig: Sendable {
    public var region: RegionID
    public var listen: HostPort
    /// Every other region and its peer address.
    public var peers: [RegionID: HostPort]
    /// Regions retired from the cluster: a certificate naming one is refused, with a log
    /// line saying so (a retired region's name is never reused).
    public var retired: [RegionID] = []
    /// First reconnect delay; doubles per failed attempt up to `reconnectMaxMillis`, with jitter.
    public var reconnectBaseMillis: Int64 = 100
    public var reconnectMaxMillis: Int64 = 5_000
    /// A connection with nothing received for this long is closed (peers ping every second).
    public var idleTimeoutMillis: Int64 = 10_000
    /// TCP connect timeout.
    public var connectTimeoutMillis: Int64 = 2_000
    /// The wire formats this node speaks (what its TLS offers as ALPN protocols). Only
    /// tests narrow it.
    public var wireVersions: ClosedRange<UInt8> = WireVersion.supported

    public init(region: RegionID, listen: HostPort, peers: [RegionID: HostPort]) {
        self.region = region
        self.listen = listen
        self.peers = peers
    }

    /// The peers this region dials: those whose name sorts after it. The other side of
    /// each pair accepts, so each pair of regions shares exactly one connection.
    public var dialed: [RegionID] { peers.keys.filter { region < $0 }.sorted() }
}
