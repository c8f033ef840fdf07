import Foundation
import NIOCore
import PaymentDevKit
import PaymentNode
import PaymentsClient
import ReplicaCore
import Testing

/// PaymentsClient against three real nodes: the client reads from the nearest region (one is
/// reached through a proxy that delays its answers), fails over within a bounded time when the
/// region it uses is SIGKILLed, still reads its own write there, and a create retried
/// after a timeout in another region yields exactly one payment.
@Suite(.serialized) struct ClientFailoverTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    @Test func nearestRegionFailoverAndOnePaymentPerKey() async throws {
        let cluster = try LocalCluster()
        do {
            try await cluster.startAllConnected()
            // ap-northeast-1 is reached through a proxy that holds everything it sends 300 ms
            // (its TLS handshake too): "far away".
            let proxy = try await DelayProxy(upstreamPort: cluster.apiPorts[ap]!, delay: .milliseconds(300))
            defer { Task { await proxy.close() } }
            let url = { (r: RegionID) in r == ap ? "https://127.0.0.1:\(proxy.port)" : cluster.baseURL(r) }
            var options = PaymentsClient.Options()
            options.trustedCAPath = DevelopmentCertificates.caPath(cluster.certDir)
            options.probeTimeout = .seconds(3)  // ap-northeast-1 answers its probe too, late
            let client = try PaymentsClient(
                regionURLs: [ap, us, eu].map(url), apiKey: LocalCluster.apiKey, options: options)
            await client.measureLatencies()
            let ranked = client.regions
            #expect(ranked.last?.name == "ap-northeast-1", "the slow region must rank last: \(ranked)")
            #expect(ranked.first?.latencyMicros ?? .max < 500_000)

            // Writes and reads go to a near region, never the slow one.
            // `remote`: acked only once a peer holds it, so it survives the SIGKILL below (a
            // `local` write may die with its region before its batch leaves: that is the RPO).
            let created = try await client.create(
                NewPayment(merchantID: "m_client", orderID: "c-1", amount: 700, currency: "EUR"),
                durability: "remote")
            #expect(created.region != "ap-northeast-1")
            #expect(created.durability == "remote")
            let read = try await client.payment(created.payment.id)
            #expect(read.region != "ap-northeast-1")
            #expect(read.value.amount == 700)

            // Kill the region the client uses: the next read fails over, quickly, and still
            // sees the client's own write (session token).
            let used = try #require(RegionID(read.region))
            cluster.stop(used, signal: SIGKILL)
            let started = Date()
            let afterFailover = try await client.payment(created.payment.id)
            let took = Date().timeIntervalSince(started)
            #expect(afterFailover.region != used.name)
            #expect(afterFailover.value.id == created.payment.id)
            #expect(afterFailover.value.orderID == "c-1")
            #expect(took < 3.0, "failover took \(took) s")
            print("failover from \(used) to \(afterFailover.region) took \(Int(took * 1_000)) ms")
            let written = try await client.create(
                NewPayment(merchantID: "m_client", orderID: "c-2", amount: 800, currency: "EUR"))
            #expect(written.region != used.name)
            try await client.shutdown()

            // A create that times out at the slow region is retried at another with the same
            // key: the slow region still applies it, and both hold one and the same payment.
            let survivor = [us, eu].first { $0 != used }!
            var impatient = PaymentsClient.Options()
            impatient.requestTimeout = .milliseconds(400)
            impatient.trustedCAPath = DevelopmentCertificates.caPath(cluster.certDir)
            let retrier = try PaymentsClient(
                regionURLs: [url(ap), url(survivor)],
                apiKey: LocalCluster.apiKey, options: impatient)
            let retryStarted = Date()
            let retried = try await retrier.create(
                NewPayment(merchantID: "m_client", orderID: "c-3", amount: 900, currency: "EUR"),
                idempotencyKey: "retry-me")
            print(
                "retried create answered by \(retried.region) after \(Int(Date().timeIntervalSince(retryStarted) * 1_000)) ms; ranking \(retrier.regions)"
            )
            #expect(retried.region == survivor.name, "the first attempt at the slow region should have timed out")
            try await retrier.shutdown()
            for r in [ap, survivor] {
                try await eventually("\(r) holds the retried payment", timeout: 20) {
                    let list = try await cluster.call(r, "GET", "/v1/payments?merchant_id=m_client&order_id=c-3")
                    return (list.json["data"] as? [[String: Any]])?.count == 1
                }
                let list = try await cluster.call(r, "GET", "/v1/payments?merchant_id=m_client&order_id=c-3")
                let rows = try #require(list.json["data"] as? [[String: Any]])
                #expect(rows.count == 1)
                #expect(rows.first?["id"] as? String == retried.payment.id)
            }
        } catch {
            Issue.record("logs:\n\(cluster.regions.map { "== \($0)\n\(cluster.log($0))" }.joined(separator: "\n"))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }
}
