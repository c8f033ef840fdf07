import AsyncHTTPClient
import Foundation
import NIOCore
import PaymentDevKit
import PaymentNode
import ReplicaCore

/// Real `paynode serve` processes on loopback for the benchmarks: development
/// certificates, one YAML per region (through `LoopbackNodeYAML`), free ports, a log file
/// per region. The client API is plain HTTP unless `apiTLS` (then HTTPS with the
/// development `api.pem`; `http` must trust `caPath(dir)`). The binary is the `paynode`
/// next to this `paybench`.
final class BenchCluster: @unchecked Sendable {
    static let apiKey = "paynode-dev-key"

    let dir: String
    let regions: [RegionID]
    /// Whether the client API is HTTPS.
    let apiTLS: Bool
    private(set) var apiPorts: [RegionID: Int] = [:]
    private var processes: [RegionID: Process] = [:]
    /// Regions whose store `paynode init` made (their first start).
    private var initialized: Set<RegionID> = []
    let http: HTTPClient

    /// `regions` of one cluster; `tuning` and `api` lines go into every region's YAML.
    init(
        regions: [RegionID], dir: String, api: [String] = [], tuning: [String] = [], apiTLS: Bool = false,
        http: HTTPClient
    ) throws {
        self.regions = regions
        self.dir = dir
        self.apiTLS = apiTLS
        self.http = http
        let certs = Self.certDir(dir)
        try DevelopmentCertificates.make(in: certs, regions: regions)
        var peerPorts: [RegionID: Int] = [:]
        for r in regions {
            apiPorts[r] = try LoopbackPorts.free()
            peerPorts[r] = try LoopbackPorts.free()
        }
        for r in regions {
            var yaml = LoopbackNodeYAML(
                region: r, dataDir: dataDir(r), apiPort: apiPorts[r]!, peerPort: peerPorts[r]!,
                peers: regions.filter { $0 != r }.map { ($0, peerPorts[$0]!) }, certDir: certs)
            yaml.comment = "paybench"
            // Plain HTTP unless asked: the baselines have no TLS, so most rows measure the node, not TLS
            yaml.apiTLS = apiTLS
            yaml.api = api
            yaml.tuning = tuning
            yaml.accessLog = false  // the baselines log no line per request either
            try yaml.text.write(toFile: configPath(r), atomically: true, encoding: .utf8)
        }
    }

    func dataDir(_ r: RegionID) -> String { "\(dir)/data/\(r.name)" }
    func configPath(_ r: RegionID) -> String { "\(dir)/\(r.name).yaml" }
    func logPath(_ r: RegionID) -> String { "\(dir)/\(r.name).log" }
    func url(_ r: RegionID) -> String { "\(apiTLS ? "https" : "http")://127.0.0.1:\(apiPorts[r]!)" }
    /// Where the development certificates of a cluster in `dir` are.
    static func certDir(_ dir: String) -> String { dir + "/certs" }
    /// The development CA that signed a cluster's certificates, `api.pem` among them.
    static func caPath(_ dir: String) -> String { DevelopmentCertificates.caPath(certDir(dir)) }
    func pid(_ r: RegionID) -> Int32? { processes[r].map(\.processIdentifier) }

    /// Starts the region's node and waits until `/health` answers. A region's first start
    /// runs `paynode init` (a new cluster), unless its store exists (a kept dataset).
    func start(_ r: RegionID) async throws {
        if initialized.insert(r).inserted && !FileManager.default.fileExists(atPath: dataDir(r) + "/paynode.sqlite") {
            let initialize = Process()
            initialize.executableURL = URL(fileURLWithPath: try Binaries.path("paynode"))
            initialize.arguments = ["init", "--config", configPath(r)]
            initialize.standardOutput = FileHandle.nullDevice
            try initialize.run()
            initialize.waitUntilExit()
            guard initialize.terminationStatus == 0 else { throw BenchError("paynode init failed for \(r)") }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Binaries.path("paynode"))
        process.arguments = ["serve", "--config", configPath(r)]
        if !FileManager.default.fileExists(atPath: logPath(r)) {
            _ = FileManager.default.createFile(atPath: logPath(r), contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath(r)))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        processes[r] = process
        try await poll("\(r) answers /health", timeout: 60) {
            guard process.isRunning else { throw BenchError("\(r) exited; its log is \(self.logPath(r))") }
            return (try? await self.get(r, "/health").status) == 200
        }
    }

