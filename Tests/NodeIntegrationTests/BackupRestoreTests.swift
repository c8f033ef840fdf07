import Foundation
import PaymentNode
import ReplicaCore
import Testing

/// Real processes: a backup taken while a region serves, more writes after it, the region
/// lost with its data folder, and the region restored from the backup.
@Suite(.serialized) struct BackupRestoreTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    /// What the restored region lacks (its writes after the backup) comes back from its
    /// peers before it takes a write; its next write is numbered after every write it
    /// made, and all three regions converge. No `remote` write is lost.
    @Test func restoredRegion_takesBackItsLaterWritesAndNeverReusesASequenceNumber() async throws {
        let cluster = try LocalCluster()
        do {
            try await cluster.startAllConnected()
            for i in 0..<5 {
                #expect(try await cluster.create(at: eu, order: "before-backup-\(i)").status == 201)
            }
            let backup = cluster.dir.appendingPathComponent("eu-west-1.backup").path
            let taken = try paynode(["backup", "--config", cluster.configURL(eu).path, "--out", backup])
            #expect(taken.status == 0, "\(taken.output)")
            #expect(taken.output.contains("region eu-west-1"), "\(taken.output)")
            let again = try paynode(["backup", "--config", cluster.configURL(eu).path, "--out", backup])
            #expect(again.status != 0 && again.output.contains("never overwrites"), "\(again.output)")
            let whileServing = try paynode(["restore", "--config", cluster.configURL(eu).path, "--from", backup])
            #expect(whileServing.status != 0, "restore ran while the node held its store: \(whileServing.output)")

            // After the backup: three `remote` writes (acknowledged once a peer held them), two `local`.
            var remoteIDs: [String] = []
            for i in 0..<3 {
                let reply = try await cluster.create(at: eu, order: "remote-after-backup-\(i)", durability: "remote")
                #expect(reply.status == 201 && reply.headers["x-durability-achieved"] == "remote", "\(reply.headers)")
                remoteIDs.append(reply.json["id"] as? String ?? "")
            }
            for i in 0..<2 { #expect(try await cluster.create(at: eu, order: "local-after-backup-\(i)").status == 201) }
            try await eventually("both peers hold eu-west-1's ten writes", timeout: 20) {
                let (atAP, atUS) = (try await cluster.vector(ap, eu), try await cluster.vector(us, eu))
                return atAP == 10 && atUS == 10
            }

            try await eventually("nothing of eu-west-1's is at risk once both peers hold it", timeout: 20) {
                (try await cluster.cluster(eu)["rpo_exposure_amounts"] as? [Any])?.isEmpty == true
            }

            // The region is lost with its data folder, and restored from the backup.
            cluster.stop(eu, signal: SIGKILL)
            try FileManager.default.removeItem(atPath: "\(cluster.dir.path)/data/eu-west-1")
            let restored = try paynode(["restore", "--config", cluster.configURL(eu).path, "--from", backup])
            #expect(restored.status == 0, "\(restored.output)")
            #expect(restored.output.contains("5 payments"), "\(restored.output)")
            try await cluster.start(eu)

            var accepted: LocalCluster.Reply?
            try await eventually("eu-west-1 takes writes again", timeout: 30) {
                let reply = try await cluster.create(at: eu, order: "after-restore")
                if reply.status == 201 { accepted = reply }
                return reply.status == 201
            }
            let token = accepted?.headers["x-session-token"] ?? ""
            #expect(token.contains("eu-west-1:11"), "the first write after the restore is not eu-west-1:11: \(token)")
            for id in remoteIDs {
                #expect(
                    try await cluster.call(eu, "GET", "/v1/payments/\(id)").status == 200, "remote write \(id) lost")
            }
            try await eventually("all three digests are equal", timeout: 30) {
                try await Set([cluster.digest(ap), cluster.digest(us), cluster.digest(eu)]).count == 1
            }
        } catch {
            Issue.record("logs:\n\(cluster.regions.map { "== \($0)\n\(cluster.log($0))" }.joined(separator: "\n"))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    /// Runs the paynode command line; its exit status and everything it printed.
    private func paynode(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(
            fileURLWithPath: try ProcessInfo.processInfo.environment["PAYNODE_BINARY"] ?? Binaries.path("paynode"))
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
