import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import PaymentsWire
import ReplicaCore
import Synchronization

/// A nearest-region client for paynode.
///
/// Given every region's base URL and an API key, it measures latency to each region
/// (`/health` probes, smoothed), sends each call to the nearest healthy region, and fails
/// over to the next on connection errors, timeouts and 5xx, using ReplicaCore's
/// `RegionRouter` (the same policy the simulator's clients use). Creates always carry an
/// `Idempotency-Key` (one is generated when none is given), so a create retried in
/// another region is the same payment; patches fail over only when the request never
/// left (connection refused). Every write's session token is kept and sent with later
/// reads and patches, so after a failover the client still reads its own writes.
public final class PaymentsClient: Sendable {
    /// Tuning.
    public struct Options: Sendable {
        /// Longest wait for one region's answer before trying the next.
        public var requestTimeout: TimeAmount = .seconds(5)
        /// Longest wait for a `/health` probe.
        public var probeTimeout: TimeAmount = .seconds(1)
        /// Longest wait to connect to a region. AsyncHTTPClient keeps retrying a refused
        /// connection until this passes, so it bounds how long failover takes.
        public var connectTimeout: TimeAmount = .seconds(1)
        /// The failover policy's tuning.
        public var router = RegionRouter.Config()
        /// A PEM file of the CA the regions' HTTPS certificates come from (a private CA,
        /// like `paynode certs` makes); nil trusts the system's roots.
        public var trustedCAPath: String?
        public init() {}
    }

    /// One region as the client sees it.
    public struct RegionState: Sendable {
        public let url: String
        /// The region's name, once an answer carried `X-Region`.
        public let name: String?
        /// Smoothed latency in microseconds, once measured.
        public let latencyMicros: UInt64?
        public let healthy: Bool
    }

    let apiKey: String
    let options: Options
    let http: HTTPClient
    let state: Mutex<State>

    struct State {
        /// Every region URL ever given, in order: region `i` is the router's `r<i>`.
        /// Only added to; a removed region leaves the router, not this list.
        var urls: [String]
        var router: RegionRouter
        var names: [Int: String] = [:]
        var session = VersionVector()
    }

