public import Foundation

/// One counter of the cockpit's aggregates: how often something happened (and the sum of a
/// measure, e.g. delivery seconds) in one time bucket, for one tenant, by one dimension.
/// Aggregates are added as events are sealed into the audit chain (each event once, off the hot
/// path), so pages read a few rows per bucket instead of scanning the event log.
public struct RollupDelta: Sendable, Equatable, Hashable {
    /// Start of the bucket, Unix seconds.
    public var bucket: Int64
    /// Bucket length in seconds: 60 (minutes) or 3600 (hours).
    public var span: Int
    public var tenantID: String
    public var metric: String
    /// The breakdown value (`whatsapp|simulator`, a country, a latency bucket, …); empty: none.
    public var dimension: String
    public var count: Int64
    public var total: Double

    public init(bucket: Int64, span: Int, tenantID: String, metric: String, dimension: String, count: Int64, total: Double) {
        self.bucket = bucket
        self.span = span
        self.tenantID = tenantID
        self.metric = metric
        self.dimension = dimension
        self.count = count
        self.total = total
    }
}

/// Reads the cockpit's aggregates.
public protocol RollupStore: Sendable {
    /// Rows of buckets of `span` seconds starting in `from..<to`, for one tenant or all (nil),
    /// optionally only `metrics`.
    func rollups(tenantID: String?, span: Int, from: Date, to: Date, metrics: [String]?) async throws -> [RollupDelta]
}

/// What each event adds to the aggregates. Metric names: `verifications` (by purpose),
/// `verifications.country`, `verifications.operator`, `approved` (by purpose), `check_failed`,
/// `locked`, `blocked` (risk denials), `rate_limited`, `prefix_blocked`, `sends`, `delivered`
/// (with seconds to delivery as total), `failed`, `undeliverable` (each by `channel|provider`),
/// `delivered.country`, `delivered.operator`, `delivery_latency` (by latency bucket), `fallbacks`
/// (by `from>to`), `grants_redeemed`.
public enum Rollups {
    public static let spans = [60, 3600]
    /// Upper bounds (seconds) of the delivery latency buckets; the last bucket is `inf`.
    public static let latencyBounds: [Double] = [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 300]

    public static func latencyBucket(_ seconds: Double) -> String {
        for bound in latencyBounds where seconds <= bound { return "le_\(Int(bound))" }
        return "inf"
    }

    /// The deltas of a batch of sealed records, merged per bucket, tenant, metric and dimension.
    /// `known` gives the fields of a record when they are at hand without decoding its data (the
    /// store kept them when it wrote the event); the others are decoded.
    public static func deltas(for records: [AuditRecord], known: (AuditRecord) -> Fields? = { _ in nil }) -> [RollupDelta] {
        var merged: [RollupDelta: (Int64, Double)] = [:]
        let decoder = JSONDecoder()
        for record in records {
            // Only the events that count are decoded, and only the fields the counting reads.
            guard countedTypes.contains(record.type),
                  let data = known(record) ?? (try? decoder.decode(Fields.self, from: Data(record.data.utf8))) else { continue }
            for (metric, dimension, total) in contributions(type: record.type, data: data) {
                let seconds = record.createdAtMillis / 1000
                for span in spans {
                    let key = RollupDelta(bucket: seconds - seconds % Int64(span), span: span, tenantID: record.tenantID,
                                          metric: metric, dimension: dimension, count: 0, total: 0)
                    let (count, sum) = merged[key] ?? (0, 0)
                    merged[key] = (count + 1, sum + total)
                }
            }
        }
        return merged.map { key, value in
            var delta = key
            delta.count = value.0
            delta.total = value.1
            return delta
        }.sorted { ($0.bucket, $0.span, $0.tenantID, $0.metric, $0.dimension) < ($1.bucket, $1.span, $1.tenantID, $1.metric, $1.dimension) }
    }

    /// The event types that add to the aggregates.
    public static let countedTypes: Set<String> = [
        "verification.created", "verification.approved", "verification.check_failed", "verification.locked", "verification.blocked",
        "rate_limit.hit", "fraud.prefix_blocked", "delivery.sent", "delivery.delivered", "delivery.failed", "delivery.fallback",
        "grant.redeemed",
    ]

