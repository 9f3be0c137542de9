/// What the engine reports for metrics. Labels are bounded: purposes, channels, providers,
/// operators and countries from fixed tables, and fixed outcome words — never numbers or ids.
public protocol VerificationMetrics: Sendable {
    /// A start: `created`, or why it was refused (`rate_limited`, `destination_not_allowed`, …).
    func started(purpose: Purpose?, outcome: String)
    /// A check: `approved`, `wrong_code`, `locked` (this check locked it) or `not_pending`.
    func checked(purpose: Purpose, outcome: String)
    /// A send's outcome, and the seconds from queued to that outcome.
    func sent(channel: Channel, provider: String, operator: String?, country: String?, status: DeliveryStatus, seconds: Double)
    /// A move to the next step of the plan.
    func fellBack(from: Channel, to: Channel, reason: String)
    /// A grant redemption: `redeemed`, `not_found`, `expired`, `already_redeemed`.
    func redeemed(outcome: String)
    /// Jobs waiting in the durable queue.
    func queueDepth(_ jobs: Int)
    /// How late a claimed job started: from when it fell due to its claim (`send` or `fallback`).
    func queueLag(kind: String, seconds: Double)
    /// A risk decision on a start (`allow`, `step_up`, `deny`), whether it was enforced, and its signals.
    func riskDecided(action: String, enforced: Bool, signals: [String])
    /// A rate limit reached, by what it counts (`destination`, `ip`, …), enforced or only recorded.
    func rateLimitHit(key: String, enforced: Bool)
    /// A number prefix blocked (or, in record mode, suspected) by the pumping guard.
    func prefixBlocked(enforced: Bool)
}

extension VerificationMetrics {
    public func riskDecided(action: String, enforced: Bool, signals: [String]) {}
    public func rateLimitHit(key: String, enforced: Bool) {}
    public func prefixBlocked(enforced: Bool) {}
}

/// Metrics nobody collects (tools and tests that do not look at them).
public struct NoMetrics: VerificationMetrics {
    public init() {}
    public func started(purpose: Purpose?, outcome: String) {}
    public func checked(purpose: Purpose, outcome: String) {}
    public func sent(channel: Channel, provider: String, operator: String?, country: String?, status: DeliveryStatus, seconds: Double) {}
    public func fellBack(from: Channel, to: Channel, reason: String) {}
    public func redeemed(outcome: String) {}
    public func queueDepth(_ jobs: Int) {}
    public func queueLag(kind: String, seconds: Double) {}
}
