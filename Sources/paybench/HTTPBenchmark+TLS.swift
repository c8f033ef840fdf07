import Foundation
import ReplicaCore

/// The timed creates and reads by id again, at a fresh node whose client API is HTTPS
/// (the development `api.pem`, signed by the cluster's development CA): wrk speaks TLS
/// with its own OpenSSL (and checks no certificate), this process trusts the CA. Beside
/// the plain-HTTP figures of the same run, the ratio is what TLS costs the API.
extension HTTPBenchmark {
    static func https(_ options: Options, run: Int, into samples: inout Samples) async throws {
        let dir = options.dir + "/https-\(run)"
        let http = BenchHTTP.client(trustingCA: BenchCluster.caPath(dir))
        defer { BenchHTTP.shutdown(http) }
        let region = RegionID("us-east-1")!
        let cluster = try BenchCluster(regions: [region], dir: dir, apiTLS: true, http: http)
        try await cluster.start(region)
        defer { cluster.stopAll() }

        progress("run \(run): HTTPS creates, wrk -c\(options.connections) for \(options.seconds) s")
        let creates = try timedCreates(cluster, region, options, run: run)
        samples.add("https.creates_per_s", creates.perSecond)

        let ids = try await collectIDs(cluster, region, upTo: 20_000)
        let idsPath = dir + "/ids.txt"
        try ids.joined(separator: "\n").write(toFile: idsPath, atomically: true, encoding: .utf8)
        progress("run \(run): HTTPS reads by id over \(ids.count) ids for \(options.seconds) s")
        let reads = try timedReads(cluster, region, options, idsPath: idsPath)
        samples.add("https.reads_per_s", reads.perSecond)
    }
}
