import Foundation
import PaymentNode
import ReplicaCore
import Testing

/// The caller's key in a real `paynode serve`'s server span, over OTLP/HTTP: the span of
/// a request carries `paynode.key_id` with the key's configured id, and the export holds
/// neither the key nor its hash.
@Suite(.serialized) struct KeyTracingTests {
    let us = RegionID("us-east-1")!

    @Test func theServerSpanNamesTheKeyByItsID() async throws {
        let receiver = try await OTLPReceiver.start()
        let cluster = try LocalCluster(regions: [us])
        do {
            try cluster.appendToConfig(
                us, "tracing:\n  otlp_endpoint: http://127.0.0.1:\(receiver.port)/\n  service_name: paynode-keys\n")
            try await cluster.start(us)
            let listed = try await cluster.call(us, "GET", "/v1/payments?merchant_id=m_traced")
            #expect(listed.status == 200, "\(listed.body)")

            // What is left is exported when the node stops, after the drain.
            cluster.stop(us, signal: SIGTERM)
            var exported: [UInt8] = []
            try await eventually("the receiver has the list's span", timeout: 20) {
                exported = receiver.traceExports.flatMap { $0 }
                return exported.contains(bytes: Array("m_traced".utf8))
            }
            #expect(exported.contains(bytes: Array("paynode.key_id".utf8)), "no paynode.key_id in the export")
            #expect(exported.contains(bytes: Array("dev".utf8)))
            #expect(!exported.contains(bytes: Array(LocalCluster.apiKey.utf8)), "the key itself was exported")
            #expect(!exported.contains(bytes: Array(NodeConfig.developmentKeyHash.utf8)), "the key's hash was exported")
        } catch {
            Issue.record("\(error)\n\(cluster.log(us))")
        }
        await cluster.shutdown()
        await receiver.stop()
    }
}
