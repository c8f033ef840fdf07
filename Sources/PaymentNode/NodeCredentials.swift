import Foundation
import NIOSSL
import ReplicaCore
import ReplicaTransport
import Synchronization

/// What a running node authenticates with and that a reload (SIGHUP) can replace: the
/// API keys (ids, hashes, scopes, bounds), the API's HTTPS material and the peer TLS
/// material. One immutable snapshot, loaded and checked as a whole: a reload swaps all
/// of it or none.
public struct NodeCredentials: Sendable {
    /// Every accepted API key, as the config defines it.
    public let apiKeys: [NodeAPIKey]
    /// Nil when the API serves plain HTTP.
    public let apiTLS: APITLSMaterial?
    public let peerTLS: PeerTLS

    public init(apiKeys: [NodeAPIKey], apiTLS: APITLSMaterial?, peerTLS: PeerTLS) {
        self.apiKeys = apiKeys
        self.apiTLS = apiTLS
        self.peerTLS = peerTLS
    }

    /// Material that cannot be loaded or would not work, naming the file.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads every file `config` names (API TLS, peer TLS).
    public static func load(_ config: NodeConfig) throws(LoadError) -> NodeCredentials {
        do {
            return NodeCredentials(
                apiKeys: config.apiKeys, apiTLS: try config.apiTLS.map { try APITLSMaterial($0) },
                peerTLS: try PeerTLS(files: config.tls, wireVersions: config.engine.wireVersions))
        } catch let error as APITLSMaterial.LoadError {
            throw LoadError(description: error.description)
        } catch let error as PeerTLS.LoadError {
            throw LoadError(description: error.description)
        } catch {
            throw LoadError(description: "\(error)")
        }
    }

    /// Why this node's own peer certificate would cut it off from the cluster (nil when
    /// it would not): it must name `region` as a peer certificate does, and chain to
    /// the CA file it is loaded with. Checked before a reload swaps it in.
    public func ownCertificateProblem(region: RegionID, now: Date) async -> String? {
        let own = peerTLS.certificateChain[0]
        if case .failure(let refusal) = PeerIdentity.region(of: own, among: [region]) {
            return "\(peerTLS.files.certificatePath): \(refusal)"
        }
        guard await TLSFiles.chains(own, to: peerTLS.caCertificates, at: now) else {
            return
                "\(peerTLS.files.certificatePath) does not chain to the CA in \(peerTLS.files.caPath) (another CA, or expired)"
        }
        return nil
    }

    /// What differs from `old`, in words (`API keys (1 added: shop-b; 1 removed: shop-a)`,
    /// `peer certificate`, ...): contents, not file names. Keys are named by id, never by
    /// secret or hash; a key whose hash, scopes, bounds or limits changed is `changed`.
    public func changes(from old: NodeCredentials) -> [String] {
        var changes: [String] = []
        let before = Dictionary(old.apiKeys.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(apiKeys.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let added = after.keys.filter { before[$0] == nil }.sorted()
        let removed = before.keys.filter { after[$0] == nil }.sorted()
        let changed = after.keys.filter { before[$0] != nil && before[$0] != after[$0] }.sorted()
        if !(added.isEmpty && removed.isEmpty && changed.isEmpty) {
            var parts: [String] = []
            for (ids, word) in [(added, "added"), (removed, "removed"), (changed, "changed")] where !ids.isEmpty {
                parts.append("\(ids.count) \(word): \(ids.joined(separator: " "))")
            }
            changes.append("API keys (\(parts.joined(separator: "; ")))")
        }
        if peerTLS.caCertificates != old.peerTLS.caCertificates { changes.append("cluster CA") }
        if peerTLS.certificateChain != old.peerTLS.certificateChain { changes.append("peer certificate") }
        if apiTLS?.certificateChain != old.apiTLS?.certificateChain { changes.append("API certificate") }
        if apiTLS?.minimumVersion != old.apiTLS?.minimumVersion { changes.append("API TLS minimum version") }
        return changes
    }

    /// When each certificate in use expires: `peer` (this node's), `ca` (the first of the
    /// CA file) and `api` (when the API serves HTTPS).
    public var expiries: [(certificate: String, expires: Date)] {
        var list = [
            ("peer", TLSFiles.expiry(of: peerTLS.certificateChain[0])),
            ("ca", TLSFiles.expiry(of: peerTLS.caCertificates[0])),
        ]
        if let api = apiTLS { list.append(("api", TLSFiles.expiry(of: api.certificateChain[0]))) }
        return list
    }
}

/// The credentials a node uses now, swapped whole by a reload. Readers (the API's key
/// check per request, the API's TLS per connection, `/metrics` per scrape) take
/// the current snapshot and never see half of one.
public final class LiveCredentials: Sendable {
    private let state: Mutex<NodeCredentials>

    public init(_ initial: NodeCredentials) { state = Mutex(initial) }

    /// The snapshot in use.
    public var current: NodeCredentials { state.withLock { $0 } }

    /// Makes `new` the snapshot in use; returns the one it replaced.
    @discardableResult
    public func replace(with new: NodeCredentials) -> NodeCredentials {
        state.withLock { value in
            let old = value
            value = new
            return old
        }
    }
}
