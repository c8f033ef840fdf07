import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PaymentsWire
import ReplicaCore
import Testing

@testable import PaymentsAPI

/// What bounds a key beyond its scopes: its expiry, its request rate, its concurrent
/// event streams; a reload that removes or expires it ends its streams; and what the
/// access log and `/metrics` say about it (its id, never its secret or hash).
@Suite struct KeyLimitTests {
    @Test func anExpiredKeyIs401KeyExpired() async throws {
        let service = InMemoryPaymentService()
        let expires = service.nowMillis() + 1_000
        service.replaceKeys([InMemoryPaymentService.devKey, Access.key("temp", [.admin], expiresAtMillis: expires)])
        try await Access.withRouter(service) { client in
            #expect(
                try await client.execute(uri: "/v1/cluster", method: .get, headers: Access.headers("temp")).status
                    == .ok)
            service.advanceTime(millis: 999)
            #expect(
                try await client.execute(uri: "/v1/cluster", method: .get, headers: Access.headers("temp")).status
                    == .ok)
            service.advanceTime(millis: 1)
            let expired = try await client.execute(uri: "/v1/cluster", method: .get, headers: Access.headers("temp"))
            #expect(expired.status == .unauthorized)
            #expect(Access.error(expired)["code"] == "key_expired")
            #expect(
                Access.error(expired)["message"] == "this key (id temp) expired at \(RFC3339.format(millis: expires))")
            // Paths that need no key do not care.
            #expect(
                try await client.execute(uri: "/health", method: .get, headers: Access.headers("temp")).status == .ok)
        }
    }

    /// A key with `rate_per_s: 1`, `burst: 2`: two requests at once, the third is 429 with
    /// `Retry-After`; a second later one more is taken. Other keys are not slowed.
    @Test func aKeyOverItsRateIs429WithRetryAfter() async throws {
        let service = InMemoryPaymentService()
        service.replaceKeys([InMemoryPaymentService.devKey, Access.key("slow", [.admin], ratePerSecond: 1, burst: 2)])
        try await Access.withRouter(service) { client in
            func status(_ key: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/payments", method: .get, headers: Access.headers(key))
            }
            #expect(try await status("slow").status == .ok)
            #expect(try await status("slow").status == .ok)
            let limited = try await status("slow")
            #expect(limited.status == .tooManyRequests)
            #expect(Access.error(limited)["code"] == "rate_limited")
            #expect(limited.headers[.retryAfter] == "1")
            #expect(Access.error(limited)["message"]?.contains("rate of 1 requests per second (burst 2)") == true)
            #expect(
                try await client.execute(uri: "/v1/payments", method: .get, headers: RouteTests.devHeaders).status
                    == .ok)
            // Open paths take no token.
            #expect(
                try await client.execute(uri: "/health", method: .get, headers: Access.headers("slow")).status == .ok)
            service.advanceTime(millis: 1_000)
            #expect(try await status("slow").status == .ok)
            #expect(try await status("slow").status == .tooManyRequests)
        }
    }

    /// The bucket is shared by every request of a key, whatever runs at once: of 200
    /// concurrent takes at one instant, exactly `burst` succeed.
    @Test func theBucketHoldsUnderConcurrency() async {
        let limits = APIKeyLimits()
        let key = Access.key("busy", [.admin], ratePerSecond: 10, burst: 50)
        let taken = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { limits.take(key, nowMillis: 5_000) == nil } }
            var n = 0
            for await ok in group where ok { n += 1 }
            return n
        }
        #expect(taken == 50)
        #expect(limits.take(key, nowMillis: 5_100) == nil)  // 0.1 s at 10/s: one more
        #expect(limits.take(key, nowMillis: 5_100) == 1)
        #expect(limits.take(Access.key("free", [.admin]), nowMillis: 5_100) == nil)
    }

    /// `streams_max: 1`: a second stream is 429 `streams_exhausted` while the first is open
    /// (pages are still served), and the place is free again once the first ends.
    @Test func streamsBeyondTheKeysCapAre429() async throws {
        let service = InMemoryPaymentService()
        service.replaceKeys([InMemoryPaymentService.devKey, Access.key("one", [.eventsRead], streamsMax: 1)])
        let stream = Access.headers("one", [.accept: "text/event-stream"])
        try await Access.withRouter(service) { client in
            service.holdFeed()
            let first = Task { try await client.execute(uri: "/v1/events", method: .get, headers: stream) }
            try await Self.until { service.streamsWaiting == 1 }
            let second = try await client.execute(uri: "/v1/events", method: .get, headers: stream)
            #expect(second.status == .tooManyRequests)
            #expect(Access.error(second)["code"] == "streams_exhausted")
            #expect(
                try await client.execute(uri: "/v1/events", method: .get, headers: Access.headers("one")).status == .ok)
            service.failFeed(afterReads: 0)
            service.releaseFeed()
            #expect(try await first.value.status == .ok)
            service.failFeed(afterReads: 1)
            let third = try await client.execute(uri: "/v1/events", method: .get, headers: stream)
            #expect(third.status == .ok)
        }
    }

    /// A stream checks its key before each page: removed by a reload, it ends with
    /// `key_revoked`; expired, with `key_expired`; without `events:read`, `scope_missing`.
    @Test(arguments: ["key_revoked", "key_expired", "scope_missing"])
    func aStreamEndsWhenItsKeyNoLongerAllowsIt(_ code: String) async throws {
        let service = InMemoryPaymentService()
        let key = Access.key("follower", [.eventsRead], expiresAtMillis: service.nowMillis() + 60_000)
        service.replaceKeys([InMemoryPaymentService.devKey, key])
        try await Access.withRouter(service) { client in
            _ = try await Access.create("m_1", order: "1", on: client)
            service.holdFeed()
            let stream = Task {
                try await client.execute(
                    uri: "/v1/events", method: .get, headers: Access.headers("follower", [.accept: "text/event-stream"])
                )
            }
            try await Self.until { service.streamsWaiting == 1 }
            switch code {
            case "key_revoked": service.replaceKeys([InMemoryPaymentService.devKey])
            case "key_expired": service.advanceTime(millis: 60_000)
            default:
                var narrowed = key
                narrowed.scopes = [.paymentsRead]
                service.replaceKeys([InMemoryPaymentService.devKey, narrowed])
            }
            service.releaseFeed()
            let response = try await stream.value
            let messages = String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(messages.first?.contains("event: change") == true, "\(messages)")
            #expect(
                messages.last?.hasPrefix("event: error\ndata: {\"error\":{\"code\":\"\(code)\"") == true, "\(messages)")
        }
    }

    /// The access log line and `/metrics` name the key by its id; neither holds the
    /// secret or its hash. A key no hash matches is counted under no id.
    @Test func logsAndMetricsNameTheKeyByItsID() async throws {
        let service = InMemoryPaymentService(
            apiKeys: [InMemoryPaymentService.devKey, Access.key("reporting", [.paymentsRead])], accessLog: true)
        let logs = LogCapture()
        try await Access.withRouter(service, logs: logs) { client in
            #expect(
                try await client.execute(uri: "/v1/payments", method: .get, headers: Access.headers("reporting")).status
                    == .ok)
            #expect(
                try await client.execute(uri: "/v1/cluster", method: .get, headers: Access.headers("reporting")).status
                    == .forbidden)
            #expect(
                try await client.execute(uri: "/v1/payments", method: .get, headers: Access.headers("nobody")).status
                    == .unauthorized)
            let metrics = String(
                buffer: try await client.execute(uri: "/metrics", method: .get, headers: RouteTests.devHeaders).body)
            #expect(
                metrics.contains(#"paynode_api_requests_by_key_total{key_id="reporting",status_code="200"} 1"#),
                "\(metrics)")
            #expect(metrics.contains(#"paynode_api_requests_by_key_total{key_id="reporting",status_code="403"} 1"#))
            #expect(!metrics.contains("nobody"))
        }
        let requests = logs.lines.filter { $0.hasPrefix("request ") }
        #expect(requests.count == 4, "\(requests)")
        #expect(requests.filter { $0.contains("key_id=reporting") }.count == 2, "\(requests)")
        #expect(requests.contains { $0.contains("key_id=dev") && $0.contains("http.route=/metrics") })
        let hash = SHA256.hex(SHA256.hash(Array("secret-reporting".utf8)))
        for line in logs.lines {
            #expect(!line.contains("secret-") && !line.contains(hash) && !line.contains("paynode-dev-key"), "\(line)")
        }
    }

    /// The key a header proves: the matching key among several, wherever it is in the
    /// list; anything else proves none.
    @Test func identifyFindsTheMatchingKeyAmongAll() {
        let keys = ["a", "b", "c"].map { Access.key($0, [.admin]) }
        for key in keys {
            #expect(
                APIKeyIdentification.identify("Bearer secret-\(key.id)", among: keys, nowMillis: { 0 }) == .valid(key))
        }
        #expect(APIKeyIdentification.identify(nil, among: keys, nowMillis: { 0 }) == .none)
        for header in ["Bearer ", "Bearer", "bearer secret-a", "Basic secret-a", "Bearer secret-d", "Bearer secret-a "]
        {
            #expect(APIKeyIdentification.identify(header, among: keys, nowMillis: { 0 }) == .invalid, "\(header)")
        }
        var broken = keys[0]
        broken.sha256 = []
        #expect(APIKeyIdentification.identify("Bearer secret-a", among: [broken], nowMillis: { 0 }) == .invalid)
        let expiring = Access.key("e", [.admin], expiresAtMillis: 10)
        #expect(
            APIKeyIdentification.identify("Bearer secret-e", among: [expiring], nowMillis: { 10 }) == .expired(expiring)
        )
    }

    /// Waits, yielding, until `condition` holds (no time passes: the streams park on the
    /// in-memory feed, and this only lets their tasks run).
    static func until(_ condition: () -> Bool) async throws {
        for _ in 0..<100_000 {
            if condition() { return }
            await Task.yield()
        }
        throw Access.Unexpected(description: "the condition never held")
    }
}
