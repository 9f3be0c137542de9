public import Foundation

/// Tenants and their API keys.
public protocol TenantStore: Sendable {
    /// Creates a tenant; throws ``StoreError/conflict`` when the name is taken.
    func createTenant(_ tenant: Tenant) async throws
    func tenant(named name: String) async throws -> Tenant?
    func tenant(id: String) async throws -> Tenant?
    func tenants() async throws -> [Tenant]
    /// Sets the destination countries a tenant may send to (nil: every country); false when no such tenant.
    func setAllowedCountries(tenantID: String, countries: Set<String>?) async throws -> Bool
    func addKey(_ key: APIKeyRecord) async throws
    /// Revokes a key; false when no such live key.
    func revokeKey(id: String, now: Date) async throws -> Bool
    func keys(tenantID: String) async throws -> [APIKeyRecord]
    /// The tenant of a live (unrevoked) key, by the key's hash.
    func tenant(forKeyHash hash: String) async throws -> Tenant?
}

/// What redeeming a grant found.
public enum RedeemOutcome: Sendable, Equatable {
    case redeemed(Grant)
    case notFound
    case expired
    case alreadyRedeemed
}

/// Single-use grant tokens.
public protocol GrantStore: Sendable {
    /// Redeems a grant once, atomically, with a `grant.redeemed` event.
    func redeemGrant(tokenHash: String, tenantID: String, now: Date) async throws -> RedeemOutcome
}

/// A response kept for an idempotency key.
public struct StoredResponse: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String

    public init(status: Int, body: [UInt8], contentType: String) {
        self.status = status
        self.body = body
        self.contentType = contentType
    }
}

/// What an idempotency key says about a request.
public enum IdempotencyBegin: Sendable, Equatable {
    /// First use: go ahead, then store the response.
    case proceed
    /// Seen with the same body: answer this again.
    case replay(StoredResponse)
    /// Seen with another body.
    case mismatch
    /// The first request with this key is still running.
    case inProgress
}

/// Idempotency keys, scoped to tenant and endpoint, kept 24 h. A key whose first request never
/// finished (the process died) is released after ``IdempotencyRules/abandonedAfterSeconds``.
public protocol IdempotencyStore: Sendable {
    func beginIdempotent(tenantID: String, scope: String, key: String, requestHash: String, now: Date) async throws -> IdempotencyBegin
    func finishIdempotent(tenantID: String, scope: String, key: String, response: StoredResponse, now: Date) async throws
    /// Forgets a key whose request ended without a storable response.
    func abandonIdempotent(tenantID: String, scope: String, key: String) async throws
}

/// Timing rules of idempotency keys.
public enum IdempotencyRules {
    /// How long a stored response is replayed.
    public static let keepSeconds = 86_400
    /// After how long a key whose request never finished may be used again.
    public static let abandonedAfterSeconds = 60
}

/// A message the simulator "delivered", text and code sealed at rest.
public struct OutboxMessage: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var deliveryID: String
    public var channel: Channel
    public var to: String
    public var sealedText: SealedCode
    public var sealedCode: SealedCode?
    public var sentAt: Date

    public init(id: String, tenantID: String, deliveryID: String, channel: Channel, to: String, sealedText: SealedCode, sealedCode: SealedCode?, sentAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.deliveryID = deliveryID
        self.channel = channel
        self.to = to
        self.sealedText = sealedText
        self.sealedCode = sealedCode
        self.sentAt = sentAt
    }
}

/// The simulator's outbox: what the simulated phones received.
public protocol OutboxStore: Sendable {
    /// Appends a message; a second message for the same delivery is ignored (returns false).
    func appendOutbox(_ message: OutboxMessage) async throws -> Bool
    /// A tenant's messages, newest first, optionally for one destination.
    func outbox(tenantID: String, to: String?, limit: Int) async throws -> [OutboxMessage]
}

/// Storage health.
public protocol StoreHealth: Sendable {
    /// Throws when storage cannot be reached.
    func ping() async throws
}

/// Every storage port, as one adapter provides them.
public typealias SandiStore = VerificationStore & ApprovalStore & DeliveryQueue & TenantStore & GrantStore & IdempotencyStore & OutboxStore & StoreHealth & AuditStore & RiskStateStore & NoticeQueue & WebhookStore & RollupStore

/// Errors any store may throw.
public enum StoreError: Error, Equatable, Sendable {
    /// A uniqueness rule was broken (e.g. a tenant name taken).
    case conflict(String)
    /// Stored data could not be read back (corruption or a newer schema).
    case corrupt(String)
}

/// The append-only audit trail over the event log.
public protocol AuditStore: Sendable {
    /// Seals up to `limit` events not sealed yet into the chain (``AuditChain/seal(_:after:)``), in
    /// order, atomically. Returns how many it sealed.
    func sealAudit(limit: Int) async throws -> Int
    /// Records in order, from `afterSeq` on, at most `limit`.
    func auditRecords(afterSeq: Int64, limit: Int) async throws -> [AuditRecord]
    /// The newest events first (sealed ones with their chain hashes), before the event position
    /// `beforePosition` when given: the cockpit's audit log. Positions are the event log's own
    /// order (``AuditRecord/seq`` carries it here).
    func latestAudit(beforePosition: Int64?, limit: Int) async throws -> [AuditRecord]
    /// Retention: removes up to `limit` of the oldest events, as long as they were created
    /// before `before`, are sealed, and were handed to webhooks; records the position and hash
    /// of the last one removed as the checkpoint the chain is verified from. Returns how many.
    func purgeAudit(before: Date, limit: Int) async throws -> Int
    /// The latest retention checkpoint (nil: nothing was ever purged).
    func auditCheckpoint() async throws -> AuditCheckpoint?
}

/// Where the audit chain starts after a retention purge: the last removed record's position
/// and hash.
public struct AuditCheckpoint: Sendable, Equatable, Codable {
    public var seq: Int64
    public var hash: String

    public init(seq: Int64, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    /// Its key in the shared key-value state.
    public static let key = "audit.checkpoint"

    public var text: String { "\(seq):\(hash)" }

    public init?(text: String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let seq = Int64(parts[0]) else { return nil }
        self.init(seq: seq, hash: String(parts[1]))
    }
}