    /// A client over `regionURLs` (e.g. `http://127.0.0.1:8101`), in no particular order.
    public init(regionURLs: [String], apiKey: String, options: Options = Options()) throws(PaymentsClientError) {
        let cleaned = try regionURLs.map(Self.checkedURL)
        guard !cleaned.isEmpty else { throw .configuration("give at least one region URL") }
        self.apiKey = apiKey
        self.options = options
        var configuration = HTTPClient.Configuration(timeout: .init(connect: options.connectTimeout))
        if let ca = options.trustedCAPath {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(ca)
            tls.minimumTLSVersion = .tlsv12
            configuration.tlsConfiguration = tls
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        state = Mutex(
            State(urls: cleaned, router: RegionRouter(regions: cleaned.indices.map(Self.key), config: options.router)))
    }

    /// The router's name for region `i` of `State.urls`.
    static func key(_ i: Int) -> RegionID { RegionID("r\(i)")! }

    /// The index in `State.urls` of a router name `key(i)` made.
    static func index(_ key: RegionID) -> Int { Int(key.name.dropFirst())! }

    /// `url` without a trailing slash, or why it is not a region URL.
    static func checkedURL(_ url: String) throws(PaymentsClientError) -> String {
        let cleaned = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard URL(string: cleaned)?.host != nil, cleaned.hasPrefix("http://") || cleaned.hasPrefix("https://") else {
            throw .configuration("\(cleaned) is not an http(s) URL")
        }
        return cleaned
    }

    /// The region URLs requests may go to now (added ones included, removed ones not).
    var activeRegions: [(index: Int, url: String)] {
        state.withLock { s in s.router.health.keys.map(Self.index).sorted().map { ($0, s.urls[$0]) } }
    }

    /// Adds a region that joined the cluster: requests may go to it from now on (unmeasured,
    /// it ranks after measured regions until `measureLatencies` or a request times it). The
    /// session token and change-feed cursors simply gain its writes. A URL already in use
    /// changes nothing.
    public func addRegion(url: String) throws(PaymentsClientError) {
        let cleaned = try Self.checkedURL(url)
        state.withLock { s in
            guard !s.router.health.keys.contains(where: { s.urls[Self.index($0)] == cleaned }) else { return }
            s.urls.append(cleaned)
            s.router.addRegion(Self.key(s.urls.count - 1))
        }
    }

    /// Removes a region retired from the cluster: no request goes to it again. Refused for
    /// the last region, and for a URL the client does not use.
    public func removeRegion(url: String) throws(PaymentsClientError) {
        let cleaned = try Self.checkedURL(url)
        let problem: String? = state.withLock { s in
            guard let key = s.router.health.keys.first(where: { s.urls[Self.index($0)] == cleaned }) else {
                return "\(cleaned) is not one of this client's regions"
            }
            guard s.router.health.count > 1 else { return "\(cleaned) is this client's last region" }
            s.router.removeRegion(key)
            return nil
        }
        if let problem { throw .configuration(problem) }
    }

    /// Closes the connections. Calling it is good manners, not a duty: a client dropped
    /// without it closes its connections in the background.
    public func shutdown() async throws { try await http.shutdown() }

    deinit {
        // AsyncHTTPClient traps (in debug builds) when a client it made is released while
        // running, e.g. when a caller's `try` threw before `shutdown()`. Shutting down here
        // is safe: the pool's completion handler keeps `http` alive until it is closed, and
        // a second shutdown only reports `alreadyShutdown`, which is ignored.
        http.shutdown { _ in }
    }

    // MARK: - Latency

    /// Probes every region's `/health` at once and feeds the latencies to the router.
    public func measureLatencies() async {
        await withTaskGroup(of: Void.self) { group in
            for (i, url) in activeRegions {
                group.addTask { [self] in
                    let started = DispatchTime.now().uptimeNanoseconds
                    do {
                        let response = try await http.execute(
                            HTTPClientRequest(url: url + "/health"), timeout: options.probeTimeout)
                        _ = try await response.body.collect(upTo: 4_096)
                        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1_000
                        let name = response.headers.first(name: "X-Region")
                        state.withLock {
                            if response.status.code < 500 {
                                $0.router.recordSuccess(Self.key(i), latencyMicros: micros)
                            } else {
                                $0.router.recordFailure(Self.key(i), nowMillis: Self.nowMillis())
                            }
                            if let name { $0.names[i] = name }
                        }
                    } catch {
                        state.withLock { $0.router.recordFailure(Self.key(i), nowMillis: Self.nowMillis()) }
                    }
                }
            }
        }
    }

    /// What the client knows of each region, nearest first.
    public var regions: [RegionState] {
        state.withLock { s in
            let now = Self.nowMillis()
            return s.router.ranked(nowMillis: now).map { key in
                let i = Self.index(key)
                return RegionState(
                    url: s.urls[i], name: s.names[i], latencyMicros: s.router.health[key]?.latencyMicros,
                    healthy: s.router.isHealthy(key, nowMillis: now))
            }
        }
    }

    /// The session token sent with reads (`region:seq,...`), empty before any write.
    public var sessionToken: String {
        state.withLock { SessionToken.format($0.session) }
    }

    // MARK: - Calls

    /// Creates a payment. `idempotencyKey` defaults to a new UUID, so retries are safe.
    public func create(_ payment: NewPayment, idempotencyKey: String? = nil, durability: String? = nil) async throws
        -> WriteResult
    {
        let key = idempotencyKey ?? UUID().uuidString
        var headers = ["Idempotency-Key": key]
        if let durability { headers["X-Durability"] = durability }
        let reply = try await send(
            "POST", "/v1/payments", body: try JSONEncoder().encode(payment), headers: headers,
            retry: .anyFailure)
        return try writeResult(reply, idempotencyKey: key)
    }

    /// Changes a payment (status, payment_key, description, metadata).
    public func update(_ id: String, _ change: PaymentChange, durability: String? = nil) async throws -> WriteResult {
        var headers: [String: String] = [:]
        if let durability { headers["X-Durability"] = durability }
        let reply = try await send(
            "PATCH", "/v1/payments/\(escape(id))", body: try JSONEncoder().encode(change),
            headers: headers, retry: .requestNeverSent, session: true)
        return try writeResult(reply, idempotencyKey: nil)
    }

    /// Reads a payment from the nearest region that has caught up to this client's writes.
    public func payment(_ id: String) async throws -> ReadResult<RemotePayment> {
        let reply = try await send("GET", "/v1/payments/\(escape(id))", retry: .anyFailure, session: true)
        return ReadResult(value: try decode(RemotePayment.self, reply), region: reply.region)
    }

    /// One page of the reporting list, newest first.
    public func list(_ query: PaymentQuery = PaymentQuery()) async throws -> ReadResult<PaymentPage> {
        let reply = try await send("GET", "/v1/payments" + query.queryString, retry: .anyFailure, session: true)
        return ReadResult(value: try decode(PaymentPage.self, reply), region: reply.region)
    }

    /// A region's `/v1/cluster` document as JSON bytes (the nearest region, or the one at `url`).
    public func cluster(at url: String? = nil) async throws -> ReadResult<Data> {
        let reply = try await send("GET", "/v1/cluster", retry: .anyFailure, only: url)
        return ReadResult(value: reply.body, region: reply.region)
    }

    /// The conflict log of the nearest region, as JSON bytes.
    public func conflicts(limit: Int? = nil, cursor: String? = nil) async throws -> ReadResult<Data> {
        let query = PaymentQuery(limit: limit, cursor: cursor).queryString
        let reply = try await send("GET", "/v1/conflicts" + query, retry: .anyFailure)
        return ReadResult(value: reply.body, region: reply.region)
    }

    // MARK: - Failover

    enum Retry { case anyFailure, requestNeverSent }

    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: Data
        let region: String
    }

