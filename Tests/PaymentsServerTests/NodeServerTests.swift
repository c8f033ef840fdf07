import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOPosix
import PaymentDevKit
import PaymentsWire
import Prometheus
import Testing

@testable import PaymentNode
@testable import PaymentsAPI
@testable import PaymentsServer
@testable import ReplicaCore

/// The API over a real node in the test process (SQLite store in a temp folder,
/// development certificates), with Hummingbird's router test client: what the node
/// adapter reads (commits, session waits, the store's list and money at risk, the
/// process and certificate gauges, readiness after a shutdown).
@Suite(.serialized) struct NodeServerTests {
    let auth: HTTPFields = [.authorization: "Bearer paynode-dev-key", .contentType: "application/json"]

    /// A one-region node (no peers) with its router; `remote` writes time out at once.
    static func withNode(
        sessionWaitMillis: Int = 50, keys: String? = nil, configure: (inout NodeConfig) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol, ReplicaNode) async throws -> Void
    ) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "paynode-routes-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let region = RegionID("us-east-1")!
        try DevelopmentCertificates.make(in: "\(dir)/certs", regions: [region])
        let yaml = """
            region: us-east-1
            data_dir: \(dir)/data
            api:
              listen: 127.0.0.1:0
            \(keys ?? "  key_sha256: [\(NodeConfig.developmentKeyHash)]")
              plain_http: true
              body_bytes_max: 2048
              session_wait_ms: \(sessionWaitMillis)
            peer_listen: 127.0.0.1:0
            peers: {}
            tls:
              ca: \(dir)/certs/ca.pem
              certificate: \(dir)/certs/us-east-1.pem
              key: \(dir)/certs/us-east-1.key
            tuning:
              remote_ack_timeout_ms: 20
            """
        try yaml.write(toFile: "\(dir)/node.yaml", atomically: true, encoding: .utf8)
        var config = try NodeConfig.load(file: "\(dir)/node.yaml")
        configure(&config)
        let node = try ReplicaNode(
            config: config, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        try await node.start()
        let app = Application(router: NodeServer.router(node: node))
        do {
            try await app.test(.router) { client in try await body(client, node) }
        } catch {
            await node.shutdown()
            throw error
        }
        await node.shutdown()
    }

    static func create(_ order: String, amount: String = "1250") -> ByteBuffer {
        ByteBuffer(
            string:
                #"{"merchant_id":"m_1","order_id":"\#(order)","amount":\#(amount),"currency":"EUR","method":"card"}"#)
    }

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    /// The node's own metrics move when their event happens: a commit moves the commit
    /// histograms; a read whose session token is ahead of the region waits (counted and
    /// timed) and is served once the write lands; a token the region never catches up to
    /// ends in a 412, counted apart. Each family is in the scrape before its first event.
    @Test func nodeMetricsMoveWithCommitsAndSessionWaits() async throws {
        let auth = self.auth
        try await Self.withNode(sessionWaitMillis: 1_000) { client, _ in
            @Sendable func scrape() async throws -> [String: Double] {
                let text = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: auth).body)
                var series: [String: Double] = [:]
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else {
                        continue
                    }
                    series[String(line[..<space])] = v
                }
                return series
            }
            let names = [
                "paynode_commit_duration_seconds_count", "paynode_commit_group_requests_count",
                "paynode_session_waits_total",
                "paynode_session_wait_seconds_count", "paynode_session_not_available_total",
                "paynode_snapshots_received_total",
                "paynode_snapshot_records_received_total",
            ]
            let before = try await scrape()
            // Every family is there before its first event. A region alone may already
            // have committed once (it records the wire format it turned on at its first
            // tick), so the commit families are compared with their values before the write.
            let sessionNames = names.filter { !$0.hasPrefix("paynode_commit_") }
            #expect(
                names.allSatisfy { before[$0] != nil }
                    && sessionNames.map { before[$0] } == sessionNames.map { _ in 0 },
                "\(before.filter { $0.key.contains("session") || $0.key.contains("commit") })")

            let created = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-1"))
            #expect(created.headers[HTTPField.Name("X-Session-Token")!] == "us-east-1:1")
            let committed = try await scrape()
            for name in ["paynode_commit_duration_seconds_count", "paynode_commit_group_requests_sum"] {
                #expect((committed[name] ?? 0) >= (before[name] ?? 0) + 1, "\(name) did not move with the write")
            }
            #expect(
                (committed["paynode_commit_duration_seconds_sum"] ?? 0)
                    > (before["paynode_commit_duration_seconds_sum"] ?? 0))

            // A list with the next write's token waits for it, and is served once it commits.
            var ahead = auth
            ahead[HTTPField.Name("X-Session-Token")!] = "us-east-1:2"
            async let waited = client.execute(uri: "/v1/payments", method: .get, headers: ahead)
            let deadline = ContinuousClock.now + .seconds(1)
            while try await scrape()["paynode_session_waits_total"] != 1, ContinuousClock.now < deadline {
                await Task.yield()
            }
            #expect(
                try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-2"))
                    .status == .created)
            #expect(try await waited.status == .ok)
            let served = try await scrape()
            #expect(served["paynode_session_waits_total"] == 1 && served["paynode_session_wait_seconds_count"] == 1)
            #expect(served["paynode_session_not_available_total"] == 0)

            // A token of writes this region never gets: 412, counted as such.
            var never = auth
            never[HTTPField.Name("X-Session-Token")!] = "eu-west-1:5"
            #expect(
                try await client.execute(uri: "/v1/payments", method: .get, headers: never).status
                    == .preconditionFailed)
            let refused = try await scrape()
            #expect(refused["paynode_session_waits_total"] == 2 && refused["paynode_session_wait_seconds_count"] == 2)
            #expect(refused["paynode_session_not_available_total"] == 1)
            #expect((refused["paynode_session_wait_seconds_sum"] ?? 0) >= 1, "the 412 waited its whole second")
            #expect(
                refused[#"paynode_http_requests_total{route="/v1/payments",method="GET",status_code="412"}"#] == 1,
                "\(refused.filter { $0.key.hasPrefix("paynode_http_requests_total") })")
        }
    }

    /// Catch-up progress per peer, from the engine's status: 1 for the peer streaming this
    /// region a snapshot, 0 for the others, and the records merged from each one's stream.
    @Test func catchUpGaugesFollowThePeerStreamingASnapshot() {
        func peer(_ name: String, sending: Bool, records: UInt64) -> PeerStatus {
            PeerStatus(
                region: RegionID(name)!, link: .up, lastContactMillis: nil, acked: VersionVector(),
                unreplicatedEntries: 0,
                lagMillis: 0, clockOffset: nil, sendingSnapshot: sending, snapshotRecordsReceived: records)
        }
        let registry = PrometheusCollectorRegistry()
        ReplicationMetrics.catchUp(
            [peer("eu-west-1", sending: true, records: 1_500), peer("us-west-2", sending: false, records: 0)],
            into: registry)
        var text = registry.emitToString()
        #expect(text.contains(#"paynode_catch_up_in_progress{peer="eu-west-1"} 1"#), "\(text)")
        #expect(text.contains(#"paynode_catch_up_in_progress{peer="us-west-2"} 0"#))
        #expect(text.contains(#"paynode_catch_up_records{peer="eu-west-1"} 1500"#))
        #expect(text.contains("# HELP paynode_catch_up_records "))
        // The stream ended: no longer in progress; its count stays.
        ReplicationMetrics.catchUp(
            [peer("eu-west-1", sending: false, records: 2_000), peer("us-west-2", sending: false, records: 0)],
            into: registry)
        text = registry.emitToString()
        #expect(text.contains(#"paynode_catch_up_in_progress{peer="eu-west-1"} 0"#))
        #expect(text.contains(#"paynode_catch_up_records{peer="eu-west-1"} 2000"#))
    }

    @Test func remoteDurabilityAndUnavailability() async throws {
        let auth = self.auth
        try await Self.withNode { client, node in
            // 202: remote durability asked, no other region to ack it.
            var remote = auth
            remote[HTTPField.Name("X-Durability")!] = "remote"
            let accepted = try await client.execute(
                uri: "/v1/payments", method: .post, headers: remote, body: Self.create("o-6"))
            #expect(accepted.status == .accepted)
            #expect(accepted.headers[HTTPField.Name("X-Durability-Achieved")!] == "local")

            // /v1/cluster and /metrics describe the node.
            let cluster = try await client.execute(uri: "/v1/cluster?digest=true", method: .get, headers: auth)
            #expect(cluster.status == .ok)
            #expect(Self.json(cluster)["region"] as? String == "us-east-1")
            #expect((Self.json(cluster)["state_digest"] as? String)?.count == 64)
            // A region alone holds its payments only: all of their amounts are at risk.
            let usd = ByteBuffer(
                string: #"{"merchant_id":"m_1","order_id":"o-usd","amount":500,"currency":"USD","method":"card"}"#)
            #expect(
                try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: usd).status
                    == .created)
            let document = Self.json(try await client.execute(uri: "/v1/cluster", method: .get, headers: auth))
            let atRisk = document["rpo_exposure_amounts"]
            #expect(document["rpo_exposure_amounts_age_seconds"] as? Int == 0, "a quick read is of the store as it is")
            #expect(
                (atRisk as? [[String: Any]])?.map { "\($0["currency"]!) \($0["amount"]!)" } == ["EUR 1250", "USD 500"])
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: auth).body)
            #expect(metrics.contains("paynode_rpo_exposure_seconds"))
            #expect(metrics.contains("paynode_rpo_exposure_amount{currency=\"EUR\"} 1250"), "\(metrics)")

            // 503 once the node stops taking writes; reads are still served.
            await node.shutdown()
            let refused = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-7"))
            #expect(refused.status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/ready", method: .get).status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/v1/payments", method: .get, headers: auth).status == .ok)
        }
    }

    /// The scrape carries the node's process, store files and certificates (development
    /// ones: valid for a year).
    @Test func metricsDescribeTheProcessFilesAndCertificates() async throws {
        let auth = self.auth
        try await Self.withNode { client, _ in
            #expect(
                try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-1"))
                    .status == .created)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: auth).body)
            for name in [
                "paynode_build_info{version=", "paynode_process_resident_memory_bytes ", "paynode_process_open_fds ",
                "paynode_process_cpu_seconds_total ", "paynode_store_bytes{file=\"database\"} ",
                "paynode_data_dir_free_bytes ", "paynode_wal_checkpoints_total ",
                "paynode_wal_checkpoints_inline_total ", "paynode_wal_checkpoint_failures_total ",
                "paynode_http_requests_total{",
            ] {
                #expect(text.contains(name), "no \(name) in /metrics")
            }
            let expiry = text.split(separator: "\n").first {
                $0.hasPrefix("paynode_certificate_expiry_seconds{certificate=\"peer\"}")
            }
            #expect(
                expiry.flatMap { Double($0.split(separator: " ").last!) }.map { $0 > 86_400 } == true,
                "\(expiry ?? "none")")
        }
    }

    /// The reporting list pages through the store with the cursor it issued: no gap, no repeat.
    @Test func theListPagesThroughTheStore() async throws {
        let auth = self.auth
        try await Self.withNode { client, _ in
            for i in 1...3 {
                #expect(
                    try await client.execute(
                        uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-\(i)")
                    ).status == .created)
            }
            let first = Self.json(try await client.execute(uri: "/v1/payments?limit=2", method: .get, headers: auth))
            let firstOrders = (first["data"] as? [[String: Any]])?.compactMap { $0["order_id"] as? String } ?? []
            #expect(firstOrders.count == 2)
            let cursor = try #require(first["next_cursor"] as? String)
            let second = Self.json(
                try await client.execute(uri: "/v1/payments?limit=2&cursor=\(cursor)", method: .get, headers: auth))
            let secondOrders = (second["data"] as? [[String: Any]])?.compactMap { $0["order_id"] as? String } ?? []
            #expect(
                (firstOrders + secondOrders).sorted() == ["o-1", "o-2", "o-3"], "no gap and no repeat across pages")
            #expect(second["next_cursor"] is NSNull)
            let conflicts = try await client.execute(uri: "/v1/conflicts", method: .get, headers: auth)
            #expect(conflicts.status == .ok && (Self.json(conflicts)["data"] as? [Any])?.isEmpty == true)
        }
    }

    /// What the read fast path answers for a node, the payment's body read at once from
    /// its row's columns, is the router's body for it, byte for byte, also after a change.
    @Test func theBodyReadAtOnceIsTheRoutersBody() async throws {
        let auth = self.auth
        try await Self.withNode { client, node in
            let created = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-body"))
            let text = try #require(Self.json(created)["id"] as? String)
            let id = try #require(PaymentID(text))
            for patch in [#"{"status":"authorized","description":"café \"x\""}"#, #"{"metadata":{"a":"b\nc"}}"#] {
                let routed = try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: auth)
                let body = try #require(node.readPaymentBodyAtOnce(id))
                #expect(body.json == Array(buffer: routed.body))
                #expect(body.merchantID == "m_1")
                let changed = try await client.execute(
                    uri: "/v1/payments/\(id)", method: .patch, headers: auth, body: ByteBuffer(string: patch))
                #expect(changed.status == .ok)
            }
            let routed = try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: auth)
            #expect(node.readPaymentBodyAtOnce(id)?.json == Array(buffer: routed.body))
            #expect(node.readPaymentBodyAtOnce(PaymentID.derived(merchantID: "m_1", idempotencyKey: "none")) == nil)
        }
    }

    /// Money at risk is kept between answers while the store has not changed, and read
    /// again after a commit: each write shows at once, and asking twice changes nothing.
    @Test func moneyAtRiskFollowsEveryCommit() async throws {
        let auth = self.auth
        try await Self.withNode { client, node in
            @Sendable func atRisk() async throws -> [String] {
                try await node.moneyAtRisk(node.status()).total.map { "\($0.currency) \($0.minorUnits)" }
            }
            let empty = try await atRisk()
            #expect(empty == [])
            let first = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-1", amount: "1250"))
            #expect(first.status == .created)
            let (once, twice) = (try await atRisk(), try await atRisk())
            #expect(once == ["EUR 1250"], "a region alone holds every write of its own only")
            #expect(twice == once)
            let second = try await client.execute(
                uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-2", amount: "700"))
            #expect(second.status == .created)
            let after = try await atRisk()
            #expect(after == ["EUR 1950"], "the kept answer was read again after the commit")
        }
    }
}
