import Foundation
import ReplicaCore
import Testing

/// A rolling upgrade on real nodes. A cluster made by the release before (wire format 3)
/// runs two regions on this release and one on the old one: the cluster stays on format 3
/// (the new regions' link runs 4, links to the old one run 3), every region converges, and
/// changes record no actor. Once the old region restarts on this release, every region
/// raises the active format to 4; changes made from then on name their key, the earlier
/// ones keep their null actors, nothing is lost, and a region can no longer be started
/// with a binary that speaks only format 3.
@Suite(.serialized) struct RollingUpgradeTests {
    let ap = RegionID("ap-northeast-1")!
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!
    static let previousRelease = ["PAYNODE_TEST_WIRE_VERSIONS": "3"]

    @Test func aMixedClusterStaysOnFormat3AndRisesTo4OnceTheLastRegionIsUpgraded() async throws {
        let cluster = try LocalCluster()
        let all = LocalCluster.allRegions
        do {
            // A cluster that runs the release before (its `init` made every store); then ap
            // and us are stopped and restarted on this release, and eu stays on the old one.
            for r in all { cluster.environment[r] = Self.previousRelease }
            try await cluster.startAll()
            try await waitConnectedAndReady(cluster)
            for r in [ap, us] {
                cluster.stop(r, signal: SIGTERM)
                cluster.environment[r] = nil
                try await cluster.start(r)
            }
            try await waitConnectedAndReady(cluster)

            // The old region keeps the cluster on format 3; ap and us link in format 4.
            try await expectWire(cluster, at: ap) {
                $0.active == 3 && $0.awaiting == [eu.name] && $0.links == [us.name: 4, eu.name: 3]
                    && $0.speaks == [us.name: 4, eu.name: 3] && $0.releases.keys.sorted() == [us.name]
            }
            try await expectWire(cluster, at: us) {
                $0.active == 3 && $0.awaiting == [eu.name] && $0.links == [ap.name: 4, eu.name: 3]
            }
            try await expectWire(cluster, at: eu) { $0.active == 3 && $0.links == [ap.name: 3, us.name: 3] }

            // Writes at every region converge; none records an actor.
            var before: [String] = []
            for r in all { before.append(try await createAndPatch(cluster, at: r, order: "before-\(r.name)")) }
            try await waitConverged(cluster)
            for r in all {
                for id in before {
                    #expect(try await actors(cluster, at: r, of: id) == [nil, nil], "payment \(id) at \(r)")
                }
            }

            // eu drains, then restarts on this release: every region raises to format 4.
            cluster.stop(eu, signal: SIGTERM)
            cluster.environment[eu] = nil
            try await cluster.start(eu)
            try await waitConnectedAndReady(cluster)
            for r in all {
                try await expectWire(cluster, at: r) {
                    $0.active == 4 && $0.awaiting.isEmpty && $0.links.count == 2
                        && $0.links.values.allSatisfy { $0 == 4 } && $0.speaks.values.allSatisfy { $0 == 4 }
                        && $0.releases.count == 2
                }
            }

            // Writes now record their key; the earlier ones keep their null actors.
            var after: [String] = []
            for r in all { after.append(try await createAndPatch(cluster, at: r, order: "after-\(r.name)")) }
            try await waitConverged(cluster)
            for r in all {
                for id in after {
                    #expect(try await actors(cluster, at: r, of: id) == ["dev", "dev"], "payment \(id) at \(r)")
                }
                for id in before {
                    #expect(try await actors(cluster, at: r, of: id) == [nil, nil], "payment \(id) at \(r)")
                }
                for id in before + after {
                    let read = try await cluster.call(r, "GET", "/v1/payments/\(id)")
                    #expect(read.status == 200 && read.json["status"] as? String == "authorized", "\(id) at \(r)")
                }
            }

            // No going back: a binary that speaks only format 3 refuses the store.
            cluster.stop(us, signal: SIGTERM)
            cluster.environment[us] = Self.previousRelease
            let status = try await cluster.startExpectingExit(us)
            #expect(status != 0)
            #expect(cluster.fullLog(us).contains("does not go back to an older"), "\(cluster.log(us))")
        } catch {
            let logs = all.map { r -> String in "\(r):\n\(cluster.log(r))" }.joined(separator: "\n")
            Issue.record("\(error)\n\(logs)")
        }
        await cluster.shutdown()
    }

