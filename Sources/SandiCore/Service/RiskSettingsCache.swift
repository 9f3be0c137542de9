import Foundation
import Synchronization

/// A tenant's settings document of one kind (`risk`, `routing`): its own when it saved one, else
/// the server's defaults. Read on every start, so kept in memory for a few seconds (other nodes
/// see a change within `ttlSeconds`). Every save is an audited `settings.<kind>_updated` event.
public final class TenantDocumentCache<Document: Codable & Sendable>: Sendable {
    public let store: any RiskStateStore
    public let kind: String
    public let defaults: Document
    public let clock: any TimeSource
    public let ttlSeconds: Double
    private let entries = Mutex<[String: (settings: Document, own: Bool, at: Date)]>([:])

    public init(store: any RiskStateStore, kind: String, defaults: Document, clock: any TimeSource, ttlSeconds: Double = 5) {
        self.store = store
        self.kind = kind
        self.defaults = defaults
        self.clock = clock
        self.ttlSeconds = ttlSeconds
    }

    /// Where a tenant's document of this kind is kept.
    public func key(tenantID: String) -> String { "settings.\(kind)|\(tenantID)" }

    /// The document in force for a tenant, and whether it is its own (not the defaults).
    public func settings(tenantID: String) async throws -> (settings: Document, own: Bool) {
        let now = clock.now
        if let hit = entries.withLock({ $0[tenantID] }), now.timeIntervalSince(hit.at) < ttlSeconds, now >= hit.at {
            return (hit.settings, hit.own)
        }
        let key = key(tenantID: tenantID)
        let stored = try await store.riskStates(prefix: key, now: now, limit: 1)[key]
        let own = stored.flatMap { try? JSONDecoder().decode(Document.self, from: Data($0.utf8)) }
        let result = (own ?? defaults, own != nil)
        entries.withLock { $0[tenantID] = (result.0, result.1, now) }
        return result
    }

    /// Saves a tenant's document (nil: back to the defaults), with an audited event.
    public func save(tenantID: String, _ settings: Document?, actor: String) async throws {
        let now = clock.now
        let key = key(tenantID: tenantID)
        let text = try settings.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let write = RiskStateWrite(
            values: [key: RiskStateValue(text ?? "", expiresAt: text == nil ? now : Date.distantFuture)],
            events: [Event(tenantID: tenantID, verificationID: nil, type: "settings.\(kind)_updated", createdAt: now,
                           data: ["actor": .string(actor), "reset_to_defaults": .bool(settings == nil)])])
        try await store.updateRiskState(keys: [key], now: now) { _ in ((), write) }
        entries.withLock { $0[tenantID] = nil }
    }
}

/// Each tenant's risk settings (limits, scoring, pumping guard, safe list, notices).
public typealias RiskSettingsCache = TenantDocumentCache<RiskSettings>

extension TenantDocumentCache where Document == RiskSettings {
    public convenience init(store: any RiskStateStore, defaults: RiskSettings = .defaults, clock: any TimeSource, ttlSeconds: Double = 5) {
        self.init(store: store, kind: "risk", defaults: defaults, clock: clock, ttlSeconds: ttlSeconds)
    }
}

/// Each tenant's routing settings (plan rules, last-worked preference).
public typealias RoutingSettingsCache = TenantDocumentCache<RoutingSettings>

extension TenantDocumentCache where Document == RoutingSettings {
    public convenience init(store: any RiskStateStore, defaults: RoutingSettings = RoutingSettings(), clock: any TimeSource, ttlSeconds: Double = 5) {
        self.init(store: store, kind: "routing", defaults: defaults, clock: clock, ttlSeconds: ttlSeconds)
    }
}
