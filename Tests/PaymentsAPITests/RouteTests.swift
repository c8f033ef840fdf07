import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOPosix
import PaymentDevKit
@testable import PaymentNode
@testable import PaymentsAPI
import Prometheus
@testable import ReplicaCore
import Testing

/// Every status code of the API contract (openapi.yaml), through the real router,
/// middleware and a real node (SQLite store in a temp folder, real certificates), with
/// Hummingbird's router test client.
@Suite(.serialized) struct RouteTests {
    static let key = "paynode-dev-key"
    let auth: HTTPFields = [.authorization: "Bearer paynode-dev-key", .contentType: "application/json"]

    /// A one-region node (no peers) with its router; `remote` writes time out at once.
    static func withNode(sessionWaitMillis: Int = 50,
                         _ body: @Sendable (any TestClientProtocol, ReplicaNode) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("paynode-routes-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let region = RegionID("us-east-1")!
        try DevelopmentCertificates.make(in: "\(dir)/certs", regions: [region])
        let yaml = """
            region: us-east-1
            data_dir: \(dir)/data
            api:
              listen: 127.0.0.1:0
              key_sha256: [\(NodeConfig.developmentKeyHash)]
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
        let config = try NodeConfig.load(file: "\(dir)/node.yaml")
        let node = try ReplicaNode(config: config, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        try await node.start()
        let app = Application(router: PaymentsServer.router(node: node))
        do {
            try await app.test(.router) { client in try await body(client, node) }
        } catch {
            await node.shutdown()
            throw error
        }
        await node.shutdown()
    }

    static func create(_ order: String, amount: String = "1250") -> ByteBuffer {
        ByteBuffer(string: #"{"merchant_id":"m_1","order_id":"\#(order)","amount":\#(amount),"currency":"EUR","method":"card"}"#)
    }

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    static func errorCode(_ response: TestResponse) -> String? { (json(response)["error"] as? [String: Any])?["code"] as? String }
    static func errorField(_ response: TestResponse) -> String? { (json(response)["error"] as? [String: Any])?["field"] as? String }

    @Test func createReadPatchAndTheirStatuses() async throws {
        let auth = self.auth
        try await Self.withNode { client, _ in
            // 201, with the write headers.
            var headers = auth
            headers[HTTPField.Name("Idempotency-Key")!] = "k-1"
            let created = try await client.execute(uri: "/v1/payments", method: .post, headers: headers, body: Self.create("o-1"))
            #expect(created.status == .created)
            #expect(created.headers[HTTPField.Name("X-Region")!] == "us-east-1")
            #expect(created.headers[HTTPField.Name("X-Durability-Achieved")!] == "local")
            let token = try #require(created.headers[HTTPField.Name("X-Session-Token")!])
            let id = try #require(Self.json(created)["id"] as? String)
            #expect(Self.json(created)["amount"] as? Int == 1_250)
            #expect(Self.json(created)["status"] as? String == "pending")

            // 200 + Idempotent-Replayed on an identical replay; 409 on the same key with other parameters.
            let replay = try await client.execute(uri: "/v1/payments", method: .post, headers: headers, body: Self.create("o-1"))
            #expect(replay.status == .ok)
            #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(Self.json(replay)["id"] as? String == id)
            let reused = try await client.execute(uri: "/v1/payments", method: .post, headers: headers, body: Self.create("o-2"))
            #expect(reused.status == .conflict)
            #expect(Self.errorCode(reused) == "idempotency_key_reused")

            // Reads: 200 with the session token, 404 for unknown and malformed ids.
            var withToken = auth
            withToken[HTTPField.Name("X-Session-Token")!] = token
            let read = try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: withToken)
            #expect(read.status == .ok)
            #expect(Self.json(read)["order_id"] as? String == "o-1")
            let missing = try await client.execute(uri: "/v1/payments/pay_00000000000000000000000000", method: .get, headers: auth)
            #expect(missing.status == .notFound)
            #expect(Self.errorCode(missing) == "not_found")
            #expect(try await client.execute(uri: "/v1/payments/nope", method: .get, headers: auth).status == .notFound)

            // 412: a session token this region cannot catch up to.
            var ahead = auth
            ahead[HTTPField.Name("X-Session-Token")!] = "eu-west-1:5"
            let stale = try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: ahead)
            #expect(stale.status == .preconditionFailed)
            #expect(Self.errorCode(stale) == "session_not_available")
            var garbled = auth
            garbled[HTTPField.Name("X-Session-Token")!] = "eu-west-1"
            #expect(try await client.execute(uri: "/v1/payments/\(id)", method: .get, headers: garbled).status == .badRequest)

            // Patches: allowed transitions 200, an illegal one 409, an immutable field 422.
            for status in ["authorized", "completed", "refunded"] {
                let patched = try await client.execute(uri: "/v1/payments/\(id)", method: .patch, headers: auth,
                                                       body: ByteBuffer(string: #"{"status":"\#(status)"}"#))
                #expect(patched.status == .ok, "to \(status)")
                #expect(Self.json(patched)["status"] as? String == status)
            }
            let backwards = try await client.execute(uri: "/v1/payments/\(id)", method: .patch, headers: auth,
                                                     body: ByteBuffer(string: #"{"status":"pending"}"#))
            #expect(backwards.status == .conflict)
            #expect(Self.errorCode(backwards) == "invalid_status_transition")
            let immutable = try await client.execute(uri: "/v1/payments/\(id)", method: .patch, headers: auth,
                                                     body: ByteBuffer(string: #"{"amount":1}"#))
            #expect(immutable.status == .unprocessableContent)
            #expect(Self.errorCode(immutable) == "immutable_field")
            #expect(Self.errorField(immutable) == "amount")

            // The list finds it; a bad limit is 422 naming the field.
            let list = try await client.execute(uri: "/v1/payments?merchant_id=m_1&limit=10", method: .get, headers: auth)
            #expect(list.status == .ok)
            #expect((Self.json(list)["data"] as? [Any])?.count == 1)
            let badLimit = try await client.execute(uri: "/v1/payments?limit=501", method: .get, headers: auth)
            #expect(badLimit.status == .unprocessableContent)
            #expect(Self.errorField(badLimit) == "limit")
        }
    }

    @Test func refusalsOfBadInput() async throws {
        let auth = self.auth
        try await Self.withNode { client, _ in
            // 401 without a key and with a wrong one; health needs none.
            #expect(try await client.execute(uri: "/v1/payments", method: .get).status == .unauthorized)
            let wrong: HTTPFields = [.authorization: "Bearer not-the-key"]
            let refused = try await client.execute(uri: "/v1/payments", method: .get, headers: wrong)
            #expect(refused.status == .unauthorized)
            #expect(Self.errorCode(refused) == "unauthorized")
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)

            // 400 for a body that is not JSON; 422 naming the field for invalid values.
            let malformed = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: ByteBuffer(string: "{bad"))
            #expect(malformed.status == .badRequest)
            #expect(Self.errorCode(malformed) == "malformed_request")
            let fraction = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-3", amount: "12.5"))
            #expect(fraction.status == .unprocessableContent)
            #expect(Self.errorField(fraction) == "amount")
            let card = ByteBuffer(string: #"{"merchant_id":"m_1","order_id":"o-4","amount":5,"currency":"EUR","method":"card","payment_key":"4111 1111 1111 1111"}"#)
            let pan = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: card)
            #expect(pan.status == .unprocessableContent)
            #expect(Self.errorField(pan) == "payment_key")
            var badDurability = auth
            badDurability[HTTPField.Name("X-Durability")!] = "eventually"
            let durability = try await client.execute(uri: "/v1/payments", method: .post, headers: badDurability, body: Self.create("o-5"))
            #expect(durability.status == .unprocessableContent)

            // 413 for a body over the limit (2 KiB here).
            let big = ByteBuffer(string: #"{"merchant_id":"m_1","description":""# + String(repeating: "x", count: 4_000) + #""}"#)
            let tooLarge = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(Self.errorCode(tooLarge) == "body_too_large")

            // 405 with Allow for a known path, 404 for an unknown one.
            let wrongMethod = try await client.execute(uri: "/v1/cluster", method: .delete, headers: auth)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(try await client.execute(uri: "/v2/nothing", method: .get, headers: auth).status == .notFound)

            // Nothing above left a payment behind.
            let list = try await client.execute(uri: "/v1/payments", method: .get, headers: auth)
            #expect((Self.json(list)["data"] as? [Any])?.isEmpty == true)
        }
    }

    /// Every answer carries a request id: the client's when it is a plain token, else a new one.
    @Test func everyAnswerCarriesARequestID() async throws {
        try await Self.withNode { client, _ in
            let id = HTTPField.Name("X-Request-Id")!
            let offered = try await client.execute(uri: "/health", method: .get, headers: [id: "trace-42.a_b"])
            #expect(offered.headers[id] == "trace-42.a_b")
            let fresh = try await client.execute(uri: "/v1/payments", method: .get)
            #expect(fresh.status == .unauthorized)
            #expect(fresh.headers[id]?.count == 16 && fresh.headers[id]?.allSatisfy(\.isHexDigit) == true)
            let odd = try await client.execute(uri: "/health", method: .get, headers: [id: "no spaces <here>"])
            #expect(odd.headers[id] != "no spaces <here>" && odd.headers[id]?.count == 16)
        }
    }

    /// Request metrics count the status the client got: a refusal is a 4xx, not a 500, and
    /// a payment id never becomes a label.
    @Test func requestMetricsCountTheStatusTheClientGot() async throws {
        let auth = self.auth
        try await Self.withNode { client, _ in
            #expect(try await client.execute(uri: "/v1/payments", method: .get).status == .unauthorized)
            let fraction = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-1", amount: "1.5"))
            #expect(fraction.status == .unprocessableContent)
            let missing = "/v1/payments/pay_00000000000000000000000000"
            #expect(try await client.execute(uri: missing, method: .get, headers: auth).status == .notFound)
            #expect(try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-2")).status == .created)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let requests = text.split(separator: "\n").filter { $0.hasPrefix("paynode_http_requests_total{") }
            func count(_ status: Int, _ method: String) -> Int {
                requests.filter { $0.contains("status_code=\"\(status)\"") && $0.contains("method=\"\(method)\"") }
                    .compactMap { Int($0.split(separator: " ").last!) }.reduce(0, +)
            }
            #expect(count(401, "GET") == 1 && count(422, "POST") == 1 && count(404, "GET") == 1 && count(201, "POST") == 1)
            #expect(!requests.contains { $0.contains("status_code=\"500\"") }, "\(requests)")
            #expect(!text.contains("pay_00000000000000000000000000"))
            #expect(text.contains("# HELP paynode_http_requests_total "))
            #expect(text.contains("paynode_http_request_duration_seconds_bucket{"))
            // The process, its files and its certificates (development ones: valid for a year).
            for name in ["paynode_build_info{version=", "paynode_process_resident_memory_bytes ", "paynode_process_open_fds ",
                         "paynode_process_cpu_seconds_total ", "paynode_store_bytes{file=\"database\"} ", "paynode_data_dir_free_bytes "] {
                #expect(text.contains(name), "no \(name) in /metrics")
            }
            let expiry = text.split(separator: "\n").first { $0.hasPrefix("paynode_certificate_expiry_seconds{certificate=\"peer\"}") }
            #expect(expiry.flatMap { Double($0.split(separator: " ").last!) }.map { $0 > 86_400 } == true, "\(expiry ?? "none")")
        }
    }

    /// The node's own metrics move when their event happens: a commit moves the commit
    /// histograms; a read whose session token is ahead of the region waits (counted and
    /// timed) and is served once the write lands; a token the region never catches up to
    /// ends in a 412, counted apart. Each family is in the scrape before its first event.
    @Test func nodeMetricsMoveWithCommitsAndSessionWaits() async throws {
        let auth = self.auth
        try await Self.withNode(sessionWaitMillis: 1_000) { client, _ in
            @Sendable func scrape() async throws -> [String: Double] {
                let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                var series: [String: Double] = [:]
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
                    series[String(line[..<space])] = v
                }
                return series
            }
            let names = ["paynode_commit_duration_seconds_count", "paynode_commit_group_requests_count", "paynode_session_waits_total",
                         "paynode_session_wait_seconds_count", "paynode_session_not_available_total", "paynode_snapshots_received_total",
                         "paynode_snapshot_records_received_total"]
            let before = try await scrape()
            #expect(names.map { before[$0] } == names.map { _ in 0 }, "\(before.filter { $0.key.contains("session") || $0.key.contains("commit") })")

            let created = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-1"))
            #expect(created.headers[HTTPField.Name("X-Session-Token")!] == "us-east-1:1")
            let committed = try await scrape()
            #expect((committed["paynode_commit_duration_seconds_count"] ?? 0) >= 1)
            #expect((committed["paynode_commit_duration_seconds_sum"] ?? 0) > 0)
            #expect((committed["paynode_commit_group_requests_sum"] ?? 0) >= 1)

            // A list with the next write's token waits for it, and is served once it commits.
            var ahead = auth
            ahead[HTTPField.Name("X-Session-Token")!] = "us-east-1:2"
            async let waited = client.execute(uri: "/v1/payments", method: .get, headers: ahead)
            let deadline = ContinuousClock.now + .seconds(1)
            while try await scrape()["paynode_session_waits_total"] != 1, ContinuousClock.now < deadline { await Task.yield() }
            #expect(try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-2")).status == .created)
            #expect(try await waited.status == .ok)
            let served = try await scrape()
            #expect(served["paynode_session_waits_total"] == 1 && served["paynode_session_wait_seconds_count"] == 1)
            #expect(served["paynode_session_not_available_total"] == 0)

            // A token of writes this region never gets: 412, counted as such.
            var never = auth
            never[HTTPField.Name("X-Session-Token")!] = "eu-west-1:5"
            #expect(try await client.execute(uri: "/v1/payments", method: .get, headers: never).status == .preconditionFailed)
            let refused = try await scrape()
            #expect(refused["paynode_session_waits_total"] == 2 && refused["paynode_session_wait_seconds_count"] == 2)
            #expect(refused["paynode_session_not_available_total"] == 1)
            #expect((refused["paynode_session_wait_seconds_sum"] ?? 0) >= 1, "the 412 waited its whole second")
            #expect(refused[#"paynode_http_requests_total{route="/v1/payments",method="GET",status_code="412"}"#] == 1,
                    "\(refused.filter { $0.key.hasPrefix("paynode_http_requests_total") })")
        }
    }

    /// Catch-up progress per peer, from the engine's status: 1 for the peer streaming this
    /// region a snapshot, 0 for the others, and the records merged from each one's stream.
    @Test func catchUpGaugesFollowThePeerStreamingASnapshot() {
        func peer(_ name: String, sending: Bool, records: UInt64) -> PeerStatus {
            PeerStatus(region: RegionID(name)!, connected: true, lastContactMillis: nil, acked: VersionVector(), unreplicatedEntries: 0,
                       lagMillis: 0, clockOffset: nil, sendingSnapshot: sending, snapshotRecordsReceived: records)
        }
        let registry = PrometheusCollectorRegistry()
        ReplicationMetrics.catchUp([peer("eu-west-1", sending: true, records: 1_500), peer("us-west-2", sending: false, records: 0)],
                                   into: registry)
        var text = registry.emitToString()
        #expect(text.contains(#"paynode_catch_up_in_progress{peer="eu-west-1"} 1"#), "\(text)")
        #expect(text.contains(#"paynode_catch_up_in_progress{peer="us-west-2"} 0"#))
        #expect(text.contains(#"paynode_catch_up_records{peer="eu-west-1"} 1500"#))
        #expect(text.contains("# HELP paynode_catch_up_records "))
        // The stream ended: no longer in progress; its count stays.
        ReplicationMetrics.catchUp([peer("eu-west-1", sending: false, records: 2_000), peer("us-west-2", sending: false, records: 0)],
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
            let accepted = try await client.execute(uri: "/v1/payments", method: .post, headers: remote, body: Self.create("o-6"))
            #expect(accepted.status == .accepted)
            #expect(accepted.headers[HTTPField.Name("X-Durability-Achieved")!] == "local")

            // /v1/cluster and /metrics describe the node.
            let cluster = try await client.execute(uri: "/v1/cluster?digest=true", method: .get, headers: auth)
            #expect(cluster.status == .ok)
            #expect(Self.json(cluster)["region"] as? String == "us-east-1")
            #expect((Self.json(cluster)["state_digest"] as? String)?.count == 64)
            // A region alone holds its payments only: all of their amounts are at risk.
            let usd = ByteBuffer(string: #"{"merchant_id":"m_1","order_id":"o-usd","amount":500,"currency":"USD","method":"card"}"#)
            #expect(try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: usd).status == .created)
            let atRisk = Self.json(try await client.execute(uri: "/v1/cluster", method: .get, headers: auth))["rpo_exposure_amounts"]
            #expect((atRisk as? [[String: Any]])?.map { "\($0["currency"]!) \($0["amount"]!)" } == ["EUR 1250", "USD 500"])
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains("paynode_rpo_exposure_seconds"))
            #expect(metrics.contains("paynode_rpo_exposure_amount{currency=\"EUR\"} 1250"), "\(metrics)")
            let openapi = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(String(buffer: openapi.body) == OpenAPIDocument.yaml)

            // 503 once the node stops taking writes; reads are still served.
            await node.shutdown()
            let refused = try await client.execute(uri: "/v1/payments", method: .post, headers: auth, body: Self.create("o-7"))
            #expect(refused.status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/ready", method: .get).status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/v1/payments", method: .get, headers: auth).status == .ok)
        }
    }

    /// The served document is the repository's `openapi.yaml` (run scripts/embed-openapi.sh after editing it).
    @Test func servedOpenAPIMatchesTheRepositoryFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.yaml + "\n" == file, "openapi.yaml changed: run bash scripts/embed-openapi.sh")
    }
}
