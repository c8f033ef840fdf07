import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import PaymentDevKit
import PaymentNode
import ReplicaCore

/// Real `paynode serve` processes on loopback for integration tests: fresh certificates
/// from `paynode certs`' code, one YAML file per region, free ports, logs in a temp dir.
final class LocalCluster: @unchecked Sendable {
    static let allRegions = ["ap-northeast-1", "us-east-1", "eu-west-1"].map { RegionID($0)! }
    static let apiKey = "paynode-dev-key"

    let dir: URL
    let regions: [RegionID]
    let certDir: String
    private(set) var apiPorts: [RegionID: Int] = [:]
    private(set) var peerPorts: [RegionID: Int] = [:]
    private var processes: [RegionID: Process] = [:]
    /// Regions whose store `paynode init` made (their first start).
    private var initialized: Set<RegionID> = []
    /// Regions added by `addRegion`, in order: their first start runs `paynode init --join`.
    private(set) var joined: [RegionID] = []
    let http: HTTPClient
    /// Environment variables set for the region's `paynode` processes (`init` and `serve`)
    /// from its next start, over the test's own (e.g. `PAYNODE_TEST_WIRE_VERSIONS`).
    var environment: [RegionID: [String: String]] = [:]

    /// `extraKeys`: more entries of `api.keys` (the lines of each, as under `keys:`), after
    /// the development key.
    init(
        regions: [RegionID] = LocalCluster.allRegions, extraAPIConfig: (RegionID) -> String = { _ in "" },
        extraKeys: [String] = []
    ) throws {
        self.regions = regions
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("paynode-it-\(UUID().uuidString.prefix(8))")
        certDir = dir.appendingPathComponent("certs").path
        try DevelopmentCertificates.make(in: certDir, regions: LocalCluster.allRegions)
        http = HTTP.client(trusting: DevelopmentCertificates.caPath(certDir))
        for r in LocalCluster.allRegions {
            apiPorts[r] = try LoopbackPorts.free()
            peerPorts[r] = try LoopbackPorts.free()
        }
        for r in regions {
            var yaml = LoopbackNodeYAML(
                region: r, dataDir: "\(dir.path)/data/\(r.name)", apiPort: apiPorts[r]!, peerPort: peerPorts[r]!,
                peers: LocalCluster.allRegions.filter { $0 != r }.map { ($0, peerPorts[$0]!) }, certDir: certDir)
            yaml.apiKeys += extraKeys
            yaml.api = extraAPIConfig(r).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            yaml.tuning = ["ping_interval_ms: 200", "retransmit_after_ms: 1000", "clock_first_reading_ms: 600"]
            try yaml.text.write(to: configURL(r), atomically: true, encoding: .utf8)
        }
    }

    func configURL(_ r: RegionID) -> URL { dir.appendingPathComponent("\(r.name).yaml") }

    /// Prepares a region that joins the running cluster, without starting it: its
    /// certificate from the cluster's CA, free ports, and a config (default keys and API
    /// settings) whose `peers` lists every region; then adds it to every other region's
    /// `peers` in their files (reload them to apply). Its first `start` runs `init --join`.
    func addRegion(_ r: RegionID) throws {
        let others = LocalCluster.allRegions + joined
        guard !others.contains(r) else { throw ClusterError("\(r) is already a region of the cluster") }
        try DevelopmentCertificates.make(in: certDir, regions: [r])
        apiPorts[r] = try LoopbackPorts.free()
        peerPorts[r] = try LoopbackPorts.free()
        var yaml = LoopbackNodeYAML(
            region: r, dataDir: "\(dir.path)/data/\(r.name)", apiPort: apiPorts[r]!, peerPort: peerPorts[r]!,
            peers: others.map { ($0, peerPorts[$0]!) }, certDir: certDir)
        yaml.tuning = ["ping_interval_ms: 200", "retransmit_after_ms: 1000", "clock_first_reading_ms: 600"]
        for other in regions + joined {
            let lines = try String(contentsOf: configURL(other), encoding: .utf8).split(
                separator: "\n", omittingEmptySubsequences: false)
            guard let at = lines.firstIndex(where: { $0 == "peers:" || $0 == "peers: {}" }) else {
                throw ClusterError("\(configURL(other).path) has no peers line")
            }
            var edited = lines.map(String.init)
            edited[at] = "peers:"
            edited.insert("  \(r.name): 127.0.0.1:\(peerPorts[r]!)", at: at + 1)
            try edited.joined(separator: "\n").write(to: configURL(other), atomically: true, encoding: .utf8)
        }
        try yaml.text.write(to: configURL(r), atomically: true, encoding: .utf8)
        joined.append(r)
    }

