import Foundation
import PaymentDevKit
import PaymentNode
import PaymentsAPI
import PaymentsServer
import ReplicaCore
import ReplicaTransport

/// Part 1 of `paybench access`: the key lookup a request makes, in nanoseconds, by calling
/// the real functions on its path, in the order the API runs them: the read of the node's
/// live key list (`LiveCredentials.current.apiKeys`), its conversion (`APIKeyCache.keys`,
/// a pointer check once warm), the identification (`APIKeyIdentification.identify`: the
/// SHA-256 of the presented secret, compared with every configured hash) and the key's
/// token bucket (`APIKeyLimits.take`), with one key configured and with a hundred (the
/// caller's last). Two parts are also timed alone: the hash and the bucket.
enum KeyLookupBenchmark {
    /// One measured step: the median and 99th percentile of its batches' nanoseconds per
    /// call (the median is the figure: a batch the scheduler preempted is an outlier), and
    /// the median, over interleaved batches, of its time over the baseline step's (nil for
    /// a step that is not a variant of it).
    struct Row {
        let step: String
        let keysConfigured: Int?
        let p50Nanos: Double
        let p99Nanos: Double
        let ratioToBaseline: Double?
    }

    /// A step of the lookup: a batch of `calls` calls, returning a value built from each
    /// result (summed into `sink`, so the optimizer cannot drop the calls).
    private struct Step {
        let name: String
        let keysConfigured: Int?
        let comparesToBaseline: Bool
        let batch: (_ calls: Int) -> UInt64
    }

    /// The id of the key the benchmark's requests present, and its secret.
    static let callerKeyID = "shop-a"
    static let callerSecret = "pk_live_shop-a_7Hc2QbYq4mZ1xVwR8sN0dLkT3uPeJ"
    /// The request header the middleware reads.
    static let authorizationHeader = "Bearer " + callerSecret

    /// Batches per step, interleaved; calls per batch.
    static let batches = 2_000
    static let callsPerBatch = 500

    /// Accumulates every call's result.
    nonisolated(unsafe) static var sink: UInt64 = 0

    /// `count` keys as the config file defines them, the caller's last; the others have
    /// secrets of their own.
    static func keys(_ count: Int) -> [NodeAPIKey] {
        (0..<count).map { i in
            let isCaller = i == count - 1
            let secret = isCaller ? callerSecret : "pk_live_key-\(i)_" + String(repeating: "x", count: 30)
            return NodeAPIKey(
                id: isCaller ? callerKeyID : String(format: "key-%03d", i),
                sha256: hex(SHA256.hash(Array(secret.utf8))),
                scopes: ["payments:read", "payments:write"], ratePerSecond: 1e9, burst: 1_000_000_000)
        }
    }

    /// `bytes` as lower-case hex digits, as the config file writes a key's hash.
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// A batch of whole lookups, as the API makes one per request: the node's key list
    /// (`apiKeys()`: the live list, converted by the cache), the identification of the
    /// header among those keys, and a token from the matched key's bucket. The caller's
    /// key has a rate high enough never to refuse, so every call takes the same path.
    static func lookup(_ live: LiveCredentials) -> (_ calls: Int) -> UInt64 {
        let cache = APIKeyCache()
        let limits = APIKeyLimits()
        let header = authorizationHeader
        return { calls in
            var s: UInt64 = 0
            for i in 0..<calls {
                let keys = cache.keys(for: live.current.apiKeys)
                guard case .valid(let key) = APIKeyIdentification.identify(header, among: keys, nowMillis: { 1 })
                else { fatalError("the caller's key was not identified") }
                s &+= UInt64(limits.take(key, nowMillis: UInt64(i)) ?? 1)
            }
            return s
        }
    }

    /// Live credentials holding `keys`, with development peer certificates from `certs`.
    static func credentials(_ keys: [NodeAPIKey], certs: String, region: RegionID) throws -> LiveCredentials {
        let files = PeerTLSFiles(
            caPath: DevelopmentCertificates.caPath(certs),
            certificatePath: DevelopmentCertificates.certificatePath(certs, region),
            keyPath: DevelopmentCertificates.keyPath(certs, region))
        return LiveCredentials(NodeCredentials(apiKeys: keys, apiTLS: nil, peerTLS: try PeerTLS(files: files)))
    }

    /// Measures every step, batches of each interleaved (the order rotates per round), so
    /// that drift on a shared machine falls on all of them alike. The first row is the
    /// baseline.
    static func measure(dir: String) throws -> [Row] {
        let region = RegionID("us-east-1")!
        let certs = dir + "/certs"
        try DevelopmentCertificates.make(in: certs, regions: [region])
        let one = try credentials(keys(1), certs: certs, region: region)
        let hundred = try credentials(keys(100), certs: certs, region: region)
        let header = authorizationHeader
        let whole = "whole lookup: key list, `APIKeyCache.keys`, `identify`, `APIKeyLimits.take`"
        let bucket = APIKeyLimits()
        let rated = APIKeyCache.key(keys(1)[0])
        let steps = [
            Step(name: whole, keysConfigured: 1, comparesToBaseline: true, batch: lookup(one)),
            Step(name: whole, keysConfigured: 100, comparesToBaseline: true, batch: lookup(hundred)),
            Step(
                name: "of which the token bucket alone (`APIKeyLimits.take`)", keysConfigured: nil,
                comparesToBaseline: false,
                batch: { calls in
                    var s: UInt64 = 0
                    for i in 0..<calls { s &+= UInt64(bucket.take(rated, nowMillis: UInt64(i)) ?? 1) }
                    return s
                }),
            Step(
                name: "of which the SHA-256 of the presented secret alone (\(callerSecret.utf8.count) bytes)",
                keysConfigured: nil, comparesToBaseline: false,
                batch: { calls in
                    var s: UInt64 = 0
                    for _ in 0..<calls { s &+= UInt64(SHA256.hash(Array(header.utf8.dropFirst(7)))[0]) }
                    return s
                }),
        ]
        for step in steps { sink &+= step.batch(callsPerBatch * 20) }  // warm up
        var perCall = Array(repeating: [Double](), count: steps.count)
        for round in 0..<batches {
            for k in steps.indices {
                let i = (round + k) % steps.count
                let t0 = DispatchTime.now().uptimeNanoseconds
                sink &+= steps[i].batch(callsPerBatch)
                let t1 = DispatchTime.now().uptimeNanoseconds
                perCall[i].append(Double(t1 - t0) / Double(callsPerBatch))
            }
        }
        return steps.indices.map { i in
            let sorted = perCall[i].sorted()
            let ratios = zip(perCall[i], perCall[0]).map { $0 / $1 }
            return Row(
                step: steps[i].name, keysConfigured: steps[i].keysConfigured,
                p50Nanos: AccessStats.quantile(sorted, 0.5), p99Nanos: AccessStats.quantile(sorted, 0.99),
                ratioToBaseline: steps[i].comparesToBaseline ? AccessStats.median(ratios) : nil)
        }
    }
}

/// Medians and quantiles of measured values, for the `paybench access` tables.
enum AccessStats {
    /// The `q` quantile of `sorted` (nearest rank); 0 when empty.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        StoreBenchmark.percentile(sorted, q) ?? 0
    }

    /// The median of `values` (the lower middle one for an even count); 0 when empty.
    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.isEmpty ? 0 : s[(s.count - 1) / 2]
    }
}
