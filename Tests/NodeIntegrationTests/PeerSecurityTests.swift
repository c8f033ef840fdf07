import Foundation
import LZ4
import PaymentDevKit
import PaymentNode
import ReplicaCore
import ReplicaTransport
import Testing

/// A node's peer port refuses certificates from another CA, certificates that name no
/// region of the cluster, and HELLOs that claim another region than the certificate;
/// malformed and oversized frames close that connection only: the node keeps serving.
@Suite(.serialized) struct PeerSecurityTests {
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    /// A legitimate peer's HELLO as framed bytes.
    func helloFrame(claiming region: RegionID) -> [UInt8] {
        PeerFrame.encode(.hello(region: region, vector: VersionVector())).bytes
    }

    func counter(_ cluster: LocalCluster, _ name: String) async throws -> Int {
        (try await cluster.cluster(us)["transport"] as? [String: Any])?[name] as? Int ?? -1
    }

    @Test func refusesImpostorsAndSurvivesGarbage() async throws {
        let cluster = try LocalCluster(regions: [us])
        do {
            try await cluster.startAll()
            let port = cluster.peerPorts[us]!
            let ca = DevelopmentCertificates.caPath(cluster.certDir)
            func legit(_ r: RegionID) async throws -> RawPeerClient {
                try await RawPeerClient.connect(
                    port: port, caPath: ca,
                    certificatePath: DevelopmentCertificates.certificatePath(cluster.certDir, r),
                    keyPath: DevelopmentCertificates.keyPath(cluster.certDir, r))
            }

            // Control: a real peer's certificate and an honest HELLO get the node's HELLO back.
            let honest = try await legit(eu)
            try await honest.send(helloFrame(claiming: eu))
            try await eventually("us-east-1 answers with its HELLO", timeout: 10) { honest.bytesReceived.count >= 5 }
            let length =
                Int(honest.bytesReceived[0]) << 24 | Int(honest.bytesReceived[1]) << 16
                | Int(honest.bytesReceived[2]) << 8 | Int(honest.bytesReceived[3])
            try await eventually("the whole HELLO frame arrived", timeout: 10) {
                honest.bytesReceived.count >= 4 + length
            }
            let reply = try PeerFrame.decodeBody(Array(honest.bytesReceived[4..<(4 + length)]))
            // Negotiated format 4 (ALPN): the HELLO announces this release, and a new cluster runs format 4.
            #expect(
                reply
                    == .hello(
                        region: us, vector: VersionVector(),
                        wire: WireAnnouncement(speaks: WireVersion.supported, active: 4, release: WireVersion.release)))
            #expect(await !honest.closedByServer(within: 0.3))
            await honest.close()

            // A certificate from another CA: refused during the handshake.
            let refusedBefore = try await counter(cluster, "refused_peers")
            let rogueDir = cluster.dir.appendingPathComponent("rogue").path
            try DevelopmentCertificates.make(in: rogueDir, regions: [eu], caName: "rogue CA")
            let rogue = try await RawPeerClient.connect(
                port: port, caPath: ca, certificatePath: DevelopmentCertificates.certificatePath(rogueDir, eu),
                keyPath: DevelopmentCertificates.keyPath(rogueDir, eu))
            try? await rogue.send(helloFrame(claiming: eu))
            #expect(await rogue.closedByServer(within: 10), "a certificate from another CA must be refused")

            // The cluster's CA, but a region that is not in the cluster.
            try DevelopmentCertificates.make(in: cluster.certDir, regions: [RegionID("sa-east-1")!])
            let stranger = try await legit(RegionID("sa-east-1")!)
            try? await stranger.send(helloFrame(claiming: RegionID("sa-east-1")!))
            #expect(await stranger.closedByServer(within: 10), "a certificate naming no cluster region must be refused")

            // Signed by the cluster's CA and naming eu-west-1, but not a region's leaf
            // certificate: no extended key usage, serverAuth only, a CA.
            let wrongDir = cluster.dir.appendingPathComponent("wrong-usage").path
            for (n, usage) in [
                DevelopmentCertificates.Usage(hasExtendedKeyUsage: false),
                DevelopmentCertificates.Usage(digitalSignature: nil, clientAuth: false),
                DevelopmentCertificates.Usage(isCA: true, digitalSignature: nil),
            ].enumerated() {
                let dir = "\(wrongDir)-\(n)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for file in ["ca.pem", "ca.key"] {
                    try FileManager.default.copyItem(atPath: "\(cluster.certDir)/\(file)", toPath: "\(dir)/\(file)")
                }
                try DevelopmentCertificates.make(in: dir, regions: [eu], usage: usage)
                let wrong = try await RawPeerClient.connect(
                    port: port, caPath: ca, certificatePath: DevelopmentCertificates.certificatePath(dir, eu),
                    keyPath: DevelopmentCertificates.keyPath(dir, eu))
                try? await wrong.send(helloFrame(claiming: eu))
                #expect(await wrong.closedByServer(within: 10), "a certificate with \(usage) must be refused")
            }
            try await eventually("the wrong-usage certificates are counted", timeout: 10) {
                try await counter(cluster, "refused_peers") >= refusedBefore + 5
            }
            // (serverAuth only is already refused by TLS itself: a client certificate needs clientAuth.)
            #expect(cluster.fullLog(us).contains("certificate has no extended key usage"))
            #expect(cluster.fullLog(us).contains("a CA certificate"))

