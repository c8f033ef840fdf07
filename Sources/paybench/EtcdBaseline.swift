import AsyncHTTPClient
import Foundation
import NIOCore
import PaymentDevKit
import PaymentNode

/// The consensus baseline: a three-member etcd cluster on loopback (Debian's `etcd-server`,
/// fsync on, as our nodes), written through its JSON gateway (`POST /v3/kv/put`) by one
/// client, one put after another, at the leader: each put is a quorum write. Then the two
/// other members are paused (SIGSTOP) and one more put goes to the one left: a minority.
enum EtcdBaseline {
    struct Options {
        var writes = 500
        var dir: String
    }

    static func run(_ options: Options, run: Int, into samples: inout Samples) async throws {
        guard let etcd = Wrk.which("etcd") else {
            throw BenchError("etcd is not installed (apt-get install -y etcd-server)")
        }
        let http = BenchHTTP.client()
        defer { BenchHTTP.shutdown(http) }
        let dir = options.dir + "/etcd-\(run)"
        let names = ["e0", "e1", "e2"]
        let clientPorts = try names.map { _ in try LoopbackPorts.free() }
        let peerPorts = try names.map { _ in try LoopbackPorts.free() }
        let initial = names.indices.map { "\(names[$0])=http://127.0.0.1:\(peerPorts[$0])" }.joined(separator: ",")
        var processes: [Process] = []
        defer {
            // Resume every member before stopping any: a member asked to stop while its peers
            // are paused waits on them (leadership transfer) and never exits. The data is
            // scratch, so SIGKILL; no graceful shutdown is measured.
            for p in processes where p.isRunning { kill(p.processIdentifier, SIGCONT) }
            for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
            for p in processes { p.waitUntilExit() }
        }
        for i in names.indices {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: etcd)
            p.arguments = [
                "--name", names[i], "--data-dir", "\(dir)/\(names[i])",
                "--listen-client-urls", "http://127.0.0.1:\(clientPorts[i])", "--advertise-client-urls",
                "http://127.0.0.1:\(clientPorts[i])",
                "--listen-peer-urls", "http://127.0.0.1:\(peerPorts[i])", "--initial-advertise-peer-urls",
                "http://127.0.0.1:\(peerPorts[i])",
                "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token",
                "paybench-\(run)",
            ]
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: "\(dir)/\(names[i]).log", contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/\(names[i]).log"))
            p.standardOutput = log
            p.standardError = log
            try p.run()
            processes.append(p)
        }
        let urls = clientPorts.map { "http://127.0.0.1:\($0)" }
        var leader = 0
        try await poll("etcd has a leader", timeout: 30) {
            for (i, url) in urls.enumerated() {
                guard let status = try? await post(http, url + "/v3/maintenance/status", "{}", timeout: .seconds(1)),
                    let header = status["header"] as? [String: Any], let me = header["member_id"] as? String,
                    let lead = status["leader"] as? String, lead != "0"
                else { return false }
                if me == lead { leader = i }
            }
            return true
        }

        progress("run \(run): \(options.writes) sequential etcd puts at the leader")
        var millis: [Double] = []
        for i in 0..<options.writes {
            let key = Data("payments/\(run)-\(i)".utf8).base64EncodedString()
            let value = Data(#"{"amount":1250,"currency":"EUR"}"#.utf8).base64EncodedString()
            let body = "{\"key\":\"\(key)\",\"value\":\"\(value)\"}"
            let t0 = now()
            let reply = try await post(http, urls[leader] + "/v3/kv/put", body, timeout: .seconds(10))
            guard reply["header"] != nil else { throw BenchError("etcd put answered \(reply)") }
            millis.append((now() - t0) * 1_000)
        }
        let p = BenchHTTP.percentiles(millis)
        samples.add("etcd.put_p50_ms", p.p50)
        samples.add("etcd.put_p99_ms", p.p99)

        let alone = (leader + 1) % 3
        for i in names.indices where i != alone { kill(processes[i].processIdentifier, SIGSTOP) }
        let t0 = now()
        let minority = try? await post(
            http, urls[alone] + "/v3/kv/put",
            "{\"key\":\"\(Data("minority".utf8).base64EncodedString())\",\"value\":\"eA==\"}", timeout: .seconds(5))
        let ms = Int((now() - t0) * 1_000)
        samples.note(
            "etcd.minority",
            minority?["header"] != nil
                ? "accepted in \(LagBenchmark.roundedMillis(ms))"
                : "refused: no answer within \(LagBenchmark.roundedMillis(ms)) (no quorum)")
    }

    static func post(_ http: HTTPClient, _ url: String, _ body: String, timeout: TimeAmount) async throws -> [String:
        Any]
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
    }
}
