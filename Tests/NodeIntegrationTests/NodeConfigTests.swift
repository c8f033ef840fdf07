import Foundation
import ReplicaCore
import ReplicaTransport
import XCTest

@testable import PaymentNode

/// `NodeConfig.load(file:environment:)`: a valid file, defaults, and errors that name the
/// file, the dotted key and the problem.
final class NodeConfigTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nodeconfig-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["ca.pem", "us-east-1.pem", "us-east-1.key", "api.pem", "api.key"] {
            try Data("dummy \(name)\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let devHash = "c2b41294c1c2c096c6e1a275c848e468757573dd9241d2497e80ab5245b6b5da"
    static let otherHash = String(repeating: "0123456789abcdef", count: 4)

    /// Modelled on config/us-east-1.yaml, with every tuning value off its default.
    var validYAML: String {
        """
        # Region us-east-1 (test copy).
        region: us-east-1
        data_dir: \(dir)/data
        api:
          listen: 127.0.0.1:8102
          key_sha256:
            - \(Self.devHash)
            - \(Self.otherHash)
          tls:
            certificate: \(dir)/api.pem
            key: \(dir)/api.key
            min_version: "1.3"
          body_bytes_max: 131072
          session_wait_ms: 750
        peer_listen: 127.0.0.1:9102
        peers:
          ap-northeast-1: 127.0.0.1:9101
          eu-west-1: "[::1]:9103"
        tls:
          ca: \(dir)/ca.pem
          certificate: \(dir)/us-east-1.pem
          key: \(dir)/us-east-1.key
        durability: remote
        tuning:
          batch_entries_max: 256
          in_flight_batches_max: 4
          batch_delay_ms: 15
          tick_interval_ms: 3
          ping_interval_ms: 900
          retransmit_after_ms: 1500
          remote_ack_timeout_ms: 2500
          max_clock_skew_ms: 400
          relay_delay_ms: 3000
          log_entries_max: 10000
          snapshot_chunk_records: 128
          snapshot_chunks_in_flight: 12

        """
    }

    @discardableResult
    func write(_ text: String, name: String = "node.yaml") throws -> String {
        let path = "\(dir)/\(name)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func load(_ text: String, environment: [String: String] = [:]) throws -> NodeConfig {
        try NodeConfig.load(file: write(text), environment: environment)
    }

    /// `validYAML` with `old` replaced by `new` (which must be present).
    func variant(_ old: String, _ new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertTrue(validYAML.contains(old), "fixture lacks \(old)", file: file, line: line)
        return validYAML.replacingOccurrences(of: old, with: new)
    }

    /// Loads `text` expecting a NodeConfigError naming `key`, whose problem contains `problem`.
    @discardableResult
    func assertError(
        _ text: String, key: String, problem: String, environment: [String: String] = [:],
        file: StaticString = #filePath, line: UInt = #line
    ) -> NodeConfigError? {
        let path: String
        do { path = try write(text) } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
        do throws(NodeConfigError) {
            let config = try NodeConfig.load(file: path, environment: environment)
            XCTFail("loaded \(config.region) instead of failing on \(key)", file: file, line: line)
            return nil
        } catch {
            XCTAssertEqual(error.file, path, file: file, line: line)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: line)
            XCTAssertTrue(
                error.problem.contains(problem), "problem \"\(error.problem)\" lacks \"\(problem)\"", file: file,
                line: line)
            let expected = key.isEmpty ? "\(path): \(error.problem)" : "\(path): \(key): \(error.problem)"
            XCTAssertEqual(error.description, expected, file: file, line: line)
            return error
        }
    }

    // MARK: HTTPS by default

    func testAPIServesHTTPSUnlessTheFileSaysPlainHTTP() throws {
        let tlsBlock = "  tls:\n    certificate: \(dir)/api.pem\n    key: \(dir)/api.key\n    min_version: \"1.3\"\n"
        assertError(variant(tlsBlock, ""), key: "api.tls", problem: "is required")
        assertError(variant(tlsBlock, "  plain_http: false\n"), key: "api.plain_http", problem: "may only be true")
        assertError(
            variant(tlsBlock, tlsBlock + "  plain_http: true\n"), key: "api.plain_http",
            problem: "cannot be set with api.tls")
        assertError(
            variant("    min_version: \"1.3\"\n", "    min_version: \"1.1\"\n"), key: "api.tls.min_version",
            problem: "1.2 or 1.3")
        assertError(
            variant("    key: \(dir)/api.key\n", "    key: \(dir)/missing.key\n"), key: "api.tls.key",
            problem: "file not found")
        let plain = try load(variant(tlsBlock, "  plain_http: true\n"))
        XCTAssertNil(plain.apiTLS)
        XCTAssertEqual(plain.apiScheme, "http")
    }

