import Foundation
import PaymentNode
import ReplicaCore
import Testing

/// Traces from a real `paynode serve` with `tracing:` set, sent over OTLP/HTTP to a
/// receiver the test runs: a create's route, submit and commit spans, under the trace
/// the client's `traceparent` names, exported on shutdown. The ratio is 0, so only the
/// caller's sampled flag can have kept the trace.
@Suite(.serialized) struct TracingTests {
    let us = RegionID("us-east-1")!

    @Test func createExportsRouteSubmitAndCommitSpansInTheCallersTrace() async throws {
        let receiver = try await OTLPReceiver.start()
        let cluster = try LocalCluster(regions: [us])
        do {
            try cluster.appendToConfig(
                us,
                "tracing:\n  otlp_endpoint: http://127.0.0.1:\(receiver.port)/\n  service_name: paynode-it\n  sample_ratio: 0\n"
            )
            try await cluster.start(us)
            try await cluster.waitReady(us)

            let traceID = (0..<16).map { _ in UInt8.random(in: 0...255) }
            let parentSpanID = (0..<8).map { _ in UInt8.random(in: 0...255) }
            let traceparent = "00-\(hex(traceID))-\(hex(parentSpanID))-01"
            let created = try await cluster.call(
                us, "POST", "/v1/payments",
                body: """
                    {"merchant_id":"m_shop_42","order_id":"o-traced","amount":1250,"currency":"EUR","method":"card",\
                    "description":"Order o-traced at shop 42","metadata":{"channel":"web"}}
                    """, headers: ["traceparent": traceparent])
            #expect(created.status == 201, "\(created.body)")
            let paymentID = try #require(created.json["id"] as? String)

            // The batch processor exports every 5 s, and what is left when the node stops
            // (after the drain): stopping it means the spans must come, without a fixed wait.
            cluster.stop(us, signal: SIGTERM)
            var exported: [UInt8] = []
            try await eventually("the receiver has the create's spans", timeout: 20) {
                exported = receiver.traceExports.flatMap { $0 }
                return exported.contains(bytes: Array("paynode.store.commit".utf8))
            }
            let names = [
                "/v1/payments", "http.response.status_code", "paynode.submit", "paynode.durability.achieved",
                "paynode.store.commit", "paynode.commit.group_requests", "paynode-it", paymentID,
            ]
            for name in names {
                #expect(exported.contains(bytes: Array(name.utf8)), "no \(name) in the export")
            }
            #expect(exported.contains(bytes: traceID), "the export is not in the traceparent's trace")
            #expect(exported.contains(bytes: parentSpanID), "the route span's parent is not the caller's span")
        } catch {
            Issue.record("\(error)\n\(cluster.log(us))")
        }
        await cluster.shutdown()
        await receiver.stop()
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
