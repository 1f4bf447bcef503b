import Prometheus

/// `securechat_config_reloads_total{result}`: every SIGHUP reload's outcome.
struct ConfigurationReloadMetrics: Sendable {
    enum Result: String, CaseIterable {
        /// Valid, and no restart-only setting changed: applied.
        case applied
        /// Something was wrong (a value, a file, a certificate): nothing applied.
        case invalid
        /// A restart-only setting changed: nothing applied.
        case restartRequired = "restart_required"
    }

    let registry: PrometheusCollectorRegistry

    /// Registers every result at 0, so a dashboard sees the series before the first reload.
    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        for result in Result.allCases { _ = counter(result) }
    }

    func count(_ result: Result) {
        counter(result).increment()
    }

    private func counter(_ result: Result) -> Counter {
        let descriptor = MetricNameDescriptor(
            namespace: "securechat", metricName: "config_reloads", unitName: "total",
            helpText: "Configuration reloads (SIGHUP) by result: applied, invalid, restart_required.")
        return registry.makeCounter(descriptor: descriptor, labels: [("result", result.rawValue)])
    }
}
