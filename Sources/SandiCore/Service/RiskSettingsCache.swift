import Foundation
import Synchronization

/// The risk settings of each tenant: its own document when it saved one, else the server's
/// defaults. Read on every start, so kept in memory for a few seconds (other nodes see a change
/// within `ttlSeconds`).
public final class RiskSettingsCache: Sendable {
    public let store: any RiskStateStore
    public let defaults: RiskSettings
    public let clock: any TimeSource
    public let ttlSeconds: Double
    private let entries = Mutex<[String: (settings: RiskSettings, own: Bool, at: Date)]>([:])

    public init(store: any RiskStateStore, defaults: RiskSettings = .defaults, clock: any TimeSource, ttlSeconds: Double = 5) {
        self.store = store
        self.defaults = defaults
        self.clock = clock
        self.ttlSeconds = ttlSeconds
    }

    /// The settings in force for a tenant, and whether they are its own (not the defaults).
    public func settings(tenantID: String) async throws -> (settings: RiskSettings, own: Bool) {
        let now = clock.now
        if let hit = entries.withLock({ $0[tenantID] }), now.timeIntervalSince(hit.at) < ttlSeconds, now >= hit.at {
            return (hit.settings, hit.own)
        }
        let key = RiskEngine.settingsKey(tenantID: tenantID)
        let stored = try await store.riskStates(prefix: key, now: now, limit: 1)[key]
        let own = stored.flatMap { try? JSONDecoder().decode(RiskSettings.self, from: Data($0.utf8)) }
        let result = (own ?? defaults, own != nil)
        entries.withLock { $0[tenantID] = (result.0, result.1, now) }
        return result
    }

    /// Saves a tenant's settings (nil: back to the defaults), with an audited event.
    public func save(tenantID: String, _ settings: RiskSettings?, actor: String) async throws {
        let now = clock.now
        let key = RiskEngine.settingsKey(tenantID: tenantID)
        let text = try settings.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let write = RiskStateWrite(
            values: [key: RiskStateValue(text ?? "", expiresAt: text == nil ? now : Date.distantFuture)],
            events: [Event(tenantID: tenantID, verificationID: nil, type: "settings.risk_updated", createdAt: now,
                           data: ["actor": .string(actor), "reset_to_defaults": .bool(settings == nil)])])
        try await store.updateRiskState(keys: [key], now: now) { _ in ((), write) }
        entries.withLock { $0[tenantID] = nil }
    }
}
