import Foundation
import PaymentDevKit
import PaymentNode
import ReplicaCore
import Testing

/// Real processes losing their store's footing: a data folder wiped while the region is
/// down, and a disk that fills up and is freed again.
@Suite(.serialized) struct StoreRecoveryTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    /// A wiped region refuses writes until every peer has said what it holds of the
    /// region's writes and it has them back; then it numbers new writes after them, and
    /// all regions converge (a reused sequence number would be skipped by every peer).
    @Test func wipedRegion_refusesWritesUntilItHasItsHistoryBack() async throws {
        let cluster = try LocalCluster()
        do {
            try await cluster.startAllConnected()
            var last = ""
            for i in 0..<5 {
                let reply = try await cluster.create(at: eu, order: "before-wipe-\(i)")
                #expect(reply.status == 201, "\(reply.body)")
                last = reply.headers["x-session-token"] ?? ""
            }
            #expect(last.contains("eu-west-1:5"), "\(last)")
            try await eventually("every region holds eu-west-1's five writes", timeout: 20) {
                try await Set([cluster.digest(ap), cluster.digest(us), cluster.digest(eu)]).count == 1
            }

            // eu-west-1 loses its data folder; us-east-1 is down, so eu cannot hear from every peer.
            cluster.stop(eu, signal: SIGKILL)
            try FileManager.default.removeItem(atPath: "\(cluster.dir.path)/data/eu-west-1")
            cluster.stop(us, signal: SIGKILL)
            try await cluster.start(eu)
            let refused = try await cluster.create(at: eu, order: "right-after-wipe")
            #expect(refused.status == 503, "\(refused.body)")
            #expect(refused.body.contains("region_recovering") && refused.body.contains("us-east-1"), "\(refused.body)")
            #expect(try await cluster.call(eu, "GET", "/ready", key: nil).status == 503)

            // With every peer back, it gets its writes back and numbers the next one 6.
            try await cluster.start(us)
            var accepted: LocalCluster.Reply?
            try await eventually("eu-west-1 takes writes again", timeout: 30) {
                let reply = try await cluster.create(at: eu, order: "after-wipe")
                if reply.status == 201 { accepted = reply }
                return reply.status == 201
            }
            let token = accepted?.headers["x-session-token"] ?? ""
            #expect(token.contains("eu-west-1:6"), "the first write after the wipe is not eu-west-1:6: \(token)")
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

    /// A region whose disk fills answers writes 503 and keeps serving reads; once space is
    /// freed it takes writes and replicates again by itself, with no restart.
    @Test func fullDisk_refusesWritesThenRecoversWithoutARestart() async throws {
        let cluster = try LocalCluster(regions: [ap, us])
        let dataDir = "\(cluster.dir.path)/data/ap-northeast-1"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", dataDir]) else {
            Issue.record("cannot mount a 3 MB tmpfs for the full-disk test: it needs root (CAP_SYS_ADMIN), as CI has")
            await cluster.shutdown()
            return
        }
        defer { _ = run("/bin/umount", ["-l", dataDir]) }
        let ballast = "\(dataDir)/ballast"
        do {
            try await cluster.startAll()
            try await eventually("ap-northeast-1 sees us-east-1", timeout: 20) {
                await cluster.allPeersConnected(ap, expected: [us])
            }
            let before = try await cluster.create(at: ap, order: "before-full")
            #expect(before.status == 201, "\(before.body)")
            let id = try #require(before.json["id"] as? String)

            try fill(dataDir, leaving: 48 * 1_024, ballast: ballast)
            var full: LocalCluster.Reply?
            for i in 0..<200 where full == nil {
                let reply = try await cluster.create(at: ap, order: "while-full-\(i)")
                if reply.status != 201 { full = reply }
            }
            let refused = try #require(full, "the disk never filled up")
            #expect(refused.status == 503, "\(refused.body)")
            #expect(!refused.body.lowercased().contains("sqlite"), "SQLite's text leaked: \(refused.body)")
            #expect(
                try await cluster.call(ap, "GET", "/v1/payments/\(id)").status == 200,
                "reads stop while the disk is full")
            #expect(try await cluster.call(ap, "GET", "/ready", key: nil).status == 503)

            try FileManager.default.removeItem(atPath: ballast)
            try await eventually("ap-northeast-1 takes writes again", timeout: 30) {
                try await cluster.create(at: ap, order: "after-full").status == 201
            }
            try await eventually("ap-northeast-1 is linked to us-east-1 again", timeout: 20) {
                await cluster.allPeersConnected(ap, expected: [us])
            }
            try await eventually("both regions agree", timeout: 20) {
                try await cluster.digest(ap) == cluster.digest(us)
            }
            #expect(cluster.exitStatus(ap) == nil, "the node exited")
        } catch {
            Issue.record("logs:\n\(cluster.regions.map { "== \($0)\n\(cluster.log($0))" }.joined(separator: "\n"))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    /// A second process on a store that a node holds, or a config naming another region
    /// than the one whose data the store holds, stops at start with a clear message,
    /// before binding any port.
    @Test func secondProcessOrOtherRegion_onOneStore_failsBeforeBindingAnyPort() async throws {
        let cluster = try LocalCluster(regions: [ap])
        do {
            try await cluster.startAll()
            try await cluster.waitReady(ap)
            let dataDir = "\(cluster.dir.path)/data/ap-northeast-1"
            let (api, peer) = (try LoopbackPorts.free(), try LoopbackPorts.free())
            let second = try writeConfig(cluster, region: ap, dataDir: dataDir, api: api, peer: peer, name: "second")
            let (status, output) = try runServe(second)
            #expect(status != 0)
            #expect(output.contains("in use by another paynode process (pid "), "\(output)")
            #expect(LoopbackPorts.isFree(api) && LoopbackPorts.isFree(peer), "a port was bound")
            #expect(try await cluster.create(at: ap, order: "still-serving").status == 201)

            cluster.stop(ap, signal: SIGTERM)
            let other = try writeConfig(
                cluster, region: eu, dataDir: dataDir, api: api, peer: peer, name: "other-region")
            let (otherStatus, otherOutput) = try runServe(other)
            #expect(otherStatus != 0)
            #expect(
                otherOutput.contains("holds the data of region ap-northeast-1, but the configuration says eu-west-1"),
                "\(otherOutput)")
        } catch {
            Issue.record("logs:\n\(cluster.log(ap))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    private func writeConfig(
        _ cluster: LocalCluster, region: RegionID, dataDir: String, api: Int, peer: Int, name: String
    ) throws -> String {
        let yaml = LoopbackNodeYAML(
            region: region, dataDir: dataDir, apiPort: api, peerPort: peer, peers: [], certDir: cluster.certDir)
        let path = "\(cluster.dir.path)/\(name).yaml"
        try yaml.text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `paynode serve` and waits for it to exit (it must, at once): status and output.
    private func runServe(_ config: String) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(
            fileURLWithPath: try ProcessInfo.processInfo.environment["PAYNODE_BINARY"] ?? Binaries.path("paynode"))
        p.arguments = ["serve", "--config", config]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, output)
    }

    /// Writes a file that leaves about `leaving` bytes free on the filesystem of `dir`.
    private func fill(_ dir: String, leaving: Int, ballast: String) throws {
        var fs = statvfs()
        guard statvfs(dir, &fs) == 0 else { throw ClusterError("statvfs \(dir) failed") }
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        let size = max(0, free - leaving)
        guard FileManager.default.createFile(atPath: ballast, contents: Data(count: size)) else {
            throw ClusterError("could not write the ballast file \(ballast)")
        }
    }

    private func run(_ tool: String, _ arguments: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}
