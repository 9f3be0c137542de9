import Foundation
import Crypto

/// Posts a signed webhook body; answers whether the receiver took it (2xx) and a short result
/// (`http_200`, `http_500`, `timeout`, …).
public protocol WebhookSender: Sendable {
    func post(url: String, body: String, signature: String) async -> (ok: Bool, result: String)
}

/// Tenant webhooks: registration, and the dispatcher that fans events out to matching
/// subscriptions and delivers them, signed, from a durable queue with exponential backoff; after
/// the last try a delivery is parked (dead letter) until replayed.
public struct WebhookService: Sendable {
    public let store: any SandiStore
    public let hasher: CodeHasher
    public let clock: any TimeSource
    public let sender: any WebhookSender
    /// Waits before the 2nd, 3rd, … try; after the last, the delivery is dead.
    public var backoffSeconds: [Double] = [10, 60, 300, 1800, 7200, 21_600, 43_200]

    public init(store: any SandiStore, hasher: CodeHasher, clock: any TimeSource, sender: any WebhookSender) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.sender = sender
    }

    public enum RegistrationError: Error, Equatable { case invalid([FieldError]) }

    /// Registers a webhook; returns it and its signing secret (shown only here).
    public func register(tenantID: String, url: String, events: [String]) async throws -> (Webhook, secret: String) {
        var problems: [FieldError] = []
        if let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["https", "http"].contains(scheme),
           let host = parsed.host, !host.isEmpty, url.utf8.count <= 2048, parsed.user == nil {
        } else {
            problems.append(FieldError(field: "url", reason: "must be an http(s) URL with a host, at most 2048 bytes, no credentials"))
        }
        if events.isEmpty || events.count > 50 {
            problems.append(FieldError(field: "events", reason: "must list 1–50 event types, or [\"*\"]"))
        }
        for (i, type) in events.enumerated() where !(type == "*" || Self.isEventType(type)) {
            problems.append(FieldError(field: "events[\(i)]", reason: "must be an event type such as delivery.delivered, or *"))
        }
        guard problems.isEmpty else { throw RegistrationError.invalid(problems) }
        let id = Identifier.make(.webhook)
        let secret = "whsec_" + Identifier.randomBase32(bytes: 32)
        let webhook = Webhook(id: id, tenantID: tenantID, url: url, events: Array(Set(events)).sorted(),
                              sealedSecret: try hasher.sealText(secret, context: "webhook|" + id), createdAt: clock.now)
        try await store.createWebhook(webhook)
        return (webhook, secret)
    }

    static func isEventType(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return s.utf8.count <= 64 && parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || $0 == 95 } }
    }

    /// The body a receiver gets: `{"id","type","created_at","data"}`.
    public static func payload(_ event: Event) -> String {
        let body: JSONValue = .object([
            "id": .string(event.id), "type": .string(event.type), "created_at": .string(Timestamp.format(event.createdAt)),
            "data": .object(event.data.merging(event.verificationID.map { ["verification_id": JSONValue.string($0)] } ?? [:]) { a, _ in a }),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// `Sandi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
    public static func signature(secret: String, timestamp: Int, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// One pass: fans new events out, then tries every due delivery once. Returns deliveries tried.
    @discardableResult
    public func runOnce(owner: String, limit: Int = 200) async throws -> Int {
        let now = clock.now
        _ = try await store.fanOutEvents(limit: 2000, now: now, payload: Self.payload)
        let due = try await store.claimWebhookDeliveries(now: now, owner: owner, leaseSeconds: 60, limit: limit)
        for (delivery, webhook) in due {
            guard let secret = hasher.unsealText(webhook.sealedSecret, context: "webhook|" + webhook.id) else {
                try await store.finishWebhookDelivery(id: delivery.id, owner: owner, delivered: false, result: "secret_unavailable", retryAt: nil, at: now)
                continue
            }
            let sentAt = clock.now
            let signature = Self.signature(secret: secret, timestamp: Int(sentAt.timeIntervalSince1970), body: delivery.payload)
            let (ok, result) = await sender.post(url: webhook.url, body: delivery.payload, signature: signature)
            let tries = delivery.attempts
            let retryAt = ok || tries > backoffSeconds.count ? nil : sentAt.addingTimeInterval(backoffSeconds[min(tries, backoffSeconds.count) - 1])
            try await store.finishWebhookDelivery(id: delivery.id, owner: owner, delivered: ok, result: result, retryAt: retryAt, at: clock.now)
        }
        return due.count
    }
}
