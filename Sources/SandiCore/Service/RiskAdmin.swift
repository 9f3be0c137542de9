import Foundation

/// A tenant's view of its risk rules at work: settings, and the prefixes the pumping guard blocked.
public struct RiskAdmin: Sendable {
    public let store: any RiskStateStore
    public let settings: RiskSettingsCache
    public let clock: any TimeSource

    public init(store: any RiskStateStore, settings: RiskSettingsCache, clock: any TimeSource) {
        self.store = store
        self.settings = settings
        self.clock = clock
    }

    /// Active (and, in record mode, suspected) prefix blocks, newest first.
    public func prefixBlocks(tenantID: String) async throws -> [PrefixBlock] {
        try await store.riskStates(prefix: RiskEngine.blockKeyPrefix(tenantID: tenantID), now: clock.now, limit: 1000)
            .values.compactMap(RiskEngine.decodeBlock).sorted { $0.blockedAt > $1.blockedAt }
    }

    /// Lifts a prefix block before its cooling period ends; false when none was active.
    public func liftBlock(tenantID: String, prefix: String, actor: String) async throws -> Bool {
        let now = clock.now
        let key = RiskEngine.blockKeyPrefix(tenantID: tenantID) + prefix
        return try await store.updateRiskState(keys: [key], now: now) { state in
            guard state[key] != nil else { return (false, RiskStateWrite()) }
            return (true, RiskStateWrite(
                values: [key: RiskStateValue("", expiresAt: now)],
                events: [Event(tenantID: tenantID, verificationID: nil, type: "fraud.prefix_unblocked", createdAt: now,
                               data: ["prefix": .string(prefix), "actor": .string(actor)])]))
        }
    }
}
