import Foundation
import ReplicaCore
import Testing

/// Three real `paynode serve` processes on loopback with fresh certificates: a write at one region is readable at the other two; with one node
/// SIGKILLed the other two keep taking writes; after its restart all three converge to
/// the same state digest.
@Suite(.serialized) struct ThreeRegionClusterTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    @Test func replicatesSurvivesAKillAndConverges() async throws {
        let cluster = try LocalCluster()
        do {
            try await cluster.startAllConnected()

            // A write at one region is readable at the other two.
            let created = try await cluster.create(at: ap, order: "o-1", key: "key-1")
            #expect(created.status == 201, "\(created.body)")
            let id = try #require(created.json["id"] as? String)
            let token = try #require(created.headers["x-session-token"])
            #expect(created.headers["x-region"] == "ap-northeast-1")
            for r in [us, eu] {
                try await eventually("\(id) is readable at \(r)", timeout: 10) {
                    try await cluster.call(r, "GET", "/v1/payments/\(id)").status == 200
                }
                let read = try await cluster.call(r, "GET", "/v1/payments/\(id)", headers: ["X-Session-Token": token])
                #expect(read.status == 200)
                #expect(read.json["amount"] as? Int == 1_250)
                #expect(read.json["region"] as? String == "ap-northeast-1")
            }

            // SIGKILL one region: the other two keep taking writes and replicating.
            cluster.stop(eu, signal: SIGKILL)
            var written: [String] = []
            for i in 0..<20 {
                let at = i % 2 == 0 ? ap : us
                let reply = try await cluster.create(at: at, order: "during-outage-\(i)")
                #expect(reply.status == 201, "create at \(at) while eu-west-1 is down: \(reply.body)")
                if let id = reply.json["id"] as? String { written.append(id) }
            }
            // A session token of writes us-east-1 never got (eu-west-1, down, wrote nothing):
            // the read waits, then is answered 412; the node's metrics count the wait and
            // the 412, and show its group commits.
            let stale = try await cluster.call(
                us, "GET", "/v1/payments/\(id)", headers: ["X-Session-Token": "eu-west-1:1"])
            #expect(stale.status == 412, "\(stale.body)")
            let metrics = try await cluster.call(us, "GET", "/metrics").body
            func value(_ name: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
                    Double($0.split(separator: " ").last!)
                }
            }
            #expect(value("paynode_session_waits_total") == 1 && value("paynode_session_wait_seconds_count") == 1)
            #expect(value("paynode_session_not_available_total") == 1)
            #expect((value("paynode_commit_duration_seconds_count") ?? 0) >= 10, "\(metrics)")
            let patched = try await cluster.call(us, "PATCH", "/v1/payments/\(id)", body: #"{"status":"authorized"}"#)
            #expect(patched.status == 200, "\(patched.body)")
            try await eventually("ap-northeast-1 and us-east-1 agree", timeout: 10) {
                try await cluster.digest(ap) == cluster.digest(us)
            }

            // Restarted, the lost region catches up and all three hold identical state.
            try await cluster.start(eu)
            try await eventually("all three digests are equal", timeout: 30) {
                let d = try await [cluster.digest(ap), cluster.digest(us), cluster.digest(eu)]
                return Set(d).count == 1
            }
            for written in written.prefix(3) {
                #expect(try await cluster.call(eu, "GET", "/v1/payments/\(written)").status == 200)
            }
            let atEU = try await cluster.call(eu, "GET", "/v1/payments/\(id)")
            #expect(atEU.json["status"] as? String == "authorized")

            // An identical replay at another region is the same payment (same id), not a new one.
            let replay = try await cluster.create(at: us, order: "o-1", key: "key-1")
            #expect(replay.status == 200)
            #expect(replay.headers["idempotent-replayed"] == "true")
            #expect(replay.json["id"] as? String == id)
        } catch {
            Issue.record("logs:\n\(cluster.regions.map { "== \($0)\n\(cluster.log($0))" }.joined(separator: "\n"))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

    /// A `remote` write is acknowledged only once another region stored it; with every
    /// peer down it is acknowledged as `local` only, and the API says so with 202.
    @Test func remoteDurabilityWaitsForAPeer() async throws {
        let cluster = try LocalCluster(regions: [ap, us])
        do {
            try await cluster.startAll()
            try await eventually("ap-northeast-1 sees us-east-1", timeout: 20) {
                await cluster.allPeersConnected(ap, expected: [us])
            }
            let remote = try await cluster.create(at: ap, order: "r-1", durability: "remote")
            #expect(remote.status == 201, "\(remote.body)")
            #expect(remote.headers["x-durability-achieved"] == "remote")
            // The peer has it durably the moment the client hears back.
            let id = try #require(remote.json["id"] as? String)
            #expect(try await cluster.call(us, "GET", "/v1/payments/\(id)").status == 200)

            cluster.stop(us, signal: SIGKILL)
            let alone = try await cluster.create(at: ap, order: "r-2", durability: "remote")
            #expect(alone.status == 202, "\(alone.body)")
            #expect(alone.headers["x-durability-achieved"] == "local")
        } catch {
            Issue.record("logs:\n\(cluster.regions.map { "== \($0)\n\(cluster.log($0))" }.joined(separator: "\n"))")
            await cluster.shutdown(keep: true)
            throw error
        }
        await cluster.shutdown()
    }

}
