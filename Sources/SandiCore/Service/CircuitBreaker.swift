public import Foundation
import Synchronization

/// When a provider's route to an operator counts as unhealthy, and how it recovers.
public struct BreakerPolicy: Sendable, Equatable {
    /// Outcomes older than this no longer count.
    public var windowSeconds: Double = 120
    /// Outcomes needed in the window before the breaker judges.
    public var minSamples: Int = 10
    /// The most recent outcomes kept (within the window): the judgement is over at most this
    /// many, so recording stays cheap however busy the route is.
    public var maxSamples: Int = 256
    /// Opens when the share of failed sends (failures and sends that got no receipt in time)
    /// reaches this.
    public var maxFailureRate: Double = 0.25
    /// Opens when the median time from send to delivery receipt exceeds this.
    public var maxMedianLatencySeconds: Double = 20
    /// How long it stays open before letting one probe through.
    public var openSeconds: Double = 30

    public init() {}
}

/// The state of one breaker, as shown through the API and metrics.
public enum BreakerState: String, Sendable, Codable {
    case closed, open
    case halfOpen = "half_open"

    /// The metric value: 0 closed, 1 half-open, 2 open.
    public var gauge: Int { self == .closed ? 0 : self == .halfOpen ? 1 : 2 }
}

/// One provider's health towards one operator: a rolling window of outcomes, and the classic
/// closed → open → half-open (one probe) → closed | open cycle. Pure: the clock is passed in.
public struct CircuitBreaker: Sendable, Equatable {
    public struct Outcome: Sendable, Equatable {
        public var at: Date
        public var ok: Bool
        /// Seconds from send to delivery receipt, when one came.
        public var latency: Double?
    }

    public private(set) var outcomes: [Outcome] = []
    public private(set) var openedAt: Date?
    /// Whether the one half-open probe is out.
    public private(set) var probing = false

    public init() {}

    public func state(at now: Date, _ policy: BreakerPolicy) -> BreakerState {
        guard let openedAt else { return .closed }
        return now.timeIntervalSince(openedAt) >= policy.openSeconds ? .halfOpen : .open
    }

    /// Whether a new send may use this route now; a half-open breaker lets one probe through.
    public mutating func allows(at now: Date, _ policy: BreakerPolicy) -> Bool {
        switch state(at: now, policy) {
        case .closed: return true
        case .open: return false
        case .halfOpen:
            guard !probing else { return false }
            probing = true
            return true
        }
    }

    /// Records an outcome; returns the new state when it changed.
    @discardableResult
    public mutating func record(ok: Bool, latency: Double?, at now: Date, _ policy: BreakerPolicy) -> BreakerState? {
        let before = state(at: now, policy)
        if before != .closed {
            // The probe (or a late outcome) decides: success closes, failure opens again.
            if before == .halfOpen || probing {
                probing = false
                if ok {
                    openedAt = nil
                    outcomes = []
                } else {
                    openedAt = now
                }
            }
            let after = state(at: now, policy)
            return after == before ? nil : after
        }
        outcomes.append(Outcome(at: now, ok: ok, latency: latency))
        // Oldest first: drop what left the window, and what is beyond the most recent maxSamples.
        let stale = outcomes.firstIndex { now.timeIntervalSince($0.at) <= policy.windowSeconds } ?? outcomes.count
        let excess = outcomes.count - max(1, policy.maxSamples)
        let drop = max(stale, excess)
        if drop > 0 { outcomes.removeFirst(drop) }
        let stats = statistics(at: now, policy)
        if stats.samples >= policy.minSamples,
           stats.failureRate >= policy.maxFailureRate || (stats.medianLatency ?? 0) > policy.maxMedianLatencySeconds {
            openedAt = now
            return .open
        }
        return nil
    }

    public struct Statistics: Sendable, Equatable {
        public var samples: Int
        public var failureRate: Double
        public var medianLatency: Double?
    }

    public func statistics(at now: Date, _ policy: BreakerPolicy) -> Statistics {
        let recent = outcomes.filter { now.timeIntervalSince($0.at) <= policy.windowSeconds }
        let failures = recent.filter { !$0.ok }.count
        let latencies = recent.compactMap(\.latency).sorted()
        return Statistics(samples: recent.count, failureRate: recent.isEmpty ? 0 : Double(failures) / Double(recent.count),
                          medianLatency: latencies.isEmpty ? nil : latencies[latencies.count / 2])
    }
}

/// The breakers of every provider and operator in this process (each node judges what it sees).
public final class BreakerBoard: Sendable {
    public let policy: BreakerPolicy
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    private let onChange: @Sendable (_ provider: String, _ channel: Channel, _ operator: String, _ state: BreakerState) -> Void

    public init(policy: BreakerPolicy = BreakerPolicy(), onChange: @escaping @Sendable (String, Channel, String, BreakerState) -> Void = { _, _, _, _ in }) {
        self.policy = policy
        self.onChange = onChange
    }

    static func key(_ provider: String, _ channel: Channel, _ operator: String?) -> String {
        provider + "|" + channel.rawValue + "|" + (`operator` ?? "unknown")
    }

    /// Whether a new send may go through this provider's channel to this operator now.
    public func allows(provider: String, channel: Channel, operator: String?, at now: Date) -> Bool {
        breakers.withLock { $0[Self.key(provider, channel, `operator`), default: CircuitBreaker()].allows(at: now, policy) }
    }

    /// Records a send's outcome for the provider, channel and operator.
    public func record(provider: String, channel: Channel, operator: String?, ok: Bool, latency: Double?, at now: Date) {
        let changed = breakers.withLock { $0[Self.key(provider, channel, `operator`), default: CircuitBreaker()].record(ok: ok, latency: latency, at: now, policy) }
        if let changed { onChange(provider, channel, `operator` ?? "unknown", changed) }
    }

    /// Every breaker's state and figures, for the health API.
    public func snapshot(at now: Date) -> [(provider: String, channel: Channel, operator: String, state: BreakerState, statistics: CircuitBreaker.Statistics, openedAt: Date?)] {
        breakers.withLock { map in
            map.sorted { $0.key < $1.key }.compactMap { key, breaker in
                let parts = key.split(separator: "|", maxSplits: 2).map(String.init)
                guard parts.count == 3, let channel = Channel(rawValue: parts[1]) else { return nil }
                return (parts[0], channel, parts[2], breaker.state(at: now, policy), breaker.statistics(at: now, policy), breaker.openedAt)
            }
        }
    }
}
