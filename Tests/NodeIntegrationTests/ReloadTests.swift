import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import PaymentDevKit
import PaymentNode
import ReplicaCore
import Testing

/// SIGHUP on real `paynode serve` processes: API keys and certificates are swapped in
/// without a restart, a bad reload changes nothing, and peer links that stay valid stay up.
@Suite(.serialized) struct ReloadTests {
    let us = RegionID("us-east-1")!
    let ap = RegionID("ap-northeast-1")!
    /// K1 is the development key every LocalCluster node starts with; K2 replaces it.
    let k1 = LocalCluster.apiKey
    let k2 = "rotated-key-2"

    static func hash(_ key: String) -> String { SHA256.hex(SHA256.hash(Array(key.utf8))) }

    /// `config` with the lines of its `api.keys` list replaced by `keys` (as they stand
    /// under `keys:`).
    static func replacingKeys(in config: String, with keys: [String]) -> String {
        var lines = config.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "  keys:") else { return config }
        var end = start + 1
        while end < lines.count && lines[end].hasPrefix("    ") { end += 1 }
        lines.replaceSubrange((start + 1)..<end, with: keys.map { "    " + $0 })
        return lines.joined(separator: "\n")
    }

    /// Rewrites the region's config file through `change`.
    func rewriteConfig(_ cluster: LocalCluster, _ r: RegionID, _ change: (String) -> String) throws {
        let text = try String(contentsOf: cluster.configURL(r), encoding: .utf8)
        try change(text).write(to: cluster.configURL(r), atomically: true, encoding: .utf8)
    }

    func status(_ cluster: LocalCluster, _ r: RegionID, key: String) async throws -> Int {
        try await cluster.call(r, "GET", "/v1/cluster", key: key).status
    }

    /// The certificate a new TLS handshake with `port` is served (a fresh connection).
    func served(_ cluster: LocalCluster, port: Int) async throws -> NIOSSLCertificate {
        let dir = cluster.certDir
        let eu = RegionID("eu-west-1")!
        let probe = try await RawPeerClient.connect(
            port: port, caPath: DevelopmentCertificates.caPath(dir),
            certificatePath: DevelopmentCertificates.certificatePath(dir, eu),
            keyPath: DevelopmentCertificates.keyPath(dir, eu))
        defer { Task { await probe.close() } }
        return try await probe.serverCertificate()
    }

    /// `paynode_certificate_expiry_seconds{certificate=name}` from the region's /metrics.
    func expirySeconds(_ cluster: LocalCluster, _ r: RegionID, _ name: String, key: String = LocalCluster.apiKey)
        async throws -> Double?
    {
        let text = try await cluster.call(r, "GET", "/metrics", key: key).body
        let line = text.split(separator: "\n").first {
            $0.hasPrefix("paynode_certificate_expiry_seconds{certificate=\"\(name)\"}")
        }
        return line.flatMap { Double($0.split(separator: " ").last!) }
    }

    /// Lines of `log` about the link with `peer` that contain `fragment`.
    func count(_ log: String, _ fragment: String, peer: RegionID) -> Int {
        log.split(separator: "\n").filter { $0.contains(fragment) && $0.contains("peer.region=\(peer.name)") }.count
    }

    /// (a) K1 works, the file is rewritten to K2, SIGHUP: K1 gets 401 and K2 gets 200.
    @Test func sighupSwapsAPIKeys() async throws {
        let cluster = try LocalCluster(regions: [us])
        do {
            try await cluster.startAll()
            #expect(try await status(cluster, us, key: k1) == 200)
            #expect(try await status(cluster, us, key: k2) == 401)

            try rewriteConfig(cluster, us) {
                $0.replacingOccurrences(of: NodeConfig.developmentKeyHash, with: Self.hash(k2))
            }
            cluster.signal(us, SIGHUP)
            try await eventually("K1 gets 401 and K2 gets 200", timeout: 20) {
                let (old, new) = (try await status(cluster, us, key: k1), try await status(cluster, us, key: k2))
                return old == 401 && new == 200
            }
            let log = cluster.fullLog(us)
            #expect(
                log.contains("configuration reloaded") && log.contains("API keys (1 changed: dev)"),
                "no reload line naming the key change")
            #expect(cluster.exitStatus(us) == nil, "the node exited")
        } catch {
            Issue.record("log:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    /// A key added by a reload holds its scopes and merchant bounds at once, and requests
    /// made with it are logged under its id; one from the older `api.key_sha256` list gets
    /// every scope and a warning.
    @Test func sighupAddsAScopedKey() async throws {
        let cluster = try LocalCluster(regions: [us])
        do {
            try await cluster.startAll()
            // Its peers never start: writes wait for the clock fence's first-reading timeout.
            try await eventually("us-east-1 takes a write", timeout: 20) {
                try await cluster.create(at: us, order: "before-reload").status == 201
            }
            let reporting = "reporting-secret"
            try rewriteConfig(cluster, us) {
                Self.replacingKeys(
                    in: $0,
                    with: [
                        "- id: dev", "  sha256: \(NodeConfig.developmentKeyHash)", "  scopes: [admin]",
                        "- id: reporting", "  sha256: \(Self.hash(reporting))", "  scopes: [payments:read]",
                        "  merchants: [m_other]",
                    ]
                ).replacingOccurrences(of: "  keys:\n", with: "  key_sha256: [\(Self.hash(k2))]\n  keys:\n")
            }
            let line = try await cluster.reload(us)
            #expect(line.contains("API keys (2 added: key-\(Self.hash(k2).prefix(12)) reporting)"), "\(line)")
            let list = try await cluster.call(us, "GET", "/v1/payments", key: reporting)
            #expect(list.status == 200 && list.body.contains("\"data\":[]"), "\(list.body)")
            let write = try await cluster.call(
                us, "POST", "/v1/payments",
                body: #"{"merchant_id":"m_other","order_id":"1","amount":5,"currency":"EUR","method":"card"}"#,
                key: reporting)
            #expect(write.status == 403 && write.body.contains("scope_missing"), "\(write.body)")
            #expect(try await status(cluster, us, key: k2) == 200)
            let log = cluster.fullLog(us)
            #expect(log.contains("key_id=reporting"), "no access log line names the key")
            #expect(!log.contains(reporting) && !log.contains(Self.hash(reporting)))
            #expect(log.contains("api.key_sha256 is deprecated"), "no warning for the older key list")
        } catch {
            Issue.record("log:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    /// (b) Reloads that cannot be applied (a corrupt certificate, a truncated one, a key
    /// that is not the certificate's, a file that no longer parses, a missing file) each
    /// change nothing: not even the API key changed in the same file. The node keeps
    /// serving with the old key and certificates, and a good reload afterwards works.
    @Test func badReloadsChangeNothing() async throws {
        let cluster = try LocalCluster(regions: [us])
        do {
            try await cluster.startAll()
            let dir = cluster.certDir
            let apiPEM = DevelopmentCertificates.apiCertificatePath(dir)
            let peerPEM = DevelopmentCertificates.certificatePath(dir, us)
            let (apiBytes, peerBytes) = (
                try Data(contentsOf: URL(fileURLWithPath: apiPEM)), try Data(contentsOf: URL(fileURLWithPath: peerPEM))
            )
            let original = try String(contentsOf: cluster.configURL(us), encoding: .utf8)
            let servedAPI = try await served(cluster, port: cluster.apiPorts[us]!)
            let servedPeer = try await served(cluster, port: cluster.peerPorts[us]!)
            let expiryBefore = try #require(try await expirySeconds(cluster, us, "peer"))
            // Every bad variant also rotates K1 to K2: a partial reload would show as K2 working.
            let rotated = original.replacingOccurrences(of: NodeConfig.developmentKeyHash, with: Self.hash(k2))
            try rotated.write(to: cluster.configURL(us), atomically: true, encoding: .utf8)

            func expectUnchanged(_ what: String, failureMentions fragment: String) async throws {
                let line = try await cluster.reload(us)
                #expect(line.contains("reload failed"), "\(what): \(line)")
                #expect(line.contains(fragment), "\(what): the error does not mention \(fragment): \(line)")
                #expect(cluster.exitStatus(us) == nil, "\(what): the node exited")
                #expect(try await status(cluster, us, key: k1) == 200, "\(what): K1 refused")
                #expect(try await status(cluster, us, key: k2) == 401, "\(what): K2 accepted")
                #expect(
                    try await served(cluster, port: cluster.apiPorts[us]!) == servedAPI,
                    "\(what): API certificate changed")
                #expect(
                    try await served(cluster, port: cluster.peerPorts[us]!) == servedPeer,
                    "\(what): peer certificate changed")
            }

            try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: apiPEM))
            try await expectUnchanged("corrupt API certificate", failureMentions: "api.pem")
            try apiBytes.write(to: URL(fileURLWithPath: apiPEM))

            try peerBytes.prefix(peerBytes.count / 2).write(to: URL(fileURLWithPath: peerPEM))
            try await expectUnchanged("truncated peer certificate", failureMentions: "us-east-1.pem")
            try peerBytes.write(to: URL(fileURLWithPath: peerPEM))

            try rewriteConfig(cluster, us) {
                $0.replacingOccurrences(of: "key: \(dir)/us-east-1.key", with: "key: \(dir)/api.key")
            }
            try await expectUnchanged("a key that is not the certificate's", failureMentions: "does not fit")

            try "region: [us-east-1\n".write(to: cluster.configURL(us), atomically: true, encoding: .utf8)
            try await expectUnchanged("a config that does not parse", failureMentions: "no longer loads")

            // Key lists that do not check: an unknown scope, a bad id, an id or a hash used twice.
            let k3 = "  sha256: \(Self.hash("third-key"))"
            for (what, keys, fragment) in [
                (
                    "an unknown scope", ["- id: dev", "  sha256: \(Self.hash(k2))", "  scopes: [payment:write]"],
                    "api.keys[0].scopes: unknown scope \"payment:write\""
                ),
                (
                    "a bad key id", ["- id: dev key", "  sha256: \(Self.hash(k2))", "  scopes: [admin]"],
                    "api.keys[0].id"
                ),
                (
                    "an id used twice",
                    [
                        "- id: dev", "  sha256: \(Self.hash(k2))", "  scopes: [admin]", "- id: dev", k3,
                        "  scopes: [admin]",
                    ],
                    "api.keys[1].id"
                ),
                (
                    "a hash used twice",
                    [
                        "- id: dev", "  sha256: \(Self.hash(k2))", "  scopes: [admin]", "- id: other",
                        "  sha256: \(Self.hash(k2))", "  scopes: [admin]",
                    ],
                    "api.keys[1].sha256"
                ),
            ] {
                try rewriteConfig(cluster, us) { _ in Self.replacingKeys(in: rotated, with: keys) }
                try await expectUnchanged(what, failureMentions: fragment)
            }

            try rotated.replacingOccurrences(of: "ca: \(dir)/ca.pem", with: "ca: \(dir)/gone.pem")
                .write(to: cluster.configURL(us), atomically: true, encoding: .utf8)
            try await expectUnchanged("a missing CA file", failureMentions: "gone.pem")
            let expiryAfter = try #require(try await expirySeconds(cluster, us, "peer"))
            #expect(
                abs(expiryAfter - expiryBefore) < 120, "the expiry gauge moved: \(expiryBefore) then \(expiryAfter)")

            // A good reload still works after all that, with a new API certificate (30 days) too.
            try rotated.write(to: cluster.configURL(us), atomically: true, encoding: .utf8)
            try FileManager.default.removeItem(atPath: apiPEM)
            try DevelopmentCertificates.make(in: dir, regions: [], days: 30)
            let line = try await cluster.reload(us)
            #expect(line.contains("configuration reloaded") && line.contains("API certificate"), "\(line)")
            try await eventually("K2 gets 200", timeout: 20) { try await status(cluster, us, key: k2) == 200 }
            #expect(try await status(cluster, us, key: k1) == 401)
            let newAPI = try NIOSSLCertificate.fromPEMFile(apiPEM)[0]
            #expect(
                try await served(cluster, port: cluster.apiPorts[us]!) == newAPI,
                "a new HTTPS connection got the old certificate")
            let apiExpiry = try #require(try await expirySeconds(cluster, us, "api", key: k2))
            #expect(apiExpiry < 31 * 86_400, "API certificate expiry gauge: \(apiExpiry)")
        } catch {
            Issue.record("log:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    /// (c) Two connected nodes; us-east-1 gets a new certificate and key from the same CA
    /// (30 days instead of 825) and a SIGHUP: the link stays up (no peer connected or
    /// disconnected line on either side, a write still replicates), new handshakes are
    /// served the new certificate, and the expiry gauge shows it, only after the SIGHUP.
    @Test func newCertificateFromTheSameCAKeepsTheLink() async throws {
        let cluster = try LocalCluster(regions: [ap, us])
        do {
            try await cluster.startAllConnected()
            let connects = [
                ap: count(cluster.fullLog(ap), "] peer connected", peer: us),
                us: count(cluster.fullLog(us), "] peer connected", peer: ap),
            ]
            let day = 86_400.0
            #expect(try #require(try await expirySeconds(cluster, us, "peer")) > 800 * day)

            try DevelopmentCertificates.make(in: cluster.certDir, regions: [us], days: 30)
            // The files changed, the certificate in use did not: the gauge says so.
            #expect(try #require(try await expirySeconds(cluster, us, "peer")) > 800 * day)

            let line = try await cluster.reload(us)
            #expect(line.contains("configuration reloaded") && line.contains("peer certificate"), "\(line)")
            #expect(line.contains("reload.links_closed= ") || line.contains("reload.links_closed=\"\""), "\(line)")
            let newCertificate = try NIOSSLCertificate.fromPEMFile(
                DevelopmentCertificates.certificatePath(cluster.certDir, us))[0]
            #expect(
                try await served(cluster, port: cluster.peerPorts[us]!) == newCertificate,
                "a new handshake got the old certificate")
            let expiry = try #require(try await expirySeconds(cluster, us, "peer"))
            #expect(expiry < 31 * day && expiry > 29 * day, "expiry gauge \(expiry)")

            // The link carries a write after the reload, and it never dropped.
            #expect(try await cluster.create(at: us, order: "after-reload").status == 201)
            try await eventually("ap-northeast-1 holds the write made after the reload", timeout: 20) {
                try await cluster.vector(ap, us) >= 1
            }
            for (r, peer) in [(ap, us), (us, ap)] {
                let log = cluster.fullLog(r)
                #expect(count(log, "] peer connected", peer: peer) == connects[r], "\(r) connected to \(peer) again")
                #expect(count(log, "] peer disconnected", peer: peer) == 0, "\(r) lost its link to \(peer)")
                #expect(
                    count(log, "replacing the older connection", peer: peer) == 0, "\(r) replaced its link to \(peer)")
                #expect(await cluster.allPeersConnected(r, expected: [peer]))
            }
        } catch {
            Issue.record("log ap:\n\(cluster.log(ap))\nlog us:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    /// us-east-1 moves to another CA. With both CAs in its CA file (the old one still
    /// covering ap-northeast-1's certificate), the link stays; with the new CA alone,
    /// the link whose peer certificate does not chain to it is closed, and the peer
    /// cannot come back: its certificate is refused at the handshake.
    @Test func anotherCAClosesTheLinksItDoesNotCover() async throws {
        let cluster = try LocalCluster(regions: [ap, us])
        do {
            try await cluster.startAllConnected()
            let other = cluster.dir.appendingPathComponent("other-ca").path
            try DevelopmentCertificates.make(in: other, regions: [us], caName: "another paynode CA")
            let bundle = cluster.dir.appendingPathComponent("both-cas.pem").path
            let (oldCA, newCA) = (
                try String(contentsOfFile: DevelopmentCertificates.caPath(cluster.certDir), encoding: .utf8),
                try String(contentsOfFile: DevelopmentCertificates.caPath(other), encoding: .utf8)
            )
            try (oldCA + newCA).write(toFile: bundle, atomically: true, encoding: .utf8)
            try rewriteConfig(cluster, us) {
                $0.replacingOccurrences(of: "\(cluster.certDir)/ca.pem", with: bundle)
                    .replacingOccurrences(of: "\(cluster.certDir)/us-east-1.", with: "\(other)/us-east-1.")
            }
            let both = try await cluster.reload(us)
            #expect(both.contains("configuration reloaded") && both.contains("cluster CA"), "\(both)")
            #expect(both.contains("reload.links_closed= "), "\(both)")
            #expect(await cluster.allPeersConnected(us, expected: [ap]))

            try rewriteConfig(cluster, us) { $0.replacingOccurrences(of: bundle, with: "\(other)/ca.pem") }
            let line = try await cluster.reload(us)
            #expect(line.contains("configuration reloaded") && line.contains("cluster CA"), "\(line)")
            #expect(line.contains("reload.links_closed=ap-northeast-1"), "\(line)")
            try await eventually("us-east-1 refuses ap-northeast-1's redial", timeout: 20) {
                ((try await cluster.cluster(us)["transport"] as? [String: Any])?["refused_peers"] as? Int ?? 0) > 0
            }
            #expect(await cluster.allPeersConnected(us, expected: [ap]) == false)
            #expect(cluster.exitStatus(us) == nil && cluster.exitStatus(ap) == nil)
        } catch {
            Issue.record("log ap:\n\(cluster.log(ap))\nlog us:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }
}
