import CoreMetrics
public import Prometheus
public import SandiCore

/// The engine's metrics through swift-metrics, exported by the Prometheus registry at `/metrics`.
/// Every label comes from a bounded set (see ``VerificationMetrics``).
public struct PrometheusVerificationMetrics: VerificationMetrics {
    private let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(20),
            .seconds(40), .seconds(60), .seconds(90), .seconds(180),
        ]
        self.factory = factory
    }

    public func started(purpose: Purpose?, outcome: String) {
        Counter(label: "sandi_verifications_total", dimensions: [("purpose", purpose?.rawValue ?? "unknown"), ("outcome", outcome)], factory: factory).increment()
    }

    public func checked(purpose: Purpose, outcome: String) {
        Counter(label: "sandi_checks_total", dimensions: [("purpose", purpose.rawValue), ("outcome", outcome)], factory: factory).increment()
    }

    public func sent(channel: Channel, provider: String, operator: String?, country: String?, status: DeliveryStatus, seconds: Double) {
        Counter(label: "sandi_sends_total", dimensions: [
            ("channel", channel.rawValue), ("provider", provider), ("operator", `operator` ?? "unknown"),
            ("country", country ?? "unknown"), ("status", status.rawValue),
        ], factory: factory).increment()
        Timer(label: "sandi_send_duration_seconds", dimensions: [("channel", channel.rawValue), ("provider", provider), ("status", status.rawValue)],
              factory: factory).recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    public func fellBack(from: Channel, to: Channel, reason: String) {
        Counter(label: "sandi_fallbacks_total", dimensions: [("from", from.rawValue), ("to", to.rawValue), ("reason", reason)], factory: factory).increment()
    }

    public func redeemed(outcome: String) {
        Counter(label: "sandi_grant_redemptions_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    public func queueDepth(_ jobs: Int) {
        Gauge(label: "sandi_queue_depth", factory: factory).record(jobs)
    }

    public func queueLag(kind: String, seconds: Double) {
        Timer(label: "sandi_queue_lag_seconds", dimensions: [("kind", kind)], factory: factory).recordSeconds(max(0, seconds))
    }

    public func riskDecided(action: String, enforced: Bool, signals: [String]) {
        let mode = enforced ? "enforce" : "record"
        Counter(label: "sandi_risk_decisions_total", dimensions: [("action", action), ("mode", mode)], factory: factory).increment()
        for signal in signals {
            Counter(label: "sandi_risk_signals_total", dimensions: [("signal", signal)], factory: factory).increment()
        }
    }

    public func rateLimitHit(key: String, enforced: Bool) {
        Counter(label: "sandi_rate_limit_hits_total", dimensions: [("key", key), ("mode", enforced ? "enforce" : "record")], factory: factory).increment()
    }

    public func prefixBlocked(enforced: Bool) {
        Counter(label: "sandi_prefix_blocks_total", dimensions: [("mode", enforced ? "enforce" : "record")], factory: factory).increment()
    }

    /// A provider's breaker towards an operator changed state (0 closed, 1 half-open, 2 open).
    public func breakerChanged(provider: String, channel: Channel, operator: String, state: BreakerState) {
        Gauge(label: "sandi_provider_breaker_state", dimensions: [("provider", provider), ("channel", channel.rawValue), ("operator", `operator`)], factory: factory).record(state.gauge)
        Counter(label: "sandi_provider_breaker_transitions_total", dimensions: [("provider", provider), ("to", state.rawValue)], factory: factory).increment()
    }
}