    /// Adds top-level settings (a whole section, e.g. `tracing:`) to the region's config file.
    func appendToConfig(_ r: RegionID, _ text: String) throws {
        let current = try String(contentsOf: configURL(r), encoding: .utf8)
        try (current + text).write(to: configURL(r), atomically: true, encoding: .utf8)
    }
    func logPath(_ r: RegionID) -> String { dir.appendingPathComponent("\(r.name).log").path }
    func baseURL(_ r: RegionID) -> String { "https://127.0.0.1:\(apiPorts[r]!)" }

    /// Starts the region's node and waits until `/health` answers. A region's first start
    /// runs `paynode init` (a new cluster); later ones find their store (or, wiped, get
    /// their history back from the peers).
    func start(_ r: RegionID) async throws {
        let process = try launch(r)
        try await eventually("\(r) answers /health", timeout: 30) {
            guard process.isRunning else { throw ClusterError("\(r) exited: \(self.log(r))") }
            return (try? await self.call(r, "GET", "/health").status) == 200
        }
    }

    /// Starts the region's node expecting it to refuse to run: waits (with a deadline) until
    /// it exits and returns its exit status (its output is in the region's log). Throws if
    /// it is still running at the deadline.
    func startExpectingExit(_ r: RegionID, timeout: Double = 30) async throws -> Int32 {
        let process = try launch(r)
        try await eventually("\(r) exits", timeout: timeout) { !process.isRunning }
        processes[r] = nil
        return process.terminationStatus
    }

    /// Runs `paynode init` on the region's first start, then `paynode serve`, its output
    /// appended to the region's log.
    private func launch(_ r: RegionID) throws -> Process {
        // PAYNODE_BINARY runs the tests against another build (e.g. .build/release/paynode).
        let binary = try ProcessInfo.processInfo.environment["PAYNODE_BINARY"] ?? Binaries.path("paynode")
        let env = ProcessInfo.processInfo.environment.merging(environment[r] ?? [:]) { $1 }
        if initialized.insert(r).inserted {
            let initialize = Process()
            initialize.executableURL = URL(fileURLWithPath: binary)
            initialize.arguments = ["init"] + (joined.contains(r) ? ["--join"] : []) + ["--config", configURL(r).path]
            initialize.environment = env
            initialize.standardOutput = FileHandle.nullDevice
            try initialize.run()
            initialize.waitUntilExit()
            guard initialize.terminationStatus == 0 else { throw ClusterError("paynode init failed for \(r)") }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", configURL(r).path]
        process.environment = env
        if !FileManager.default.fileExists(atPath: logPath(r)),
            !FileManager.default.createFile(atPath: logPath(r), contents: nil)
        {
            throw ClusterError("cannot create the log file \(logPath(r))")
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath(r)))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        processes[r] = process
        return process
    }

    /// Waits until the region's `/ready` answers 200: it takes writes (its peers have read
    /// its clock, or none answered within `clock_first_reading_ms`).
    func waitReady(_ r: RegionID, timeout: Double = 30) async throws {
        try await eventually("\(r) answers /ready", timeout: timeout) {
            (try? await self.call(r, "GET", "/ready").status) == 200
        }
    }

    func startAll() async throws {
        for r in regions { try await start(r) }
    }

    /// Starts every region and waits until each is connected to all the others.
    func startAllConnected() async throws {
        try await startAll()
        for r in regions {
            try await eventually("\(r) is connected to every peer", timeout: 20) {
                await allPeersConnected(r, expected: regions.filter { $0 != r })
            }
        }
    }

    /// The region's state digest (`/v1/cluster?digest=true`).
    func digest(_ r: RegionID) async throws -> String {
        try await cluster(r, digest: true)["state_digest"] as? String ?? "missing"
    }

    /// Sends `signal` to the region's process and waits for it to exit.
    func stop(_ r: RegionID, signal: Int32) {
        guard let p = processes.removeValue(forKey: r) else { return }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
    }

    /// Sends `signal` to the region's process without waiting for anything.
    func signal(_ r: RegionID, _ signal: Int32) {
        guard let p = processes[r] else { return }
        kill(p.processIdentifier, signal)
    }

