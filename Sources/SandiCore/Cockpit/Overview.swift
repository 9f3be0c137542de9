public import Foundation

/// The periods the cockpit shows.
public enum OverviewWindow: String, Sendable, CaseIterable, Codable {
    case hour, day, week

    /// Bucket length (seconds) and how many buckets the window spans.
    public var span: Int { self == .hour ? 60 : 3600 }
    public var buckets: Int {
        switch self {
        case .hour: 60
        case .day: 24
        case .week: 168
        }
    }

    public func range(now: Date) -> (from: Date, to: Date) {
        let end = (Int64(now.timeIntervalSince1970) / Int64(span) + 1) * Int64(span)
        let start = end - Int64(span * buckets)
        return (Date(timeIntervalSince1970: TimeInterval(start)), Date(timeIntervalSince1970: TimeInterval(end)))
    }
}

/// The cockpit's figures for one window, computed from rollups only.
public struct Overview: Sendable, Equatable, Codable {
    public struct Point: Sendable, Equatable, Codable {
        public var at: Date
        public var verifications: Int64
        public var delivered: Int64
    }

    /// One row of a breakdown (a route `channel|provider`, a country or an operator).
    public struct Row: Sendable, Equatable, Codable {
        public var key: String
        public var sends: Int64
        public var delivered: Int64
        public var failed: Int64
        public var deliveryRate: Double?
    }

    public var window: OverviewWindow
    public var verifications: Int64
    public var perMinute: Double
    public var sends: Int64
    public var delivered: Int64
    public var deliveryRate: Double?
    public var medianDeliverySeconds: Double?
    public var p95DeliverySeconds: Double?
    public var approved: Int64
    public var successRate: Double?
    public var fallbacks: Int64
    public var fallbackRate: Double?
    public var fraudBlocks: Int64
    public var failedChecks: Int64
    public var series: [Point]
    public var routes: [Row]
    public var countries: [Row]
    public var operators: [Row]
    public var fallbackSteps: [String: Int64]

    enum CodingKeys: String, CodingKey {
        case window, verifications, perMinute = "per_minute", sends, delivered, deliveryRate = "delivery_rate"
        case medianDeliverySeconds = "median_delivery_s", p95DeliverySeconds = "p95_delivery_s", approved
        case successRate = "success_rate", fallbacks, fallbackRate = "fallback_rate", fraudBlocks = "fraud_blocks"
        case failedChecks = "failed_checks", series, routes, countries, operators, fallbackSteps = "fallback_steps"
    }

    /// The metrics an overview reads.
    public static let metrics = ["verifications", "verifications.country", "verifications.operator", "approved", "check_failed", "blocked",
                                 "rate_limited", "prefix_blocked", "sends", "delivered", "failed", "undeliverable", "delivered.country",
                                 "delivered.operator", "delivery_latency", "fallbacks"]

    public init(window: OverviewWindow, rows: [RollupDelta], now: Date) {
        func ratio(_ a: Int64, _ b: Int64) -> Double? { b > 0 ? Double(a) / Double(b) : nil }
        var byMetric: [String: [String: Int64]] = [:]
        var perBucket: [Int64: (Int64, Int64)] = [:]
        for row in rows {
            byMetric[row.metric, default: [:]][row.dimension, default: 0] += row.count
            if row.metric == "verifications" { perBucket[row.bucket, default: (0, 0)].0 += row.count }
            if row.metric == "delivered" { perBucket[row.bucket, default: (0, 0)].1 += row.count }
        }
        func total(_ metric: String) -> Int64 { byMetric[metric]?.values.reduce(0, +) ?? 0 }
        self.window = window
        verifications = total("verifications")
        perMinute = Double(verifications) / Double(window.span * window.buckets / 60)
        sends = total("sends")
        delivered = total("delivered")
        deliveryRate = ratio(delivered, sends)
        let latency = byMetric["delivery_latency"] ?? [:]
        medianDeliverySeconds = Rollups.latencyQuantile(0.5, buckets: latency)
        p95DeliverySeconds = Rollups.latencyQuantile(0.95, buckets: latency)
        approved = total("approved")
        successRate = ratio(approved, verifications)
        fallbacks = total("fallbacks")
        fallbackRate = ratio(fallbacks, verifications)
        fraudBlocks = total("blocked") + total("rate_limited") + total("prefix_blocked")
        failedChecks = total("check_failed")
        let range = window.range(now: now)
        let first = Int64(range.from.timeIntervalSince1970)
        series = (0..<window.buckets).map { index in
            let bucket = first + Int64(index * window.span)
            let (v, d) = perBucket[bucket] ?? (0, 0)
            return Point(at: Date(timeIntervalSince1970: TimeInterval(bucket)), verifications: v, delivered: d)
        }
        func table(sends: [String: Int64], delivered: [String: Int64], failed: [String: Int64]) -> [Row] {
            Set(sends.keys).union(delivered.keys).union(failed.keys).map { key in
                Row(key: key, sends: sends[key] ?? 0, delivered: delivered[key] ?? 0, failed: failed[key] ?? 0,
                    deliveryRate: ratio(delivered[key] ?? 0, sends[key] ?? 0))
            }.sorted { ($0.sends, $0.delivered, $1.key) > ($1.sends, $1.delivered, $0.key) }
        }
        var failedRoutes = byMetric["failed"] ?? [:]
        for (key, value) in byMetric["undeliverable"] ?? [:] { failedRoutes[key, default: 0] += value }
        routes = table(sends: byMetric["sends"] ?? [:], delivered: byMetric["delivered"] ?? [:], failed: failedRoutes)
        // Starts stand in for sends by country and operator (a start is where a code was asked for).
        countries = table(sends: byMetric["verifications.country"] ?? [:], delivered: byMetric["delivered.country"] ?? [:], failed: [:])
        operators = table(sends: byMetric["verifications.operator"] ?? [:], delivered: byMetric["delivered.operator"] ?? [:], failed: [:])
        fallbackSteps = byMetric["fallbacks"] ?? [:]
    }
}
