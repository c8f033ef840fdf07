import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import PaymentDevKit
import PaymentNode
import ReplicaCore
import Testing

/// The client API is HTTPS: TLS 1.2 or newer with the configured certificate; plain
/// HTTP to it, an older TLS, or a client that does not trust the CA get nothing.
@Suite(.serialized) struct APITLSTests {
    @Test func apiServesHTTPSOnly() async throws {
        let us = RegionID("us-east-1")!
        let cluster = try LocalCluster(regions: [us])
        do {
            try await cluster.startAll()
            try await cluster.waitReady(us)
            // HTTPS with the cluster's CA: served.
            #expect(try await cluster.create(at: us, order: "over-tls").status == 201)

            let port = cluster.apiPorts[us]!
            // Plain HTTP to the HTTPS port: no HTTP answer.
            let plain = HTTPClient(eventLoopGroupProvider: .singleton)
            let clear = try? await plain.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(5))
            #expect(clear == nil, "plain HTTP was answered")
            try await plain.shutdown()

            // TLS 1.1 at most: refused.
            var old = TLSConfiguration.makeClientConfiguration()
            old.trustRoots = .file(DevelopmentCertificates.caPath(cluster.certDir))
            old.maximumTLSVersion = .tlsv11
            let oldClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: old))
            let refused = try? await oldClient.execute(
                HTTPClientRequest(url: "https://127.0.0.1:\(port)/health"), timeout: .seconds(5))
            #expect(refused == nil, "TLS 1.1 was accepted")
            try await oldClient.shutdown()

            // A client that trusts only the system's roots: the development certificate is refused.
            let system = HTTPClient(eventLoopGroupProvider: .singleton)
            let untrusted = try? await system.execute(
                HTTPClientRequest(url: "https://127.0.0.1:\(port)/health"), timeout: .seconds(5))
            #expect(untrusted == nil, "a certificate from an unknown CA was trusted")
            try await system.shutdown()
        } catch {
            Issue.record("log:\n\(cluster.log(us))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }
}
