import Foundation

/// Load from a separate process: `wrk` (Debian package `wrk`) with the Lua scripts below,
/// which print one `PAYBENCH {json}` line with the run's counts and latency percentiles.
/// wrk is closed-loop: each connection sends its next request when the last is answered.
enum Wrk {
    struct Result {
        let requests: Int
        let seconds: Double
        let failures: Int
        let p50Millis: Double
        let p99Millis: Double
        var perSecond: Double { Double(requests - failures) / seconds }
    }

    /// Creates with their own `Idempotency-Key` each (`run` keeps keys unique across runs).
    static let createScript = """
        local run = os.getenv("PAYBENCH_RUN") or "0"
        local threads = 0
        local n = 0
        function setup(thread) threads = threads + 1; thread:set("tid", threads) end
        function request()
          n = n + 1
          local key = run .. "-" .. tid .. "-" .. n
          local body = '{"merchant_id":"m_bench","order_id":"' .. key .. '","amount":' .. (100 + n % 100000) ..
            ',"currency":"EUR","method":"card","description":"benchmark payment ' .. n .. '"}'
          return wrk.format("POST", "/v1/payments", {["Content-Type"] = "application/json",
            ["Authorization"] = "Bearer paynode-dev-key", ["Idempotency-Key"] = key}, body)
        end
        \(doneFunction)
        """

    /// Reads by id, round robin over the ids in the file `PAYBENCH_IDS` names.
    static let readScript = """
        local ids = {}
        for line in io.lines(os.getenv("PAYBENCH_IDS")) do ids[#ids + 1] = line end
        local i = 0
        local headers = {["Authorization"] = "Bearer paynode-dev-key"}
        function request()
          i = i + 1
          return wrk.format("GET", "/v1/payments/" .. ids[(i % #ids) + 1], headers)
        end
        \(doneFunction)
        """

    /// `GET /health`: no key, no store, a constant answer: the HTTP stack's own ceiling.
    static let healthScript = """
        function request() return wrk.format("GET", "/health") end
        \(doneFunction)
        """

    static let doneFunction = """
        function done(summary, latency, requests)
          local e = summary.errors
          io.write(string.format('PAYBENCH {"requests":%d,"duration_us":%d,"failures":%d,"p50_us":%d,"p99_us":%d}\\n',
            summary.requests, summary.duration, e.status + e.connect + e.read + e.write + e.timeout,
            latency:percentile(50), latency:percentile(99)))
        end
        """

    /// Runs wrk against `url` for `seconds` with `connections` connections on one thread.
    static func run(script: String, url: String, seconds: Int, connections: Int, env: [String: String], dir: String)
        throws -> Result
    {
        guard let wrk = which("wrk") else { throw BenchError("wrk is not installed (apt-get install -y wrk)") }
        let scriptPath = dir + "/bench-\(abs(script.hashValue)).lua"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t1", "-c\(connections)", "-d\(seconds)s", "--timeout", "10s", "-s", scriptPath, url]
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0,
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PAYBENCH ") }),
            let json = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(9).utf8)) as? [String: Int],
            let requests = json["requests"], let micros = json["duration_us"], let failures = json["failures"],
            let p50 = json["p50_us"], let p99 = json["p99_us"]
        else {
            throw BenchError("wrk failed (exit \(process.terminationStatus)):\n\(text)")
        }
        return Result(
            requests: requests, seconds: Double(micros) / 1e6, failures: failures,
            p50Millis: Double(p50) / 1_000, p99Millis: Double(p99) / 1_000)
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
}
