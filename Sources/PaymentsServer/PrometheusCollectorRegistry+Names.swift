import Prometheus

extension PrometheusCollectorRegistry {
    /// The gauge with this full name (`paynode_…`, as dashboards and alert rules query
    /// it) and labels, made on first use.
    func gauge(named name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    /// The counter with this full name and labels, made on first use.
    func counter(named name: String, labels: [(String, String)] = [], help: String) -> Counter {
        makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    /// A descriptor whose name is `name` as given: no namespace or unit is added (an
    /// empty unit is left out of the name).
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