    /// The `wire` object of a region's `/v1/cluster`, with each peer's link format, the
    /// newest format it speaks and its release (absent while null).
    struct Wire: CustomStringConvertible {
        var active: Int?
        var awaiting: [String]
        var links: [String: Int] = [:]
        var speaks: [String: Int] = [:]
        var releases: [String: String] = [:]
        var description = ""

        init(_ cluster: LocalCluster, at r: RegionID) async throws {
            let reply = try await cluster.call(r, "GET", "/v1/cluster")
            let wire = reply.json["wire"] as? [String: Any] ?? [:]
            active = wire["active"] as? Int
            awaiting = (wire["awaiting"] as? [String] ?? []).sorted()
            for peer in reply.json["peers"] as? [[String: Any]] ?? [] {
                guard let name = peer["region"] as? String, let its = peer["wire"] as? [String: Any] else { continue }
                links[name] = its["link"] as? Int
                speaks[name] = its["speaks"] as? Int
                releases[name] = its["release"] as? String
            }
            description = "\(r): wire \(wire), links \(links), speaks \(speaks), releases \(releases)"
        }
    }

    /// Polls the region's `wire` state until `holds` (records the last state seen if not).
    func expectWire(
        _ cluster: LocalCluster, at r: RegionID, sourceLocation: SourceLocation = #_sourceLocation,
        _ holds: @escaping (Wire) -> Bool
    ) async throws {
        var last = ""
        do {
            try await eventually("\(r)'s wire state holds", timeout: 20) {
                let wire = try await Wire(cluster, at: r)
                last = wire.description
                return holds(wire)
            }
        } catch { Issue.record("\(error); last seen \(last)", sourceLocation: sourceLocation) }
    }

    func waitConnectedAndReady(_ cluster: LocalCluster) async throws {
        for r in cluster.regions {
            try await eventually("\(r) is connected to every peer", timeout: 20) {
                await cluster.allPeersConnected(r, expected: cluster.regions.filter { $0 != r })
            }
            try await cluster.waitReady(r)
        }
    }

    /// Waits until every region's state digest is the same.
    func waitConverged(_ cluster: LocalCluster) async throws {
        try await eventually("every region has the same state digest", timeout: 30) {
            var digests: Set<String> = []
            for r in cluster.regions { digests.insert(try await cluster.digest(r)) }
            return digests.count == 1 && !digests.contains("missing")
        }
    }

    /// Creates a payment at `r` and authorizes it there; returns its id.
    func createAndPatch(_ cluster: LocalCluster, at r: RegionID, order: String) async throws -> String {
        let created = try await cluster.create(at: r, order: order, key: "upgrade-\(order)")
        #expect(created.status == 201, "\(r): \(created.body)")
        let id = try #require(created.json["id"] as? String, "\(r): \(created.body)")
        let patched = try await cluster.call(r, "PATCH", "/v1/payments/\(id)", body: #"{"status":"authorized"}"#)
        #expect(patched.status == 200, "\(r): \(patched.body)")
        return id
    }

    /// The actor of each change in the payment's history at `r`, oldest first (nil for null).
    func actors(_ cluster: LocalCluster, at r: RegionID, of id: String) async throws -> [String?] {
        let history = try await cluster.call(r, "GET", "/v1/payments/\(id)/history")
        #expect(history.status == 200, "\(r): \(history.body)")
        let rows = history.json["data"] as? [[String: Any]] ?? []
        #expect(rows.allSatisfy { $0.keys.contains("actor") }, "\(r): \(history.body)")
        return rows.map { $0["actor"] as? String }
    }
}
