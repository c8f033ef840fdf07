import Foundation
import ReplicaCore
import Testing

/// A fourth region joins three that serve, on real nodes, with nothing stopped or reset.
/// Three regions take creates, patches and `remote` writes; sa-east-1 gets a certificate
/// from the same CA and a config listing them; each of the three has it added to `peers`
/// and is sent SIGHUP: it logs the join and lists the region (not connected) while it
/// keeps taking writes, `remote` ones included. Then `paynode init --join` and `serve`:
/// the new region becomes ready, reaches the same state digest as the others, serves
/// every earlier payment, runs wire format 4; a payment written there reaches the other
/// three, and its history names the new region and the key. A change-feed cursor taken
/// before the join is still served at an old region, and paging from it yields exactly
/// the changes after it, the new region's included. The new region caught up from a
/// snapshot (its peers had trimmed their logs), so it refuses that cursor with 410 and
/// the oldest one it serves, never as if there were no changes: a consumer moves on.
@Suite(.serialized) struct JoinRegionTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!
    let sa = RegionID("sa-east-1")!

    @Test func aFourthRegionJoinsCatchesUpTakesWritesAndOldCursorsStayValid() async throws {
        let cluster = try LocalCluster()
        let old = LocalCluster.allRegions
        let all = old + [sa]
        let began = Date()
        do {
            try await cluster.startAllConnected()
            for r in old { try await cluster.waitReady(r) }
            var ids: [String] = []
            /// Creates at the three regions in turn, authorizing every fifth payment; one `remote` write.
            func write(_ count: Int, tag: String) async throws {
                for i in 0..<count {
                    let r = old[i % old.count]
                    let created = try await cluster.create(at: r, order: "\(tag)-\(i)", amount: 100 + i)
                    #expect(created.status == 201, "\(r): \(created.body)")
                    let id = try #require(created.json["id"] as? String, "\(r): \(created.body)")
                    ids.append(id)
                    if i % 5 == 0 {
                        let patched = try await cluster.call(
                            r, "PATCH", "/v1/payments/\(id)", body: #"{"status":"authorized"}"#)
                        #expect(patched.status == 200, "\(patched.body)")
                    }
                }
                let remote = try await cluster.create(at: us, order: "\(tag)-remote", durability: "remote")
                #expect(remote.status == 201, "\(remote.body)")
                #expect(remote.headers["x-durability-achieved"] == "remote", "\(remote.headers)")
                ids.append(try #require(remote.json["id"] as? String))
            }
            try await write(60, tag: "before")

            // A consumer's cursor from before the join: part way through eu's feed.
            let first = try await cluster.call(eu, "GET", "/v1/events?limit=25")
            #expect(first.status == 200, "\(first.body)")
            let cursor = try #require(first.json["cursor"] as? String, "\(first.body)")
            #expect((first.json["data"] as? [Any])?.count == 25, "\(first.body)")

            // The new region's files; each old region's peers gain it on a reload.
            try cluster.addRegion(sa)
            for r in old {
                let outcome = try await cluster.reload(r)
                #expect(
                    outcome.contains("configuration reloaded") && outcome.contains("\(sa.name) added"), "\(outcome)")
                let joinedLine = cluster.fullLog(r).split(separator: "\n").contains {
                    $0.contains("region joined the cluster") && $0.contains(sa.name)
                }
                #expect(joinedLine, "\(r): \(cluster.log(r))")
                try await eventually("\(r) lists \(sa) among its peers", timeout: 20) {
                    let peers = try await cluster.cluster(r)["peers"] as? [[String: Any]] ?? []
                    return peers.contains { $0["region"] as? String == sa.name && $0["connected"] as? Bool == false }
                }
            }
            // The old regions keep taking writes (`remote` too) while the new one is not up.
            try await write(30, tag: "between")

            try await cluster.start(sa)
            try await cluster.waitReady(sa, timeout: 60)
            try await eventually("every region is connected to every other", timeout: 30) {
                for r in all where !(await cluster.allPeersConnected(r, expected: all.filter { $0 != r })) {
                    return false
                }
                return true
            }
            try await waitConverged(cluster, all)
            for id in ids {
                let read = try await cluster.call(sa, "GET", "/v1/payments/\(id)")
                #expect(read.status == 200, "\(id) at \(sa): \(read.body)")
            }
            let wire = try await cluster.cluster(sa)["wire"] as? [String: Any] ?? [:]
            #expect(wire["active"] as? Int == 4, "\(wire)")

            // A write at the new region reaches the others; its history names sa and the key.
            let created = try await cluster.create(at: sa, order: "joined-1", key: "joined-1", durability: "remote")
            #expect(created.status == 201, "\(created.body)")
            #expect(created.headers["x-durability-achieved"] == "remote", "\(created.headers)")
            let id = try #require(created.json["id"] as? String, "\(created.body)")
            let patched = try await cluster.call(sa, "PATCH", "/v1/payments/\(id)", body: #"{"status":"authorized"}"#)
            #expect(patched.status == 200, "\(patched.body)")
            for r in old {
                try await eventually("\(r) reads \(sa)'s payment authorized", timeout: 20) {
                    let read = try await cluster.call(r, "GET", "/v1/payments/\(id)")
                    return read.status == 200 && read.json["status"] as? String == "authorized"
                }
            }
            for r in [sa, ap] {
                let history = try await cluster.call(r, "GET", "/v1/payments/\(id)/history")
                let rows = history.json["data"] as? [[String: Any]] ?? []
                #expect(rows.map { $0["origin"] as? String } == [sa.name, sa.name], "\(r): \(history.body)")
                #expect(rows.map { $0["actor"] as? String } == ["dev", "dev"], "\(r): \(history.body)")
                #expect(rows.map { $0["kind"] as? String } == ["create", "patch"], "\(r): \(history.body)")
            }
            let vector = try await waitConverged(cluster, all)
            #expect(vector[sa.name] == 2, "\(vector)")

            // The cursor from before the join: the new region no longer has those changes.
            let seen = parse(cursor)
            let refused = try await cluster.call(sa, "GET", "/v1/events?limit=40&cursor=\(cursor)")
            #expect(refused.status == 410, "\(refused.status) \(refused.body)")
            let refusal = refused.json["error"] as? [String: Any]
            #expect(refusal?["code"] as? String == "cursor_expired", "\(refused.body)")
            let oldest = parse(refusal?["oldest_cursor"] as? String ?? "")
            #expect(seen.allSatisfy { (oldest[$0.key] ?? 0) >= $0.value }, "\(refused.body)")
            // An old region serves it.
            let expected = vector.values.reduce(0, +) - seen.values.reduce(0, +)
            for r in [ap] {
                var events: [(origin: String, seq: Int)] = []
                var last = ""
                let served = try? await eventually("\(r) serves every change after the old cursor", timeout: 20) {
                    events = []
                    var at = cursor
                    for _ in 0..<100 {
                        let page = try await cluster.call(r, "GET", "/v1/events?limit=40&cursor=\(at)")
                        last = "\(page.status) \(page.body.prefix(300))"
                        guard page.status == 200 else { return page.status == 410 }  // 410: refused for good
                        let rows = page.json["data"] as? [[String: Any]] ?? []
                        if rows.isEmpty { break }
                        events += rows.map { ($0["origin"] as? String ?? "?", $0["seq"] as? Int ?? -1) }
                        at = page.json["cursor"] as? String ?? at
                    }
                    return events.count >= expected
                }
                #expect(served != nil && !last.hasPrefix("410"), "\(r): from \(cursor), last page \(last)")
                #expect(
                    events.count == expected, "\(r): \(events.count) changes after the cursor, expected \(expected)")
                for (origin, top) in vector {
                    let seqs = events.filter { $0.origin == origin }.map(\.seq)
                    let from = (seen[origin] ?? 0) + 1
                    #expect(seqs == Array(from..<(top + 1)), "\(r): \(origin)'s changes after \(cursor): \(seqs)")
                }
            }
            print(
                "join: \(sa) joined \(old.count) regions, \(ids.count + 1) payments, \(Date().timeIntervalSince(began)) s"
            )
        } catch {
            let logs = all.map { r -> String in "\(r):\n\(cluster.log(r))" }.joined(separator: "\n")
            Issue.record("\(error)\n\(logs)")
            await cluster.shutdown(keep: true)
            return
        }
        await cluster.shutdown()
    }

    /// Waits until every region's state digest and vector are the same; returns the vector.
    @discardableResult
    func waitConverged(_ cluster: LocalCluster, _ regions: [RegionID]) async throws -> [String: Int] {
        var vector: [String: Int] = [:]
        var last: [String] = []
        do {
            try await eventually("every region has the same state digest", timeout: 60) {
                var digests: Set<String> = []
                var vectors: [[String: Int]] = []
                last = []
                for r in regions {
                    let doc = try await cluster.cluster(r, digest: true)
                    digests.insert(doc["state_digest"] as? String ?? "missing")
                    vectors.append(doc["vector"] as? [String: Int] ?? [:])
                    last.append("\(r): \(doc["state_digest"] ?? "-") \(vectors.last!)")
                }
                vector = vectors[0]
                return digests.count == 1 && !digests.contains("missing") && vectors.allSatisfy { $0 == vector }
            }
        } catch { throw ClusterError("\(error); last seen \(last)") }
        return vector
    }

    /// A cursor's text (`region:seq,...`) as a map.
    func parse(_ cursor: String) -> [String: Int] {
        var map: [String: Int] = [:]
        for part in cursor.split(separator: ",") {
            let pair = part.split(separator: ":")
            if pair.count == 2, let n = Int(pair[1]) { map[String(pair[0])] = n }
        }
        return map
    }
}
