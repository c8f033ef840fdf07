import Foundation
import PaymentDevKit
import PaymentNode
import ReplicaCore
import Testing

/// The end-to-end check against a running `paynode demo` (three regions in one
/// process): create at one region, read at another with the session token, patch status
/// through the allowed transitions, be refused an illegal one; and the curl the demo
/// prints works as printed.
@Suite(.serialized) struct DemoEndToEndTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    @Test func demoClusterServesTheWholeLifeCycle() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "paynode-demo-\(UUID().uuidString.prefix(8))")
        let (apiPort, peerPort) = try Self.contiguousFreePorts()
        let process = Process()
        process.executableURL = URL(
            fileURLWithPath: try ProcessInfo.processInfo.environment["PAYNODE_BINARY"] ?? Binaries.path("paynode"))
        process.arguments = ["demo", "--dir", dir.path, "--api-port", "\(apiPort)", "--peer-port", "\(peerPort)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: dir)
        }

        // Wait for the welcome text (it ends with the Ctrl-C line).
        var printed = ""
        let deadline = Date().addingTimeInterval(60)
        while !printed.contains("Ctrl-C stops all three regions"), Date() < deadline, process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed += String(decoding: chunk, as: UTF8.self)
        }
        #expect(printed.contains("Ctrl-C stops all three regions"), "demo output:\n\(printed)")
        let base = { (r: Int) in "https://127.0.0.1:\(apiPort + r)" }

        // The printed GET curl works as printed.
        let curlLine = try #require(
            printed.split(separator: "\n").first { $0.contains("curl -s --cacert") && $0.contains("/v1/payments/pay_") }
        )
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", String(curlLine).trimmingCharacters(in: .whitespaces)]
        let curlOut = Pipe()
        shell.standardOutput = curlOut
        try shell.run()
        shell.waitUntilExit()
        let fetched =
            try JSONSerialization.jsonObject(with: curlOut.fileHandleForReading.readDataToEndOfFile()) as? [String: Any]
        #expect(fetched?["merchant_id"] as? String == "m_demo", "the printed curl did not return a demo payment")

        // Create at ap-northeast-1, read at us-east-1 with the session token.
        let http = HTTP(trusting: dir.path + "/certs/ca.pem")
        let created = try await http.send(
            "POST", base(0) + "/v1/payments", headers: ["Idempotency-Key": "e2e-1"],
            body: #"{"merchant_id":"m_e2e","order_id":"e2e-1","amount":4200,"currency":"USD","method":"card"}"#)
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? String)
        let token = try #require(created.headers["x-session-token"])
        let read = try await http.send("GET", base(1) + "/v1/payments/\(id)", headers: ["X-Session-Token": token])
        #expect(read.status == 200, "\(read.body)")
        #expect(read.json["amount"] as? Int == 4_200)

        // Patch through pending -> authorized -> completed, each at a different region,
        // carrying the session token so each region has seen the previous step.
        var session = token
        for (region, status) in [(2, "authorized"), (0, "completed")] {
            let patched = try await http.send(
                "PATCH", base(region) + "/v1/payments/\(id)",
                headers: ["X-Session-Token": session], body: #"{"status":"\#(status)"}"#)
            #expect(patched.status == 200, "a patch with the session token waits for it: \(patched.body)")
            session = patched.headers["x-session-token"] ?? session
        }
        let final = try await http.send("GET", base(1) + "/v1/payments/\(id)", headers: ["X-Session-Token": session])
        #expect(final.json["status"] as? String == "completed")

        // completed -> pending is not a transition: 409, and nothing changes.
        let illegal = try await http.send(
            "PATCH", base(1) + "/v1/payments/\(id)", headers: ["X-Session-Token": session],
            body: #"{"status":"pending"}"#)
        #expect(illegal.status == 409)
        #expect((illegal.json["error"] as? [String: Any])?["code"] as? String == "invalid_status_transition")
        #expect(try await http.send("GET", base(1) + "/v1/payments/\(id)").json["status"] as? String == "completed")

        // Ctrl-C (SIGINT) stops all three regions cleanly.
        kill(process.processIdentifier, SIGINT)
        try await eventually("the demo exits after SIGINT", timeout: 20) { !process.isRunning }
        #expect(process.terminationStatus == 0)
        try await http.shutdown()
    }

    /// Two runs of three free ports each (API, then peers).
    static func contiguousFreePorts() throws -> (Int, Int) {
        for _ in 0..<50 {
            let api = Int.random(in: 20_000...40_000)
            let peer = api + 100
            if (0..<3).allSatisfy({ LoopbackPorts.isFree(api + $0) && LoopbackPorts.isFree(peer + $0) }) {
                return (api, peer)
            }
        }
        throw ClusterError("no free ports")
    }
}
