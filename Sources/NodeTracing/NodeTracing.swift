import Logging
import OTel
import PaymentNode
import ServiceLifecycle
import Tracing

/// `paynode serve`'s distributed traces: when the config has a `tracing:` section,
/// swift-otel's tracer becomes the process's tracer (OTLP/HTTP export in batches,
/// W3C `traceparent` propagation, a parent-based ratio sampler) and a service that
/// exports in the background and flushes what is left on shutdown. Only traces: the
/// node's logs and Prometheus metrics stay as they are.
public enum NodeTracing {
    /// Bootstraps the tracer for `config.tracing` and returns the service to run (first
    /// in the service group, so it stops last and exports the spans of the drain).
    /// Without `tracing:` it bootstraps nothing and returns nil: the tracer stays the
    /// no-op one and the node starts no span at all. Call at most once per process.
    public static func bootstrap(_ config: NodeConfig, logger: Logger) throws -> (any Service)? {
        guard let tracing = config.tracing else { return nil }
        let backend = try OTel.makeTracingBackend(
            configuration: configuration(tracing, region: config.region.name, logger: logger))
        InstrumentationSystem.bootstrap(backend.factory)
        logger.info(
            "tracing",
            metadata: [
                "tracing.endpoint": "\(tracing.tracesURL)", "tracing.protocol": "\(tracing.wireProtocol.rawValue)",
                "tracing.sample_ratio": "\(tracing.sampleRatio)",
            ])
        return backend.service
    }

    /// swift-otel's configuration for `tracing`: traces only (logs and metrics off),
    /// exported to `tracing.tracesURL`, diagnostics through the node's own logger.
    /// `OTEL_*` environment variables still override it, as the OpenTelemetry
    /// specification says.
    public static func configuration(_ tracing: TracingConfig, region: String, logger: Logger) -> OTel.Configuration {
        var otel = OTel.Configuration.default
        otel.serviceName = tracing.serviceName
        otel.resourceAttributes = ["paynode.region": region]
        otel.diagnosticLogger = .custom(logger)
        otel.propagators = [.traceContext]
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.traces.enabled = true
        otel.traces.exporter = .otlp
        otel.traces.sampler = .parentBasedTraceIDRatio(ratio: tracing.sampleRatio) ?? .parentBasedAlwaysOn
        otel.traces.otlpExporter.endpoint = tracing.tracesURL
        otel.traces.otlpExporter.protocol =
            switch tracing.wireProtocol {
            case .httpProtobuf: .httpProtobuf
            case .httpJSON: .httpJSON
            }
        return otel
    }
}