    /// Sends SIGHUP and waits (with a deadline) until the region's log has a new reload
    /// outcome line ("configuration reloaded" or "reload failed"); returns that line.
    func reload(_ r: RegionID) async throws -> String {
        func outcomes() -> [Substring] {
            fullLog(r).split(separator: "\n").filter {
                $0.contains("configuration reloaded") || $0.contains("reload failed")
            }
        }
        let before = outcomes().count
        signal(r, SIGHUP)
        var line = ""
        try await eventually("\(r) logs the outcome of its reload", timeout: 20) {
            let all = outcomes()
            if all.count > before { line = String(all[before]) }
            return all.count > before
        }
        return line
    }

    func exitStatus(_ r: RegionID) -> Int32? {
        processes[r]?.isRunning == false ? processes[r]?.terminationStatus : nil
    }

    /// Stops every node and removes the temp dir (keeps it when `keep`).
    func shutdown(keep: Bool = false) async {
        for r in Array(processes.keys) { stop(r, signal: SIGKILL) }
        try? await http.shutdown()
        if !keep { try? FileManager.default.removeItem(at: dir) }
    }

    /// The end of the region's log (for failure messages).
    func log(_ r: RegionID) -> String { String(fullLog(r).suffix(4_000)) }

    /// The region's whole log (for assertions: access lines soon push anything else out of its end).
    func fullLog(_ r: RegionID) -> String { (try? String(contentsOfFile: logPath(r), encoding: .utf8)) ?? "" }

    // MARK: HTTP

    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: String
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    func call(
        _ r: RegionID, _ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:],
        key: String? = LocalCluster.apiKey
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL(r) + path)
        request.method = .init(rawValue: method)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(15))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        var fields: [String: String] = [:]
        for h in response.headers { fields[h.name.lowercased()] = h.value }
        return Reply(status: Int(response.status.code), headers: fields, body: String(buffer: bytes))
    }

    /// Creates a payment; returns the reply (201 expected).
    func create(at r: RegionID, order: String, key: String? = nil, amount: Int = 1_250, durability: String? = nil)
        async throws -> Reply
    {
        var headers: [String: String] = [:]
        if let key { headers["Idempotency-Key"] = key }
        if let durability { headers["X-Durability"] = durability }
        let body = """
            {"merchant_id":"m_shop_42","order_id":"\(order)","amount":\(amount),"currency":"EUR","method":"card",\
            "description":"Order \(order) at shop 42","metadata":{"channel":"web","cart":"\(order)"}}
            """
        return try await call(r, "POST", "/v1/payments", body: body, headers: headers)
    }

    func cluster(_ r: RegionID, digest: Bool = false) async throws -> [String: Any] {
        try await call(r, "GET", "/v1/cluster" + (digest ? "?digest=true" : "")).json
    }

    /// The region's vector entry for `origin` (0 when absent).
    func vector(_ r: RegionID, _ origin: RegionID) async throws -> Int {
        ((try await cluster(r)["vector"] as? [String: Any])?[origin.name] as? Int) ?? 0
    }

    /// Whether the region reports every peer it expects as connected.
    func allPeersConnected(_ r: RegionID, expected: [RegionID]) async -> Bool {
        guard let peers = try? await cluster(r)["peers"] as? [[String: Any]] else { return false }
        let connected = Set(peers.filter { $0["connected"] as? Bool == true }.compactMap { $0["region"] as? String })
        return expected.allSatisfy { connected.contains($0.name) }
    }
}

struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` seconds pass (then throws). Never a
/// fixed wait: the poll interval only paces the checks.
func eventually(_ what: String, timeout: Double, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    throw ClusterError("timed out after \(timeout) s waiting until \(what)")
}

/// Executables built beside the test bundle.
enum Binaries {
    static func path(_ name: String) throws -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            here, here.deletingLastPathComponent(), here.deletingLastPathComponent().deletingLastPathComponent(),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/.build/debug"),
        ]
        .map { $0.appendingPathComponent(name).path }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ClusterError("\(name) not built; looked in \(candidates)")
        }
        return found
    }
}

/// A small JSON-over-HTTP helper with the development key, for tests that are not tied
/// to one `LocalCluster`.
struct HTTP {
    let client: HTTPClient

    /// A client that trusts the development CA at `caPath` (the node's API is HTTPS).
    init(trusting caPath: String) { client = HTTP.client(trusting: caPath) }

    static func client(trusting caPath: String) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caPath)
        return HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
    }

    func send(_ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil) async throws
        -> LocalCluster.Reply
    {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(LocalCluster.apiKey)")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(15))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        var fields: [String: String] = [:]
        for h in response.headers { fields[h.name.lowercased()] = h.value }
        return LocalCluster.Reply(status: Int(response.status.code), headers: fields, body: String(buffer: bytes))
    }

    func shutdown() async throws { try await client.shutdown() }
}
