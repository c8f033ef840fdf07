import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL  // ReplicaTransport's dependency (the package does not list it for paybench)

/// Every figure a suite run measured, by name, one value per run; the table shows medians.
struct Samples {
    private(set) var values: [String: [Double]] = [:]
    /// Facts that are not numbers (e.g. whether a minority-side write succeeded), by name.
    private(set) var notes: [String: [String]] = [:]

    mutating func add(_ name: String, _ value: Double) { values[name, default: []].append(value) }
    mutating func note(_ name: String, _ text: String) { notes[name, default: []].append(text) }

    /// The median of a figure's runs (the lower middle one for an even count).
    func median(_ name: String) -> Double? {
        guard let v = values[name]?.sorted(), !v.isEmpty else { return nil }
        return v[(v.count - 1) / 2]
    }

    func runs(_ name: String) -> Int { values[name]?.count ?? 0 }

    /// A note's distinct texts, in the order first seen.
    func note(_ name: String) -> String? {
        guard let all = notes[name] else { return nil }
        var seen: [String] = []
        for t in all where !seen.contains(t) { seen.append(t) }
        return seen.joined(separator: "; ")
    }
}

/// The HTTP client the benchmarks use for everything but wrk: many connections per host
/// (a fixed-rate writer keeps hundreds of requests in flight).
enum BenchHTTP {
    /// A client; with `trustingCA` (a PEM file, read at the first HTTPS connection) it
    /// also speaks HTTPS to servers that CA signed.
    static func client(trustingCA caPath: String? = nil) -> HTTPClient {
        var config = HTTPClient.Configuration(timeout: .init(connect: .seconds(2)))
        if let caPath {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caPath)
            config.tlsConfiguration = tls
        }
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// Shuts the client down from a synchronous `defer`.
    static func shutdown(_ client: HTTPClient) { client.shutdown { _ in } }

    /// Latency percentiles of `millis` (unsorted).
    static func percentiles(_ millis: [Double]) -> (p50: Double, p99: Double) {
        let s = millis.sorted()
        return (StoreBenchmark.percentile(s, 0.5) ?? 0, StoreBenchmark.percentile(s, 0.99) ?? 0)
    }
}
