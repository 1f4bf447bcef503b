import Prometheus

/// The cluster's figures for `/metrics`: link state, nodes up, commit latency, notification lag, and the
/// lines fetched from the table to close gaps.
final class ClusterMetrics: Sendable {
    let linkUp: Gauge
    let nodesUp: Gauge
    let commitDuration: DurationHistogram
    let notificationLag: DurationHistogram
    let gapLinesFetched: Counter
    let batches: Counter
    let committedLines: Counter
    let workRefused: Counter
    let notificationsCoalesced: Counter

    init(registry: PrometheusCollectorRegistry) {
        func name(_ metric: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "securechat_cluster", metricName: metric, unitName: unit, helpText: help)
        }
        linkUp = registry.makeGauge(descriptor: name("link_up", "1 while this node is linked to the cluster database."))
        nodesUp = registry.makeGauge(
            descriptor: name("nodes_up", "Nodes whose heartbeat is current, this one included."))
        let buckets: [Duration] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        commitDuration = registry.makeDurationHistogram(
            descriptor: name("commit_duration", unit: "seconds", "Time to commit one batch of room lines."),
            buckets: buckets)
        notificationLag = registry.makeDurationHistogram(
            descriptor: name("notification_lag", unit: "seconds", "From a batch's commit to its notification here."),
            buckets: buckets)
        gapLinesFetched = registry.makeCounter(
            descriptor: name("gap_lines_fetched", unit: "total", "Lines read from the table to close a gap."))
        batches = registry.makeCounter(
            descriptor: name("batches", unit: "total", "Batches of room lines committed by this node."))
        committedLines = registry.makeCounter(
            descriptor: name("committed_lines", unit: "total", "Room lines committed by this node."))
        workRefused = registry.makeCounter(
            descriptor: name(
                "work_refused", unit: "total", "Logins and DMs refused at once because the work queue was full."))
        notificationsCoalesced = registry.makeCounter(
            descriptor: name(
                "notifications_coalesced", unit: "total",
                "Notifications merged into one already waiting, or into a catch-up when too many waited."))
    }
}
