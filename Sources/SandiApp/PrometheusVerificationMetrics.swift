import CoreMetrics
public import Prometheus
public import SandiCore
import Synchronization

/// The engine's metrics through swift-metrics, exported by the Prometheus registry at `/metrics`.
/// Every label comes from a bounded set (see ``VerificationMetrics``).
public struct PrometheusVerificationMetrics: VerificationMetrics {
    private let factory: PrometheusMetricsFactory
    private let handles = Handles()

    /// Counters and timers made once per label set and kept: making one through the factory
    /// validates its names and looks it up in the registry under a lock on every call.
    private final class Handles: Sendable {
        let counters = Mutex<[Key: CoreMetrics.Counter]>([:])
        let timers = Mutex<[Key: Timer]>([:])
    }

    /// A metric's label and its dimensions' values (a label always comes with the same dimension
    /// names, in the same order, at most five), hashed without building a string.
    private struct Key: Hashable {
        var label: String
        var values: (String, String, String, String, String) = ("", "", "", "", "")

        init(_ label: String, _ dimensions: [(String, String)]) {
            assert(dimensions.count <= 5, "a metric of this file has at most five dimensions")
            self.label = label
            let value = { (index: Int) in index < dimensions.count ? dimensions[index].1 : "" }
            values = (value(0), value(1), value(2), value(3), value(4))
        }

        static func == (a: Key, b: Key) -> Bool { a.label == b.label && a.values == b.values }

        func hash(into hasher: inout Hasher) {
            hasher.combine(label)
            hasher.combine(values.0)
            hasher.combine(values.1)
            hasher.combine(values.2)
            hasher.combine(values.3)
            hasher.combine(values.4)
        }
    }

    private func counter(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
        let key = Key(label, dimensions)
        if let counter = handles.counters.withLock({ $0[key] }) { return counter }
        let counter = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
        handles.counters.withLock { $0[key] = counter }
        return counter
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        let key = Key(label, dimensions)
        if let timer = handles.timers.withLock({ $0[key] }) { return timer }
        let timer = Timer(label: label, dimensions: dimensions, factory: factory)
        handles.timers.withLock { $0[key] = timer }
        return timer
    }

    public init(registry: PrometheusCollectorRegistry) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(20),
            .seconds(40), .seconds(60), .seconds(90), .seconds(180),
        ]
        self.factory = factory
    }

    public func started(purpose: Purpose?, outcome: String) {
        counter("sandi_verifications_total", [("purpose", purpose?.rawValue ?? "unknown"), ("outcome", outcome)]).increment()
    }

    public func checked(purpose: Purpose, outcome: String) {
        counter("sandi_checks_total", [("purpose", purpose.rawValue), ("outcome", outcome)]).increment()
    }

    public func sent(channel: Channel, provider: String, operator: String?, country: String?, status: DeliveryStatus, seconds: Double) {
        counter("sandi_sends_total", [
            ("channel", channel.rawValue), ("provider", provider), ("operator", `operator` ?? "unknown"),
            ("country", country ?? "unknown"), ("status", status.rawValue),
        ]).increment()
        timer("sandi_send_duration_seconds", [("channel", channel.rawValue), ("provider", provider), ("status", status.rawValue)]).recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    public func fellBack(from: Channel, to: Channel, reason: String) {
        counter("sandi_fallbacks_total", [("from", from.rawValue), ("to", to.rawValue), ("reason", reason)]).increment()
    }

    public func redeemed(outcome: String) {
        counter("sandi_grant_redemptions_total", [("outcome", outcome)]).increment()
    }

    public func queueDepth(_ jobs: Int) {
        Gauge(label: "sandi_queue_depth", factory: factory).record(jobs)
    }

    public func queueLag(kind: String, seconds: Double) {
        timer("sandi_queue_lag_seconds", [("kind", kind)]).recordSeconds(max(0, seconds))
    }

    public func riskDecided(action: String, enforced: Bool, signals: [String]) {
        let mode = enforced ? "enforce" : "record"
        counter("sandi_risk_decisions_total", [("action", action), ("mode", mode)]).increment()
        for signal in signals {
            counter("sandi_risk_signals_total", [("signal", signal)]).increment()
        }
    }

    public func rateLimitHit(key: String, enforced: Bool) {
        counter("sandi_rate_limit_hits_total", [("key", key), ("mode", enforced ? "enforce" : "record")]).increment()
    }

    public func prefixBlocked(enforced: Bool) {
        counter("sandi_prefix_blocks_total", [("mode", enforced ? "enforce" : "record")]).increment()
    }

    /// A provider's breaker towards an operator changed state (0 closed, 1 half-open, 2 open).
    public func breakerChanged(provider: String, channel: Channel, operator: String, state: BreakerState) {
        Gauge(label: "sandi_provider_breaker_state", dimensions: [("provider", provider), ("channel", channel.rawValue), ("operator", `operator`)], factory: factory).record(state.gauge)
        counter("sandi_provider_breaker_transitions_total", [("provider", provider), ("to", state.rawValue)]).increment()
    }
}