            // A real certificate for eu-west-1 whose HELLO claims to be ap-northeast-1.
            let liar = try await legit(eu)
            try await liar.send(helloFrame(claiming: RegionID("ap-northeast-1")!))
            #expect(
                await liar.closedByServer(within: 10),
                "a HELLO naming another region than the certificate must be refused")
            try await eventually("six refusals are counted", timeout: 10) {
                try await counter(cluster, "refused_peers") >= refusedBefore + 6
            }

            // Malformed frames close that connection only.
            let malformedBefore = try await counter(cluster, "malformed_frames")
            let garbage = try await legit(eu)
            try await garbage.send([0, 0, 0, 3, 9, 1, 2])
            #expect(await garbage.closedByServer(within: 10), "an unknown frame kind must close the connection")
            let notLZ4 = try await legit(eu)
            try await notLZ4.send(helloFrame(claiming: eu) + [0, 0, 0, 4, 2, 0xde, 0xad, 0xbe])
            #expect(
                await notLZ4.closedByServer(within: 10), "a compressed frame that is not LZ4 must close the connection")
            let huge = try await legit(eu)
            try await huge.send([0x7f, 0xff, 0xff, 0xff, 1])
            #expect(await huge.closedByServer(within: 10), "an oversized frame must close the connection")
            try await eventually("three malformed frames are counted", timeout: 10) {
                try await counter(cluster, "malformed_frames") >= malformedBefore + 3
            }

            // The node kept serving throughout: clients and honest peers still get through.
            #expect(cluster.exitStatus(us) == nil)
            // (A link that came up waits for its peer's clock reading, as any link does.)
            try await cluster.waitReady(us)
            #expect(try await cluster.create(at: us, order: "after-attacks").status == 201)
            let again = try await legit(eu)
            try await again.send(helloFrame(claiming: eu))
            try await eventually("an honest peer is still answered", timeout: 10) { again.bytesReceived.count >= 5 }
            await again.close()
            let log = cluster.fullLog(us)
            #expect(log.contains("refused peer connection"))
            #expect(log.contains("malformed frame"))
        } catch {
            Issue.record("log:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    /// A second connection presenting a live peer's certificate does not replace that
    /// peer's link until its HELLO checks out: a refused one leaves the live link alone.
    @Test func refusedConnection_neverTouchesTheLiveLink() async throws {
        let ap = RegionID("ap-northeast-1")!
        let cluster = try LocalCluster(regions: [us, ap])
        do {
            try await cluster.startAll()
            try await eventually("us-east-1 sees ap-northeast-1", timeout: 20) {
                await cluster.allPeersConnected(us, expected: [ap])
            }
            let impostor = try await RawPeerClient.connect(
                port: cluster.peerPorts[us]!, caPath: DevelopmentCertificates.caPath(cluster.certDir),
                certificatePath: DevelopmentCertificates.certificatePath(cluster.certDir, ap),
                keyPath: DevelopmentCertificates.keyPath(cluster.certDir, ap))
            try await impostor.send(helloFrame(claiming: eu))
            #expect(await impostor.closedByServer(within: 10))
            let silent = try await RawPeerClient.connect(
                port: cluster.peerPorts[us]!, caPath: DevelopmentCertificates.caPath(cluster.certDir),
                certificatePath: DevelopmentCertificates.certificatePath(cluster.certDir, ap),
                keyPath: DevelopmentCertificates.keyPath(cluster.certDir, ap))
            // Connected but silent: the live link stays the link.
            let created = try await cluster.create(at: ap, order: "through-the-live-link")
            let id = try #require(created.json["id"] as? String)
            try await eventually("a write at ap-northeast-1 still reaches us-east-1", timeout: 10) {
                try await cluster.call(us, "GET", "/v1/payments/\(id)").status == 200
            }
            await silent.close()
            #expect(
                !cluster.fullLog(us).contains("replacing the older connection"),
                "a connection that never said a valid HELLO replaced the link")
            #expect(await cluster.allPeersConnected(us, expected: [ap]))
        } catch {
            Issue.record("log:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }
}
