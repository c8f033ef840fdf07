import Foundation
import PaymentsClient
import ReplicaCore
import Testing

/// A region retired from three that serve, on real nodes. eu-west-1 takes writes with the
/// others, is stopped (SIGTERM), and `paynode decommission` hands the others every write
/// it made, records the retirement and exits 0; `paynode serve` then refuses its store.
/// The two survivors get eu-west-1 moved from `peers` to `retired` and SIGHUP: they log
/// it, `/v1/cluster` lists it as retired with nothing lost, `/metrics` drops its per-peer
/// series and reports it retired, every payment it wrote is served, and writes go on. A
/// new store made under the retired name is refused by the survivors with a log line
/// saying the name was retired.
@Suite(.serialized) struct RetireRegionTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!

    @Test func aRegionIsDecommissionedWithNothingLost_andItsNameIsNeverReused() async throws {
        let cluster = try LocalCluster()
        let survivors = [ap, us]
        do {
            try await cluster.startAllConnected()
            for r in LocalCluster.allRegions { try await cluster.waitReady(r) }
            var written: [String] = []
            for i in 0..<30 {
                let r = LocalCluster.allRegions[i % 3]
                let created = try await cluster.create(at: r, order: "retire-\(i)", amount: 500 + i)
                #expect(created.status == 201, "\(r): \(created.body)")
                written.append(try #require(created.json["id"] as? String, "\(created.body)"))
            }
            let euWrites = try await cluster.vector(eu, eu)
            #expect(euWrites == 10)

            // 1. Stop eu-west-1; 2. decommission it.
            cluster.stop(eu, signal: SIGTERM)
            let decommission = try await cluster.paynode(
                ["decommission", "--config", cluster.configURL(eu).path, "--timeout-seconds", "60"], as: eu)
            #expect(decommission.status == 0, "\(decommission.output)")
            #expect(decommission.output.contains("retired eu-west-1: every peer holds all 10 of its writes"))
            let refused = try await cluster.startExpectingExit(eu)
            #expect(refused != 0)
            #expect(cluster.fullLog(eu).contains("was retired from its cluster"), "\(cluster.log(eu))")

            // 3. The survivors move it to retired and reload.
            try cluster.retireInConfigs(eu, at: survivors)
            for r in survivors {
                let outcome = try await cluster.reload(r)
                #expect(outcome.contains("retired (eu-west-1)"), "\(r): \(outcome)")
                let doc = try await cluster.cluster(r)
                let peers = (doc["peers"] as? [[String: Any]] ?? []).compactMap { $0["region"] as? String }
                #expect(peers == survivors.filter { $0 != r }.map(\.name), "\(r): \(doc)")
                let retired = doc["retired"] as? [[String: Any]] ?? []
                #expect(retired.count == 1, "\(r): \(doc)")
                #expect(retired.first?["region"] as? String == eu.name)
                #expect(retired.first?["lost_entries"] as? Int == 0, "\(r): \(retired)")
                #expect(retired.first?["last_heard_seq"] as? Int == 10, "\(r): \(retired)")
                let metrics = try await cluster.call(r, "GET", "/metrics").body
                #expect(
                    metrics.contains(#"paynode_retired_region_lost_entries{retired_region="eu-west-1"} 0"#),
                    "\(metrics)")
                #expect(!metrics.contains(#"paynode_peer_connected{peer="eu-west-1"}"#), "\(metrics)")
            }
            for id in written {
                for r in survivors {
                    let read = try await cluster.call(r, "GET", "/v1/payments/\(id)")
                    #expect(read.status == 200, "\(id) at \(r): \(read.body)")
                }
            }
            let after = try await cluster.create(at: us, order: "after", durability: "remote")
            #expect(after.status == 201, "\(after.body)")
            #expect(after.headers["x-durability-achieved"] == "remote", "\(after.headers)")

            // A new store under the retired name: the survivors refuse its certificate.
            try FileManager.default.removeItem(atPath: "\(cluster.dir.path)/data/\(eu.name)")
            let join = try await cluster.paynode(["init", "--join", "--config", cluster.configURL(eu).path], as: eu)
            #expect(join.status == 0, "\(join.output)")
            try await cluster.start(eu)
            try await eventually("us-east-1 refuses the retired name", timeout: 20) {
                cluster.fullLog(self.us).contains("a region retired from this cluster")
            }
            let ready = try await cluster.call(eu, "GET", "/ready")
            #expect(ready.status == 503, "\(ready.body)")
            cluster.stop(eu, signal: SIGKILL)
        } catch {
            let logs = LocalCluster.allRegions.map { "\($0):\n\(cluster.log($0))" }.joined(separator: "\n")
            Issue.record("\(error)\n\(logs)")
            await cluster.shutdown(keep: true)
            return
        }
        await cluster.shutdown()
    }

    @Test func aClientsRegionListGrowsAndShrinksWithoutAReset() async throws {
        let client = try PaymentsClient(
            regionURLs: ["https://127.0.0.1:9001", "https://127.0.0.1:9002/"], apiKey: "k")
        defer { Task { try? await client.shutdown() } }
        try client.addRegion(url: "https://127.0.0.1:9003")
        try client.addRegion(url: "https://127.0.0.1:9003/")  // already there
        #expect(client.regions.map(\.url).sorted() == (1...3).map { "https://127.0.0.1:900\($0)" })
        try client.removeRegion(url: "https://127.0.0.1:9002")
        #expect(client.regions.map(\.url).sorted() == ["https://127.0.0.1:9001", "https://127.0.0.1:9003"])
        #expect(throws: PaymentsClientError.self) { try client.removeRegion(url: "https://127.0.0.1:9002") }
        #expect(throws: PaymentsClientError.self) { try client.addRegion(url: "ftp://x") }
        try client.removeRegion(url: "https://127.0.0.1:9001")
        // The last region stays.
        #expect(throws: PaymentsClientError.self) { try client.removeRegion(url: "https://127.0.0.1:9003") }
    }
}
