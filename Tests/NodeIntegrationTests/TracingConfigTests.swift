import Foundation
import NodeTracing
import Testing
import Tracing

@testable import PaymentNode

/// `tracing:` in the node's file: absent, nothing is traced; present, every value is
/// checked and a bad one is refused naming its key.
@Suite struct TracingConfigTests {
    /// A minimal valid region file (plain HTTP API, dummy peer TLS files) plus `extra`.
    func load(_ extra: String) throws -> NodeConfig {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracingconfig-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["ca.pem", "us-east-1.pem", "us-east-1.key"] {
            try Data("dummy \(name)\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
        }
        let yaml = """
            region: us-east-1
            data_dir: \(dir)/data
            api:
              listen: 127.0.0.1:8102
              key_sha256: [\(NodeConfig.developmentKeyHash)]
              plain_http: true
            peer_listen: 127.0.0.1:9102
            peers: {}
            tls:
              ca: \(dir)/ca.pem
              certificate: \(dir)/us-east-1.pem
              key: \(dir)/us-east-1.key

            """ + extra
        try yaml.write(toFile: "\(dir)/us-east-1.yaml", atomically: true, encoding: .utf8)
        return try NodeConfig.load(file: "\(dir)/us-east-1.yaml", environment: [:])
    }

    /// The error loading `extra` gives (fails the test when it loads).
    func refusal(_ extra: String) throws -> NodeConfigError {
        do {
            _ = try load(extra)
        } catch let error as NodeConfigError {
            return error
        }
        Issue.record("loaded: \(extra)")
        return NodeConfigError(file: "", key: "", problem: "")
    }

    @Test func withoutTheSectionNothingIsBootstrapped() throws {
        let config = try load("")
        #expect(config.tracing == nil)
        #expect(try NodeTracing.bootstrap(config, logger: .init(label: "test")) == nil)
        #expect(InstrumentationSystem.tracer is NoOpTracer)
    }

    @Test func defaultsAndEveryKey() throws {
        let minimal = try #require(try load("tracing:\n  otlp_endpoint: http://127.0.0.1:4318\n").tracing)
        #expect(minimal.endpoint == "http://127.0.0.1:4318" && minimal.tracesURL == "http://127.0.0.1:4318/v1/traces")
        #expect(minimal.wireProtocol == .httpProtobuf && minimal.serviceName == "paynode" && minimal.sampleRatio == 1.0)

        let full = try #require(
            try load(
                """
                tracing:
                  otlp_endpoint: https://collector.example:4318/otlp/
                  protocol: http/json
                  service_name: paynode-eu
                  sample_ratio: 0.25
                """
            ).tracing)
        #expect(full.tracesURL == "https://collector.example:4318/otlp/v1/traces")
        #expect(full.wireProtocol == .httpJSON && full.serviceName == "paynode-eu" && full.sampleRatio == 0.25)
        #expect(
            try load("tracing:\n  otlp_endpoint: http://[::1]:4318/v1/traces\n").tracing?.tracesURL
                == "http://[::1]:4318/v1/traces")
        for (text, value) in [("0", 0.0), ("1", 1.0), ("1.000", 1.0), ("0.001", 0.001)] {
            #expect(
                try load("tracing:\n  otlp_endpoint: http://h:1\n  sample_ratio: \(text)\n").tracing?.sampleRatio
                    == value)
        }
    }

    @Test func theOTelConfigurationIsTracesOnly() throws {
        var tracing = TracingConfig(endpoint: "http://127.0.0.1:4318")
        tracing.wireProtocol = .httpJSON
        tracing.serviceName = "paynode-eu"
        let otel = NodeTracing.configuration(tracing, region: "eu-west-1", logger: .init(label: "test"))
        #expect(otel.traces.enabled && !otel.metrics.enabled && !otel.logs.enabled)
        #expect(otel.traces.otlpExporter.endpoint == "http://127.0.0.1:4318/v1/traces")
        #expect(otel.traces.otlpExporter.protocol == .httpJSON)
        #expect(otel.serviceName == "paynode-eu" && otel.resourceAttributes["paynode.region"] == "eu-west-1")
    }

    @Test func badValuesAreRefusedNamingTheKey() throws {
        let endpoint = "tracing.otlp_endpoint"
        let cases: [(String, String, String)] =
            [
                ("tracing: yes", "tracing", "expected a mapping"),
                ("tracing: {}", endpoint, "is required"),
                ("tracing:\n  protocol: http/protobuf", endpoint, "is required"),
                ("tracing:\n  otlp_endpoint: 127.0.0.1:4318", endpoint, "http"),
                ("tracing:\n  otlp_endpoint: ftp://h:21", endpoint, "http or https"),
                ("tracing:\n  otlp_endpoint: http://", endpoint, "no host"),
                ("tracing:\n  otlp_endpoint: http://h:99999", endpoint, "1-65535"),
                ("tracing:\n  otlp_endpoint: http://u:p@h:4318", endpoint, "no user"),
                ("tracing:\n  otlp_endpoint: http://h:4318/?x=1", endpoint, "no user, query"),
                ("tracing:\n  otlp_endpoint: \"http://h :4318\"", endpoint, "printable"),
                ("tracing:\n  otlp_endpoint: http://h:1\n  protocol: grpc", "tracing.protocol", "not built into"),
                (
                    "tracing:\n  otlp_endpoint: http://h:1\n  protocol: thrift", "tracing.protocol",
                    "http/protobuf or http/json"
                ),
                ("tracing:\n  otlp_endpoint: http://h:1\n  service_name: \"\"", "tracing.service_name", "1-255"),
                (
                    "tracing:\n  otlp_endpoint: http://h:1\n  endpoint: http://h:2", "tracing.endpoint",
                    "unknown setting"
                ),
            ]
            + ["1.5", "-0.1", "1e-3", "nan", "inf", ".5", "0.", "0.1234567891", "0,5", "half", "[1]"].map {
                ("tracing:\n  otlp_endpoint: http://h:1\n  sample_ratio: \($0)", "tracing.sample_ratio", "")
            }
        for (extra, key, fragment) in cases {
            let error = try refusal(extra)
            #expect(error.key == key, "\(extra): \(error)")
            #expect(fragment.isEmpty || error.problem.contains(fragment), "\(extra): \(error)")
        }
    }

    @Test func aReloadNamesTracingAsRestartOnly() throws {
        let off = try load("")
        let on = try load("tracing:\n  otlp_endpoint: http://127.0.0.1:4318\n")
        #expect(off.restartOnlyDifferences(on).contains("tracing"))
    }
}