    // MARK: Valid files

    func testValidFileLoads() throws {
        let config = try load(validYAML)
        let us = RegionID("us-east-1")!
        let ap = RegionID("ap-northeast-1")!
        let eu = RegionID("eu-west-1")!
        XCTAssertEqual(config.region, us)
        XCTAssertEqual(config.dataDirectory, "\(dir)/data")
        XCTAssertEqual(config.databasePath, "\(dir)/data/paynode.sqlite")
        XCTAssertEqual(config.apiListen, HostPort(host: "127.0.0.1", port: 8102))
        XCTAssertEqual(config.apiKeys.map(\.sha256), [Self.devHash, Self.otherHash])
        XCTAssertEqual(config.bodyBytesMax, 131_072)
        XCTAssertEqual(config.sessionWaitMillis, 750)
        XCTAssertEqual(config.peerListen, HostPort(host: "127.0.0.1", port: 9102))
        XCTAssertEqual(
            config.peers, [ap: HostPort(host: "127.0.0.1", port: 9101), eu: HostPort(host: "::1", port: 9103)])
        XCTAssertEqual(
            config.tls,
            PeerTLSFiles(
                caPath: "\(dir)/ca.pem", certificatePath: "\(dir)/us-east-1.pem",
                keyPath: "\(dir)/us-east-1.key"))
        XCTAssertEqual(config.defaultDurability, .remote)
        XCTAssertEqual(config.sourceFile, "\(dir)/node.yaml")
        XCTAssertEqual(
            config.apiTLS, APITLS(certificatePath: "\(dir)/api.pem", keyPath: "\(dir)/api.key", minimumVersion: "1.3"))
        XCTAssertEqual(config.apiScheme, "https")

        let engine = config.engine
        XCTAssertEqual(engine.region, us)
        XCTAssertEqual(engine.peers, [ap, eu])
        XCTAssertEqual(engine.batchEntriesMax, 256)
        XCTAssertEqual(engine.inFlightBatchesMax, 4)
        XCTAssertEqual(engine.batchDelayMillis, 15)
        XCTAssertEqual(engine.tickIntervalMillis, 3)
        XCTAssertEqual(engine.pingIntervalMillis, 900)
        XCTAssertEqual(engine.retransmitAfterMillis, 1_500)
        XCTAssertEqual(engine.remoteAckTimeoutMillis, 2_500)
        XCTAssertEqual(engine.maxClockSkewMillis, 400)
        XCTAssertEqual(engine.relayDelayMillis, 3_000)
        XCTAssertEqual(engine.logEntriesMax, 10_000)
        XCTAssertEqual(engine.snapshotChunkRecords, 128)
        XCTAssertEqual(engine.snapshotWindow, 12)

        XCTAssertEqual(config.transport.region, us)
        XCTAssertEqual(config.transport.dialed, [])
    }

    func testDefaultsWhenOptionalSettingsAreAbsent() throws {
        let minimal = """
            region: ap-northeast-1
            data_dir: data
            api:
              listen: 0.0.0.0:8101
              key_sha256: [\(Self.devHash)]
              plain_http: true
            peer_listen: 0.0.0.0:9101
            peers:
              us-east-1: 10.0.0.2:9102
            tls:
              ca: \(dir)/ca.pem
              certificate: \(dir)/us-east-1.pem
              key: \(dir)/us-east-1.key
            """
        let config = try load(minimal)
        XCTAssertEqual(config.region, RegionID("ap-northeast-1"))
        XCTAssertEqual(config.bodyBytesMax, 65_536)
        XCTAssertEqual(config.sessionWaitMillis, 1_000)
        XCTAssertEqual(config.defaultDurability, .local)
        XCTAssertEqual(config.engine.batchEntriesMax, 512)
        XCTAssertEqual(config.engine.batchDelayMillis, 20)
        XCTAssertEqual(config.engine.tickIntervalMillis, 5)
        XCTAssertEqual(config.engine.relayDelayMillis, 2_500)
        XCTAssertEqual(config.engine.snapshotWindow, 8)
        XCTAssertEqual(config.engine.inFlightBatchesMax, 8)
        XCTAssertEqual(config.transport.dialed, [RegionID("us-east-1")!])
    }