    /// The fields of an event's data that the counting reads. A field of another type than the
    /// one expected reads as absent, as the rest of the event still counts.
    public struct Fields: Decodable, Sendable, Equatable {
        var purpose, country, `operator`, key, channel, provider, from, to: String?
        var enforced, undeliverable: Bool?
        var latencyMs: Double?

        /// The fields of data not yet written: what decoding its JSON text would give.
        public init(_ data: [String: JSONValue]) {
            func string(_ key: CodingKeys) -> String? { if case .string(let value)? = data[key.rawValue] { value } else { nil } }
            func bool(_ key: CodingKeys) -> Bool? { if case .bool(let value)? = data[key.rawValue] { value } else { nil } }
            (purpose, country, `operator`, key) = (string(.purpose), string(.country), string(.operator), string(.key))
            (channel, provider, from, to) = (string(.channel), string(.provider), string(.from), string(.to))
            (enforced, undeliverable) = (bool(.enforced), bool(.undeliverable))
            if case .number(let value)? = data[CodingKeys.latencyMs.rawValue], value.isFinite { latencyMs = value } else { latencyMs = nil }
        }

        enum CodingKeys: String, CodingKey {
            case purpose, country, `operator`, key, channel, provider, from, to, enforced, undeliverable
            case latencyMs = "latency_ms"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func field<T: Decodable>(_ key: CodingKeys) -> T? { (try? c.decodeIfPresent(T.self, forKey: key)) ?? nil }
            (purpose, country, `operator`, key) = (field(.purpose), field(.country), field(.operator), field(.key))
            (channel, provider, from, to) = (field(.channel), field(.provider), field(.from), field(.to))
            (enforced, undeliverable, latencyMs) = (field(.enforced), field(.undeliverable), field(.latencyMs))
        }
    }

    /// (metric, dimension, measure) of one event.
    static func contributions(type: String, data: Fields) -> [(String, String, Double)] {
        let route = (data.channel ?? "") + "|" + (data.provider ?? "")
        switch type {
        case "verification.created":
            return [("verifications", data.purpose ?? "", 0), ("verifications.country", data.country ?? "", 0),
                    ("verifications.operator", data.operator.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown", 0)]
        case "verification.approved": return [("approved", data.purpose ?? "", 0)]
        case "verification.check_failed": return [("check_failed", "", 0)]
        case "verification.locked": return [("locked", "", 0)]
        case "verification.blocked": return [("blocked", "", 0)]
        case "rate_limit.hit" where data.enforced != false: return [("rate_limited", data.key ?? "", 0)]
        case "fraud.prefix_blocked" where data.enforced != false: return [("prefix_blocked", "", 0)]
        case "delivery.sent": return [("sends", route, 0)]
        case "delivery.delivered":
            var out: [(String, String, Double)] = []
            let seconds = data.latencyMs.map { $0 / 1000 }
            out.append(("delivered", route, seconds ?? 0))
            if let seconds { out.append(("delivery_latency", latencyBucket(seconds), seconds)) }
            if let country = data.country, !country.isEmpty { out.append(("delivered.country", country, 0)) }
            if let op = data.operator, !op.isEmpty { out.append(("delivered.operator", op, 0)) }
            return out
        case "delivery.failed":
            return [(data.undeliverable == true ? "undeliverable" : "failed", route, 0)]
        case "delivery.fallback": return [("fallbacks", (data.from ?? "") + ">" + (data.to ?? ""), 0)]
        case "grant.redeemed": return [("grants_redeemed", "", 0)]
        default: return []
        }
    }

    /// The q-quantile (0…1) of delivery seconds estimated from latency bucket counts (the upper
    /// bound of the bucket it falls in); nil without deliveries.
    public static func latencyQuantile(_ q: Double, buckets: [String: Int64]) -> Double? {
        let total = buckets.values.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = Int64((Double(total) * q).rounded(.up))
        var seen: Int64 = 0
        for bound in latencyBounds {
            seen += buckets["le_\(Int(bound))"] ?? 0
            if seen >= max(1, rank) { return bound }
        }
        return .infinity
    }
}
