import Foundation
import PaymentNode
import ReplicaCore
import ReplicaShell
import Synchronization

/// The YAML of one region of a scratch cluster on 127.0.0.1: what `paynode demo`,
/// `paybench` and the integration tests write, so that all three start nodes the way an
/// operator's config file would (through `NodeConfig.load`), from one template.
public struct LoopbackNodeYAML: Sendable {
    public var region: RegionID
    /// Holds `paynode.sqlite`.
    public var dataDir: String
    public var apiPort: Int
    public var peerPort: Int
    /// Every other region of the cluster and its peer port.
    public var peers: [(region: RegionID, port: Int)]
    /// Holds `ca.pem` and `<region>.pem`/`.key`, as `paynode certs` writes them.
    public var certDir: String
    /// Extra `key: value` lines under `api:` (e.g. `session_wait_ms: 10000`).
    public var api: [String] = []
    /// The lines of `api.keys` (each as it stands under `keys:`): by default one key,
    /// id `dev`, the development key `paynode-dev-key` with every scope.
    public var apiKeys = LoopbackNodeYAML.developmentKeyLines
    /// `key: value` lines under `tuning:`.
    public var tuning: [String] = []
    public var durability = "local"
    /// Serve the client API over HTTPS with `certDir`'s `api.pem` (else plain HTTP, said explicitly).
    public var apiTLS = true
    /// A first comment line.
    public var comment = "scratch cluster on loopback"
    /// `log.access`: false for benchmarks (a line per request is measured on its own terms).
    public var accessLog = true

    public init(
        region: RegionID, dataDir: String, apiPort: Int, peerPort: Int,
        peers: [(region: RegionID, port: Int)], certDir: String
    ) {
        self.region = region
        self.dataDir = dataDir
        self.apiPort = apiPort
        self.peerPort = peerPort
        self.peers = peers
        self.certDir = certDir
    }

    /// The file's text.
    public var text: String {
        var lines = [
            "# \(comment): region \(region.name)",
            "region: \(region.name)",
            "data_dir: \(dataDir)",
            "api:",
            "  listen: 127.0.0.1:\(apiPort)",
            "  keys:",
        ]
        lines += apiKeys.map { "    " + $0 }
        lines +=
            apiTLS
            ? ["  tls:", "    certificate: \(certDir)/api.pem", "    key: \(certDir)/api.key"]
            : ["  plain_http: true"]
        lines += api.map { "  " + $0 }
        lines.append("peer_listen: 127.0.0.1:\(peerPort)")
        lines.append(peers.isEmpty ? "peers: {}" : "peers:")
        lines += peers.map { "  \($0.region.name): 127.0.0.1:\($0.port)" }
        lines += [
            "tls:",
            "  ca: \(certDir)/ca.pem",
            "  certificate: \(certDir)/\(region.name).pem",
            "  key: \(certDir)/\(region.name).key",
            "durability: \(durability)",
        ]
        if !tuning.isEmpty { lines += ["tuning:"] + tuning.map { "  " + $0 } }
        if !accessLog { lines += ["log:", "  access: false"] }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension LoopbackNodeYAML {
    /// `api.keys` lines of the development key: id `dev`, every scope.
    public static let developmentKeyLines = [
        "- id: dev", "  sha256: \(NodeConfig.developmentKeyHash)", "  scopes: [admin]",
    ]
}

/// TCP ports on 127.0.0.1 for scratch clusters.
public enum LoopbackPorts {
    /// Whether `port` can be bound now.
    public static func isFree(_ port: Int) -> Bool { bind(port) != nil }

    /// A port the kernel picked as free just now, and not handed out by this process
    /// before (it may be taken by another process before use; good enough for tests and
    /// benchmarks on one machine). The kernel can pick a port it picked a moment ago,
    /// once the socket that asked is closed: two nodes of one cluster were given the
    /// same API port, and the second failed to bind it.
    public static func free() throws(NodeError) -> Int {
        for _ in 0..<64 {
            guard let port = bind(0) else { break }
            let fresh = handedOut.withLock { ports in
                if ports.count > 4_096 { ports.removeAll() }
                return ports.insert(port).inserted
            }
            if fresh { return port }
        }
        throw NodeError.unavailable("no free TCP port on 127.0.0.1")
    }

    /// Ports `free` handed out (the newest few thousand).
    private static let handedOut = Mutex<Set<Int>>([])

    private static func bind(_ port: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: addr.sin_port)) : nil
    }
}
