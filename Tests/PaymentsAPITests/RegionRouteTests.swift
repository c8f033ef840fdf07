import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ReplicaCore
import Testing

@testable import PaymentsAPI

/// What the routes say about the region itself: durability not reached, readiness, the
/// cluster document, the conflict log's pages, `/metrics` and the served contract.
@Suite struct RegionRouteTests {
    let auth: HTTPFields = [.authorization: "Bearer paynode-dev-key", .contentType: "application/json"]

    @Test func remoteDurabilityNotReached_is202_andAStoppedRegionRefusesWrites() async throws {
        let auth = self.auth
        try await RouteTests.withService { client, service in
            // 202: remote durability asked, only local reached.
            var remote = auth
            remote[HTTPField.Name("X-Durability")!] = "remote"
            let accepted = try await client.execute(
                uri: "/v1/payments", method: .post, headers: remote, body: RouteTests.create("o-6"))
            #expect(accepted.status == .accepted)
            #expect(accepted.headers[HTTPField.Name("X-Durability-Achieved")!] == "local")
            #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)

            // 503 once the region stops taking writes, with the reason; reads are still served.
            service.refuseWrites(.unavailable("the node is shutting down"))
            let refused = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: RouteTests.create("o-7"))
            #expect(refused.status == .serviceUnavailable)
            #expect(RouteTests.errorCode(refused) == "unavailable")
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(RouteTests.errorCode(ready) == "not_ready")
            #expect(
                ((RouteTests.json(ready)["error"] as? [String: Any])?["message"] as? String)
                    == "the node is shutting down")
            #expect(try await client.execute(uri: "/v1/payments", method: .get, headers: auth).status == .ok)
        }
    }

    /// The engine's own 503s keep their codes: a region catching up on its own history,
    /// and one whose clock is out of bound.
    @Test func refusalsOfARegionThatCannotWriteKeepTheirCodes() async throws {
        let auth = self.auth
        for (error, code) in [
            (PaymentError(.regionRecovering, "catching up on its own history"), "region_recovering"),
            (PaymentError(.clockOutOfBound, "the clock is 9 s ahead of the cluster"), "clock_out_of_bound"),
        ] {
            try await RouteTests.withService { client, service in
                service.refuseWrites(.rejected(error))
                let refused = try await client.execute(
                    uri: "/v1/payments", method: .post, headers: auth, body: RouteTests.create("o-1"))
                #expect(refused.status == .serviceUnavailable, "\(code)")
                #expect(RouteTests.errorCode(refused) == code)
            }
        }
    }

    /// 201 once `remote` is reached, and the header says so; a replay answers at the
    /// durability asked; a patch that changes nothing writes nothing (same session token).
    @Test func durabilityReachedAndWritesThatWriteNothing() async throws {
        let auth = self.auth
        try await RouteTests.withService { client, service in
            service.reachRemote()
            var remote = auth
            remote[HTTPField.Name("X-Durability")!] = "remote"
            remote[HTTPField.Name("Idempotency-Key")!] = "k-remote"
            let created = try await client.execute(
                uri: "/v1/payments", method: .post, headers: remote, body: RouteTests.create("o-1"))
            #expect(created.status == .created)
            #expect(created.headers[HTTPField.Name("X-Durability-Achieved")!] == "remote")
            let replay = try await client.execute(
                uri: "/v1/payments", method: .post, headers: remote, body: RouteTests.create("o-1"))
            #expect(replay.status == .ok && replay.headers[HTTPField.Name("X-Durability-Achieved")!] == "remote")

            let id = try #require(RouteTests.json(created)["id"] as? String)
            let token = created.headers[HTTPField.Name("X-Session-Token")!]
            let same = try await client.execute(
                uri: "/v1/payments/\(id)", method: .patch, headers: auth,
                body: ByteBuffer(string: #"{"status":"pending"}"#))
            #expect(same.status == .ok)
            #expect(same.headers[HTTPField.Name("X-Session-Token")!] == token, "a patch that changed nothing wrote")
        }
    }

    /// Seconds as exact decimals, amounts as integers, null where the contract says null,
    /// and the digest only when asked for.
    @Test func theClusterDocument() async throws {
        let auth = self.auth
        try await RouteTests.withService { client, service in
            try await RouteTests.createPayments(["o-1"], on: client)
            let usd = ByteBuffer(
                string: #"{"merchant_id":"m_1","order_id":"o-usd","amount":500,"currency":"USD","method":"card"}"#)
            #expect(
                try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: usd).status
                    == .created)

            let plain = try await client.execute(uri: "/v1/cluster", method: .get, headers: auth)
            #expect(plain.status == .ok)
            let text = String(buffer: plain.body)
            #expect(text.contains(#""rpo_exposure_seconds":1.5"#), "\(text)")
            #expect(text.contains(#""clock_problem":null"#))
            #expect(!text.contains("state_digest"))
            let document = RouteTests.json(plain)
            #expect(document["region"] as? String == "us-east-1")
            #expect(document["vector"] as? [String: Int] == ["us-east-1": 2])
            let counters = document["counters"] as? [String: Int] ?? [:]
            #expect(
                counters.count == 16 && counters["snapshots_sent"] == 0 && counters["conflicts_detected"] == 0,
                "\(counters)")
            #expect(
                (document["rpo_exposure_amounts"] as? [[String: Any]])?.map { "\($0["currency"]!) \($0["amount"]!)" }
                    == ["EUR 1250", "USD 500"])

            // A peer: its last contact in RFC 3339, lag in exact seconds, its vector and clock.
            service.addPeer(
                ClusterDocument.Peer(
                    region: RegionID("eu-west-1")!, connected: true, lastContactMillis: 1_764_000_000_123,
                    acked: VersionVector([RegionID("us-east-1")!: 1]), lagMillis: 250, unreplicatedEntries: 1,
                    clockOffsetMillis: -12, clockUncertaintyMillis: 3,
                    unreplicatedAmounts: [.init(currency: "USD", amount: 500)]))
            let withPeer = String(
                buffer: try await client.execute(uri: "/v1/cluster", method: .get, headers: auth).body)
            #expect(
                withPeer.contains(
                    #"{"acked_vector":{"us-east-1":1},"clock_offset_ms":-12,"clock_uncertainty_ms":3,"connected":true,"#
                        + #""lag_seconds":0.25,"last_contact":"2025-11-24T16:00:00.123Z","region":"eu-west-1","#
                        + #""unreplicated_amounts":[{"amount":500,"currency":"USD"}],"unreplicated_entries":1,"#
                        + #""wire":{"link":null,"release":null,"speaks":null}}"#),
                "\(withPeer)")

            let withDigest = RouteTests.json(
                try await client.execute(uri: "/v1/cluster?digest=true", method: .get, headers: auth))
            #expect((withDigest["state_digest"] as? String)?.count == 64)
            let bad = try await client.execute(uri: "/v1/cluster?digest=yes", method: .get, headers: auth)
            #expect(bad.status == .unprocessableContent && RouteTests.errorField(bad) == "digest")
        }
    }

    @Test func theConflictLogPagesNewestFirst() async throws {
        let auth = self.auth
        try await RouteTests.withService { client, service in
            for i in 1...3 {
                service.recordConflict(
                    paymentID: "pay_\(i)", field: "description", winner: #""won""#, loser: #""lost""#)
            }
            let first = RouteTests.json(
                try await client.execute(uri: "/v1/conflicts?limit=2", method: .get, headers: auth))
            let rows = first["data"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["id"] as? Int } == [3, 2])
            #expect((rows.first?["winner"] as? [String: Any])?["value"] as? String == "won")
            #expect(first["next_cursor"] as? String == "2")
            let second = RouteTests.json(
                try await client.execute(uri: "/v1/conflicts?limit=2&cursor=2", method: .get, headers: auth))
            #expect((second["data"] as? [[String: Any]])?.map { $0["id"] as? Int } == [1])
            #expect(second["next_cursor"] is NSNull)
            let bad = try await client.execute(uri: "/v1/conflicts?cursor=zero", method: .get, headers: auth)
            #expect(bad.status == .unprocessableContent && RouteTests.errorField(bad) == "cursor")
        }
    }

    /// `/metrics` needs a key with `metrics:read`, and brings the service's gauges up to
    /// date first; the served contract needs no key.
    @Test func metricsAreRefreshedAtEachScrape() async throws {
        let auth = self.auth
        try await RouteTests.withService { client, service in
            try await RouteTests.createPayments(["o-1"], on: client)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .unauthorized)
            #expect(service.metricRefreshes == 0)
            let scrape = try await client.execute(uri: "/metrics", method: .get, headers: auth)
            #expect(scrape.status == .ok)
            #expect(String(buffer: scrape.body).contains("paynode_unreplicated_local_entries 1"))
            #expect(service.metricRefreshes == 1)
            let openapi = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(String(buffer: openapi.body) == OpenAPIDocument.yaml)
        }
    }
}