    /// Relative paths are the file's: the same config works from any working directory.
    func testRelativePathsAreTakenFromTheConfigFilesFolder() throws {
        try FileManager.default.createDirectory(atPath: "\(dir)/etc", withIntermediateDirectories: true)
        let yaml = """
            region: us-east-1
            data_dir: ../var/data
            api:
              listen: 127.0.0.1:8101
              key_sha256: [\(Self.devHash)]
              tls:
                certificate: ../api.pem
                key: \(dir)/api.key
            peer_listen: 127.0.0.1:9101
            peers: {}
            tls:
              ca: ../ca.pem
              certificate: ../us-east-1.pem
              key: ../us-east-1.key
            """
        let config = try NodeConfig.load(file: write(yaml, name: "etc/node.yaml"), environment: [:])
        XCTAssertEqual(config.dataDirectory, "\(dir)/var/data")
        XCTAssertEqual(config.apiTLS?.certificatePath, "\(dir)/api.pem")
        XCTAssertEqual(config.apiTLS?.keyPath, "\(dir)/api.key")
        XCTAssertEqual(config.tls.caPath, "\(dir)/ca.pem")
        XCTAssertEqual(config.tls.keyPath, "\(dir)/us-east-1.key")
    }

    func testLogSection_formatAndAccessLog() throws {
        XCTAssertEqual(try load(validYAML).logFormat, .text)
        XCTAssertTrue(try load(validYAML).accessLog)
        let json = try load(validYAML + "\nlog:\n  format: json\n  access: false\n")
        XCTAssertEqual(json.logFormat, .json)
        XCTAssertFalse(json.accessLog)
        assertError(validYAML + "\nlog:\n  format: xml\n", key: "log.format", problem: "must be text or json")
        assertError(validYAML + "\nlog:\n  access: sometimes\n", key: "log.access", problem: "must be true or false")
        assertError(validYAML + "\nlog:\n  level: info\n", key: "log.level", problem: "unknown setting")
    }

    func testEnvironmentOverridesTheTLSKeyPath() throws {
        try write("other key", name: "other.key")
        let config = try load(validYAML, environment: ["PAYNODE_TLS_KEY": "\(dir)/other.key"])
        XCTAssertEqual(config.tls.keyPath, "\(dir)/other.key")
        assertError(
            validYAML, key: "tls.key (from PAYNODE_TLS_KEY)", problem: "file not found",
            environment: ["PAYNODE_TLS_KEY": "\(dir)/missing.key"])
    }

    // MARK: Errors name the file and the key

    func testUnknownSettingsAreErrors() {
        let error = assertError(
            variant("  batch_entries_max: 256\n", "  batch_size: 256\n"),
            key: "tuning.batch_size", problem: "unknown setting")
        XCTAssertEqual(error?.problem, "unknown setting")
        assertError(
            variant("  session_wait_ms: 750\n", "  session_wait: 750\n"), key: "api.session_wait",
            problem: "unknown setting")
        assertError(validYAML + "colour: blue\n", key: "colour", problem: "unknown setting")
        assertError(
            variant("  key: \(dir)/us-east-1.key\n", "  key: \(dir)/us-east-1.key\n  chain: x\n"),
            key: "tls.chain", problem: "unknown setting")
    }

    func testBadRegionName() {
        assertError(variant("region: us-east-1", "region: US-East-1"), key: "region", problem: "is not a region name")
        assertError(variant("region: us-east-1", "region: us_east_1"), key: "region", problem: "is not a region name")
        assertError(variant("region: us-east-1\n", ""), key: "region", problem: "is required")
    }

    func testBadAddresses() {
        assertError(
            variant("listen: 127.0.0.1:8102", "listen: nowhere"), key: "api.listen", problem: "is not host:port")
        assertError(
            variant("peer_listen: 127.0.0.1:9102", "peer_listen: 127.0.0.1:70000"), key: "peer_listen",
            problem: "is not host:port")
        assertError(
            variant("ap-northeast-1: 127.0.0.1:9101", "ap-northeast-1: localhost"), key: "peers.ap-northeast-1",
            problem: "is not host:port")
        assertError(
            variant("peer_listen: 127.0.0.1:9102", "peer_listen: 127.0.0.1:8102"), key: "peer_listen",
            problem: "same address as api.listen")
    }

    func testMissingTLSFile() {
        let error = assertError(
            variant("ca: \(dir)/ca.pem", "ca: \(dir)/nope/ca.pem"), key: "tls.ca", problem: "file not found")
        XCTAssertTrue(error?.problem.contains("\(dir)/nope/ca.pem") ?? false)
        assertError(
            variant("certificate: \(dir)/us-east-1.pem", "certificate: \(dir)"), key: "tls.certificate",
            problem: "file not found")
    }

