public import Foundation

/// A tenant's webhook subscription: where events go, which ones, and the signing secret (kept
/// sealed: Sandi needs it to sign, so it cannot be a one-way hash).
public struct Webhook: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var url: String
    /// Event types, or `["*"]` for every event.
    public var events: [String]
    public var sealedSecret: SealedCode
    public var createdAt: Date

    public init(id: String = Identifier.make(.webhook), tenantID: String, url: String, events: [String], sealedSecret: SealedCode, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.url = url
        self.events = events
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
    }

    public func wants(_ type: String) -> Bool { events.contains("*") || events.contains(type) }
}

/// One event on its way to one webhook.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case pending, delivered, dead }
    public var id: String
    public var webhookID: String
    public var tenantID: String
    public var eventID: String
    /// The exact body that is signed and sent: `{"id","type","created_at","data"}`.
    public var payload: String
    public var status: Status
    public var attempts: Int
    public var nextAt: Date
    public var lastResult: String?

    public init(id: String = Identifier.make(.webhookDelivery), webhookID: String, tenantID: String, eventID: String, payload: String,
                status: Status = .pending, attempts: Int = 0, nextAt: Date, lastResult: String? = nil) {
        self.id = id
        self.webhookID = webhookID
        self.tenantID = tenantID
        self.eventID = eventID
        self.payload = payload
        self.status = status
        self.attempts = attempts
        self.nextAt = nextAt
        self.lastResult = lastResult
    }
}

/// Webhook subscriptions and their durable delivery queue.
public protocol WebhookStore: Sendable {
    func createWebhook(_ webhook: Webhook) async throws
    /// A tenant's webhooks (not deleted), oldest first.
    func webhooks(tenantID: String) async throws -> [Webhook]
    /// Deletes a webhook and its deliveries (none is sent or replayed after); false when none.
    func deleteWebhook(id: String, tenantID: String) async throws -> Bool
    /// Queues, for every event stored after the fan-out cursor (up to `limit` events), one delivery
    /// per matching webhook of its tenant, and moves the cursor past them, in one atomic step;
    /// `payload` renders an event's body. Returns how many events it read.
    func fanOutEvents(limit: Int, now: Date, payload: @escaping @Sendable (Event) -> String) async throws -> Int
    /// Claims due pending deliveries (with their webhooks), counting the attempt.
    func claimWebhookDeliveries(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [(WebhookDelivery, Webhook)]
    /// Records an attempt if `owner` holds the delivery: delivered, or retried at `retryAt`, or
    /// parked as dead (`retryAt` nil and not delivered).
    func finishWebhookDelivery(id: String, owner: String, delivered: Bool, result: String, retryAt: Date?, at: Date) async throws
    /// A tenant's deliveries of one webhook, newest first, optionally only one status.
    func webhookDeliveries(webhookID: String, tenantID: String, status: WebhookDelivery.Status?, limit: Int) async throws -> [WebhookDelivery]
    /// Puts a dead (or delivered) delivery back in the queue, due now; false when none.
    func replayWebhookDelivery(id: String, tenantID: String, now: Date) async throws -> Bool
}