    /// Sends to the nearest region, then the next. `elsewhere` are statuses that say
    /// "another region may answer this" (412: not caught up to this client's writes; 410
    /// on the change feed: this region no longer keeps what the cursor needs).
    func send(
        _ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:],
        retry: Retry, session: Bool = false, only: String? = nil, elsewhere: Set<Int> = [412]
    ) async throws -> Reply {
        let order: [(index: Int, url: String)] = state.withLock { s in
            s.router.ranked(nowMillis: Self.nowMillis()).map { (Self.index($0), s.urls[Self.index($0)]) }
        }.filter { only == nil || $0.url == only }
        guard !order.isEmpty else {
            throw PaymentsClientError.configuration("\(only ?? "?") is not one of this client's regions")
        }
        var failures: [String] = []
        var lastRefusal: PaymentsClientError?
        for (i, url) in order {
            var request = HTTPClientRequest(url: url + path)
            request.method = .init(rawValue: method)
            request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
            for (k, v) in headers { request.headers.add(name: k, value: v) }
            let token = sessionToken
            if session && !token.isEmpty { request.headers.add(name: "X-Session-Token", value: token) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                let response = try await http.execute(request, timeout: options.requestTimeout)
                let bytes = try await response.body.collect(upTo: 16 << 20)
                var fields: [String: String] = [:]
                for h in response.headers { fields[h.name.lowercased()] = h.value }
                let region = fields["x-region"] ?? url
                let status = Int(response.status.code)
                let data = Data(bytes.readableBytesView)
                state.withLock { if let name = fields["x-region"] { $0.names[i] = name } }
                if status >= 500 {
                    state.withLock {
                        // 503: the region is up but refuses for now; anything else is a failure.
                        if status == 503 {
                            $0.router.recordRefusal(Self.key(i), nowMillis: Self.nowMillis())
                        } else {
                            $0.router.recordFailure(Self.key(i), nowMillis: Self.nowMillis())
                        }
                    }
                    failures.append("\(region): \(status) \(Self.errorSummary(data))")
                    if retry == .anyFailure { continue }
                    throw Self.apiError(status, data, region)
                }
                let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1_000
                state.withLock { $0.router.recordSuccess(Self.key(i), latencyMicros: micros) }
                if elsewhere.contains(status) {
                    // E.g. this region has not caught up to our writes yet: another may have.
                    lastRefusal = Self.apiError(status, data, region)
                    failures.append("\(region): \(status) \(Self.errorSummary(data))")
                    continue
                }
                guard (200..<300).contains(status) else { throw Self.apiError(status, data, region) }
                return Reply(status: status, headers: fields, body: data, region: region)
            } catch let error as PaymentsClientError {
                throw error
            } catch {
                state.withLock { $0.router.recordFailure(Self.key(i), nowMillis: Self.nowMillis()) }
                failures.append("\(url): \(error)")
                if retry == .requestNeverSent && !Self.neverSent(error) {
                    throw PaymentsClientError.unavailable(
                        failures + ["not retried: the change may have been applied; read it back"])
                }
            }
        }
        throw lastRefusal ?? PaymentsClientError.unavailable(failures)
    }

    private func writeResult(_ reply: Reply, idempotencyKey: String?) throws -> WriteResult {
        if let token = reply.headers["x-session-token"] { mergeSession(token) }
        return WriteResult(
            payment: try decode(RemotePayment.self, reply), region: reply.region,
            durability: reply.headers["x-durability-achieved"] ?? "local",
            replayed: reply.headers["idempotent-replayed"] == "true", idempotencyKey: idempotencyKey)
    }

    private func mergeSession(_ token: String) {
        guard let vector = try? SessionToken.parse(token) else { return }
        state.withLock { $0.session.merge(vector) }
    }

    func decode<T: Decodable>(_ type: T.Type, _ reply: Reply) throws -> T {
        do { return try JSONDecoder().decode(type, from: reply.body) } catch {
            throw PaymentsClientError.badResponse("\(error)")
        }
    }

    func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? s }

    static func apiError(_ status: Int, _ body: Data, _ region: String) -> PaymentsClientError {
        let error = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? [String: Any]
        return .api(
            status: status, code: error?["code"] as? String ?? "http_\(status)",
            message: error?["message"] as? String ?? String(decoding: body.prefix(200), as: UTF8.self),
            field: error?["field"] as? String, region: region)
    }

    static func errorSummary(_ body: Data) -> String {
        ((try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? [String: Any])?["message"]
            as? String ?? ""
    }

    /// Whether the request cannot have reached the server (so even a non-idempotent
    /// change may be retried elsewhere).
    static func neverSent(_ error: Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let e = error as? HTTPClientError, e == .connectTimeout { return true }
        if let e = error as? IOError, e.errnoCode == ECONNREFUSED { return true }
        if case ChannelError.connectTimeout = error { return true }
        return false
    }

    static func nowMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1_000) }
}