    func startAll() async throws { for r in regions { try await start(r) } }

    /// Sends `signal` (SIGTERM waits for the exit; SIGSTOP/SIGCONT pause and resume).
    func signal(_ r: RegionID, _ signal: Int32) {
        guard let p = processes[r] else { return }
        kill(p.processIdentifier, signal)
        if signal == SIGTERM || signal == SIGKILL {
            kill(p.processIdentifier, SIGCONT)  // a paused node handles SIGTERM only once resumed
            p.waitUntilExit()
            processes[r] = nil
        }
    }

    func stopAll() { for r in regions { signal(r, SIGTERM) } }

    /// Resident memory of the region's process, from `/proc`.
    func rssBytes(_ r: RegionID) -> Int? { pid(r).flatMap(Self.rssBytes(pid:)) }

    /// The running regions' process ids.
    func pids(_ regions: [RegionID]) -> [RegionID: Int32] {
        var out: [RegionID: Int32] = [:]
        for r in regions { out[r] = pid(r) }
        return out
    }

    /// Resident memory of process `pid`, from `/proc`.
    static func rssBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        else { return nil }
        return kib * 1_024
    }

    /// Bytes the region's process has caused to be written to disk (`/proc/<pid>/io`;
    /// WAL writes and checkpoints).
    func diskBytesWritten(_ r: RegionID) -> Int? {
        guard let pid = pid(r), let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8),
            let line = io.split(separator: "\n").first(where: { $0.hasPrefix("write_bytes:") })
        else { return nil }
        return Int(line.split(separator: " ").last ?? "")
    }

    struct Reply {
        let status: Int
        /// Header fields by lower-cased name.
        let headers: [String: String]
        let body: Data
        func header(_ name: String) -> String? { headers[name.lowercased()] }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    func get(_ r: RegionID, _ path: String, headers: [String: String] = [:], timeout: TimeAmount = .seconds(10))
        async throws -> Reply
    {
        try await send(r, "GET", path, headers: headers, timeout: timeout)
    }

    func send(
        _ r: RegionID, _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil,
        timeout: TimeAmount = .seconds(10)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url(r) + path)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(Self.apiKey)")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        var fields: [String: String] = [:]
        for h in response.headers { fields[h.name.lowercased()] = h.value }
        return Reply(status: Int(response.status.code), headers: fields, body: Data(bytes.readableBytesView))
    }

    /// The region's version vector, as `/v1/cluster` reports it.
    func vector(_ r: RegionID, timeout: TimeAmount = .seconds(10)) async throws -> [String: UInt64] {
        let doc = try await get(r, "/v1/cluster", timeout: timeout).json
        return ((doc["vector"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.uint64Value }
    }
}

/// Where the other executables of this build are: next to `paybench`.
enum Binaries {
    static func path(_ name: String) throws -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = here.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw BenchError("\(candidate) is missing: build it first (swift build -c release)")
        }
        return candidate
    }
}

/// A benchmark could not run: what went wrong, for the operator.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 2 ms until it holds or `timeout` seconds pass.
func poll(_ what: String, timeout: Double, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(2))
    }
    throw BenchError("timed out after \(Int(timeout)) s waiting until \(what)")
}

/// Monotonic time in seconds.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Progress on standard error, so standard output holds only the table.
func progress(_ line: String) {
    FileHandle.standardError.write(Data("paybench: \(line)\n".utf8))
}
