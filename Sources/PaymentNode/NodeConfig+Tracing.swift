import Foundation

/// Distributed traces (`tracing:` in the config): where the node sends its spans over
/// OTLP/HTTP, under which service name, and what share of new traces it keeps. Absent
/// from the file, the node traces nothing (no tracer, no span, no export).
public struct TracingConfig: Sendable, Hashable {
    /// How spans are encoded on the way to the collector (`tracing.protocol`).
    public enum WireProtocol: String, Sendable, CaseIterable {
        /// OTLP/HTTP with protobuf bodies (the OpenTelemetry default).
        case httpProtobuf = "http/protobuf"
        /// OTLP/HTTP with JSON bodies.
        case httpJSON = "http/json"
    }

    /// `tracing.otlp_endpoint` as written, without a trailing `/`: the collector's base
    /// URL (`http://127.0.0.1:4318`), like `OTEL_EXPORTER_OTLP_ENDPOINT`.
    public var endpoint: String
    public var wireProtocol: WireProtocol = .httpProtobuf
    /// `service.name` of every span (`tracing.service_name`).
    public var serviceName = "paynode"
    /// The share of traces started here that are kept, 0...1 (`tracing.sample_ratio`). A
    /// request whose `traceparent` already decided is traced as its caller decided.
    public var sampleRatio = 1.0

    public init(endpoint: String) { self.endpoint = endpoint }

    /// Where spans are posted: the endpoint with `/v1/traces` appended (as OTLP/HTTP
    /// does with a base URL), unless it already ends so.
    public var tracesURL: String { endpoint.hasSuffix("/v1/traces") ? endpoint : endpoint + "/v1/traces" }
}

extension NodeConfig {
    /// The `tracing:` section, or nil when the file has none. Every value is checked as
    /// client input is: the URL's shape, the protocol by name, the ratio as a plain
    /// decimal between 0 and 1.
    static func parseTracing(_ top: YAMLSection) throws(NodeConfigError) -> TracingConfig? {
        guard top.node("tracing") != nil else { return nil }
        let section = try top.section("tracing")
        guard section.node("otlp_endpoint") != nil else {
            throw section.error(
                "otlp_endpoint",
                "is required: the collector's OTLP/HTTP URL, e.g. http://127.0.0.1:4318 (leave out the tracing section to trace nothing)"
            )
        }
        var tracing = TracingConfig(
            endpoint: try endpoint(section, "otlp_endpoint", try section.requiredString("otlp_endpoint")))
        if let text = try section.string("protocol") {
            guard let wire = TracingConfig.WireProtocol(rawValue: text) else {
                let grpc = text == "grpc" ? " (OTLP/gRPC is not built into paynode)" : ""
                throw section.error("protocol", "must be http/protobuf or http/json, not \"\(text)\"\(grpc)")
            }
            tracing.wireProtocol = wire
        }
        if let name = try section.string("service_name") {
            guard (1...255).contains(name.utf8.count),
                name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
            else {
                throw section.error("service_name", "must be 1-255 characters without control characters")
            }
            tracing.serviceName = name
        }
        if let text = try section.string("sample_ratio") {
            guard let ratio = ratio(text) else {
                throw section.error("sample_ratio", "must be a decimal from 0 to 1 (0, 0.25, 1.0), not \"\(text)\"")
            }
            tracing.sampleRatio = ratio
        }
        try section.finish()
        return tracing
    }

    /// An `http` or `https` URL with a host, an optional port and path, and nothing else
    /// (no user, query or fragment); returned without a trailing `/`.
    private static func endpoint(_ section: YAMLSection, _ key: String, _ text: String) throws(NodeConfigError)
        -> String
    {
        func refuse(_ why: String) -> NodeConfigError {
            section.error(key, "\"\(text)\" is not a collector URL: \(why)")
        }
        guard text.utf8.count <= 2_048, text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw refuse("at most 2048 printable ASCII characters, no spaces")
        }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else {
            throw refuse("expected http://host:port or https://host:port, with an optional path")
        }
        guard scheme == "http" || scheme == "https" else { throw refuse("the scheme must be http or https") }
        guard let host = url.host, !host.isEmpty else { throw refuse("it names no host") }
        if let port = url.port, !(1...65_535).contains(port) { throw refuse("the port must be 1-65535") }
        guard url.user == nil, url.password == nil, url.query == nil, url.fragment == nil else {
            throw refuse("no user, query or fragment")
        }
        var trimmed = text
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    /// `0`, `1`, or `0.` / `1.` followed by 1-9 digits, at most 1: parsed only once the
    /// text has that shape (no exponent, sign, `nan` or `inf` slips through).
    static func ratio(_ text: String) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts[0] == "0" || parts[0] == "1" else { return nil }
        if parts.count == 2 {
            guard (1...9).contains(parts[1].count), parts[1].allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        }
        guard let value = Double(text), value >= 0, value <= 1 else { return nil }
        return value
    }
}