    func testBadDurability() {
        assertError(
            variant("durability: remote", "durability: maybe"), key: "durability", problem: "must be local or remote")
    }

    func testTuningOutOfRange() {
        assertError(
            variant("batch_entries_max: 256", "batch_entries_max: 0"), key: "tuning.batch_entries_max",
            problem: "out of range")
        assertError(
            variant("batch_entries_max: 256", "batch_entries_max: 4097"), key: "tuning.batch_entries_max",
            problem: "out of range")
        assertError(
            variant("tick_interval_ms: 3", "tick_interval_ms: soon"), key: "tuning.tick_interval_ms",
            problem: "expected an integer")
        assertError(
            variant("body_bytes_max: 131072", "body_bytes_max: 10"), key: "api.body_bytes_max", problem: "out of range")
        // Each value in range, but together they cannot work.
        assertError(
            variant("log_entries_max: 10000", "log_entries_max: 100"), key: "tuning", problem: "log_entries_max")
    }

    func testRetiredRegions() throws {
        XCTAssertEqual(try load(validYAML).engine.retired, [])
        let config = try load(validYAML + "\nretired: [sa-east-1, ca-central-1]\n")
        XCTAssertEqual(config.engine.retired.map(\.name), ["ca-central-1", "sa-east-1"])
        XCTAssertEqual(config.transport.retired.map(\.name), ["ca-central-1", "sa-east-1"])
        assertError(validYAML + "\nretired: [eu-west-1]\n", key: "retired", problem: "is also under peers")
        assertError(validYAML + "\nretired: [us-east-1]\n", key: "retired", problem: "names this region")
        assertError(validYAML + "\nretired: [Bad Name]\n", key: "retired", problem: "is not a region name")
        assertError(validYAML + "\nretired: [sa-east-1, sa-east-1]\n", key: "retired", problem: "twice")
    }

    func testPeersAreRequiredButMayBeEmpty() throws {
        let start = try XCTUnwrap(validYAML.range(of: "peers:\n"))
        let end = try XCTUnwrap(validYAML.range(of: "\ntls:")).upperBound
        let endTLS = validYAML.index(end, offsetBy: -4)
        let withoutPeers = validYAML.replacingCharacters(in: start.lowerBound..<endTLS, with: "")
        assertError(withoutPeers, key: "peers", problem: "is required")
        let alone = try load(validYAML.replacingCharacters(in: start.lowerBound..<endTLS, with: "peers: {}\n"))
        XCTAssertTrue(alone.peers.isEmpty)
    }

    func testPeerThatIsTheRegionItself() {
        assertError(
            variant("  eu-west-1: \"[::1]:9103\"\n", "  eu-west-1: \"[::1]:9103\"\n  us-east-1: 127.0.0.1:9104\n"),
            key: "peers.us-east-1", problem: "its own peer")
        assertError(
            variant("  eu-west-1: \"[::1]:9103\"\n", "  EU: 127.0.0.1:9104\n"), key: "peers.EU",
            problem: "not a region name")
    }

    // MARK: Whole-file errors have an empty key

    func testNotYAMLOrEmptyFile() throws {
        assertError("region: [us-east-1\napi: {\n", key: "", problem: "not valid YAML")
        assertError("", key: "", problem: "the file is empty")
        assertError("# only a comment\n", key: "", problem: "the file is empty")
        assertError("just some text\n", key: "", problem: "expected a mapping")
        assertError("- region\n- us-east-1\n", key: "", problem: "expected a mapping")

        let missing = "\(dir)/absent.yaml"
        XCTAssertThrowsError(try NodeConfig.load(file: missing, environment: [:])) { error in
            guard let error = error as? NodeConfigError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.key, "")
            XCTAssertTrue(error.problem.contains("cannot read"), error.problem)
            XCTAssertEqual(error.description, "\(missing): \(error.problem)")
        }
    }

    func testDescriptionFormat() {
        XCTAssertEqual(
            NodeConfigError(file: "config/us-east-1.yaml", key: "tuning.batch_size", problem: "unknown setting")
                .description,
            "config/us-east-1.yaml: tuning.batch_size: unknown setting")
        XCTAssertEqual(
            NodeConfigError(file: "f.yaml", key: "", problem: "the file is empty").description,
            "f.yaml: the file is empty")
    }
}
