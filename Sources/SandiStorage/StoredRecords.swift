public import Foundation
public import SandiCore
import Synchronization

/// Domain records from the rows of Sandi's tables: one decoder per table, shared by every SQL
/// adapter (the column names are the same in each schema).
public enum StoredRecords {
    /// The columns of a verification, in the order the adapters insert them.
    public static let verificationColumns = """
        id, tenant_id, to_number, country, operator, purpose, user_ref, locale, code_length, code_key_id, code_mac,
        sealed_key_id, sealed_box, status, channel, plan, plan_index, created_at, expires_at, updated_at, attempts_used,
        max_attempts, sends_used, max_sends, resends, resend_available_at, context, risk, binding
        """

    /// The columns of a security notice.
    public static let noticeColumns = "id, tenant_id, verification_id, kind, channel, to_number, country, operator, locale, purpose, created_at, status, attempts"

    // A verification's plan, context and risk never change once written, and their texts repeat
    // (a tenant has few plans and few risk outcomes; many apps send no context), so each text is
    // decoded once. Every check reads its verification twice (before and after the update).
    static let plans = BoundedMemo.decoding(DeliveryPlan.self)
    static let contexts = BoundedMemo.decoding(ClientContext.self)
    static let risks = BoundedMemo.decoding(RiskAssessment.self)

    /// A verification (without its deliveries).
    public static func verification(_ row: some StoredRow) throws -> Verification {
        let sealed: SealedCode? = {
            guard let key = row.optionalString("sealed_key_id"), let box = row.optionalString("sealed_box") else { return nil }
            return SealedCode(keyID: key, box: box)
        }()
        return Verification(
            id: try row.string("id"), tenantID: try row.string("tenant_id"), to: try row.string("to_number"),
            country: row.optionalString("country"), operator: row.optionalString("operator"),
            purpose: try row.decode("purpose", as: Purpose.self), userRef: row.optionalString("user_ref"),
            locale: try row.string("locale"), codeLength: try row.int("code_length"),
            digest: CodeDigest(keyID: try row.string("code_key_id"), mac: try row.string("code_mac")), sealed: sealed,
            status: try row.decode("status", as: VerificationStatus.self),
            channel: row.optionalString("channel").flatMap(Channel.init(rawValue:)),
            plan: try plans.decode(try row.string("plan")), planIndex: try row.int("plan_index"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"), updatedAt: try row.date("updated_at"),
            attemptsUsed: try row.int("attempts_used"), maxAttempts: try row.int("max_attempts"),
            sendsUsed: try row.int("sends_used"), maxSends: try row.int("max_sends"), resends: try row.int("resends"),
            resendAvailableAt: try row.date("resend_available_at"),
            context: try contexts.decode(try row.string("context")),
            risk: try risks.decode(try row.string("risk")), deliveries: [],
            transaction: try row.optionalString("binding").map { try JSONColumn.decode(TransactionDetails.self, $0) })
    }

    /// One delivery (a send of a code over one channel).
    public static func delivery(_ row: some StoredRow) throws -> Delivery {
        Delivery(
            id: try row.string("id"), verificationID: try row.string("verification_id"), tenantID: try row.string("tenant_id"),
            channel: try row.decode("channel", as: Channel.self), provider: try row.string("provider"),
            status: try row.decode("status", as: DeliveryStatus.self), planIndex: try row.int("plan_index"),
            queuedAt: try row.date("queued_at"), sentAt: row.optionalDate("sent_at"), deliveredAt: row.optionalDate("delivered_at"),
            readAt: row.optionalDate("read_at"), failedAt: row.optionalDate("failed_at"), error: row.optionalString("error"),
            providerMessageID: row.optionalString("provider_message_id"))
    }

    /// A delivery job or receipt timer.
    public static func job(_ row: some StoredRow) throws -> DeliveryJobRecord {
        DeliveryJobRecord(
            id: try row.string("id"), kind: try row.decode("kind", as: JobKind.self), deliveryID: try row.string("delivery_id"),
            verificationID: try row.string("verification_id"), tenantID: try row.string("tenant_id"), dueAt: try row.date("due_at"))
    }

    /// An event of the log.
    public static func event(_ row: some StoredRow) throws -> Event {
        Event(id: try row.string("id"), tenantID: try row.string("tenant_id"), verificationID: row.optionalString("verification_id"),
              type: try row.string("type"), createdAt: try row.date("created_at"), data: try row.json("data", as: [String: JSONValue].self))
    }

    /// An event with its place in the audit chain (`seq`, `prev_hash`, `hash`).
    public static func audit(_ row: some StoredRow) throws -> AuditRecord {
        AuditRecord(
            seq: Int64(try row.int("seq")), eventID: try row.string("id"), tenantID: try row.string("tenant_id"),
            verificationID: row.optionalString("verification_id"), type: try row.string("type"),
            createdAtMillis: Int64(try row.int("created_at")), data: try row.string("data"),
            previousHash: row.optionalString("prev_hash"), hash: row.optionalString("hash"))
    }

    /// A tenant.
    public static func tenant(_ row: some StoredRow) throws -> Tenant {
        Tenant(id: try row.string("id"), name: try row.string("name"), createdAt: try row.date("created_at"),
               allowedCountries: row.optionalString("allowed_countries").map { Set($0.split(separator: ",").map(String.init)) })
    }

    /// How a tenant's allowed countries are stored.
    public static func countryList(_ countries: Set<String>) -> String { countries.sorted().joined(separator: ",") }

    /// An API key record (hash only).
    public static func key(_ row: some StoredRow) throws -> APIKeyRecord {
        APIKeyRecord(id: try row.string("id"), tenantID: try row.string("tenant_id"), hash: try row.string("hash"),
                     hint: try row.string("hint"), createdAt: try row.date("created_at"), revokedAt: row.optionalDate("revoked_at"))
    }

    /// A redeemed grant's stored fields.
    public static func grant(_ row: some StoredRow, tokenHash: String, tenantID: String, redeemedAt: Date) throws -> Grant {
        Grant(tokenHash: tokenHash, tenantID: tenantID, verificationID: try row.string("verification_id"),
              userRef: row.optionalString("user_ref"), to: try row.string("to_number"),
              purpose: try row.decode("purpose", as: Purpose.self), createdAt: try row.date("created_at"),
              expiresAt: try row.date("expires_at"), redeemedAt: redeemedAt)
    }

    /// A simulated message of the outbox (sealed).
    public static func outbox(_ row: some StoredRow) throws -> OutboxMessage {
        let code: SealedCode? = row.optionalString("code_key_id").flatMap { key in
            row.optionalString("code_box").map { SealedCode(keyID: key, box: $0) }
        }
        return OutboxMessage(
            id: try row.string("id"), tenantID: try row.string("tenant_id"), deliveryID: try row.string("delivery_id"),
            channel: try row.decode("channel", as: Channel.self), to: try row.string("to_number"),
            sealedText: SealedCode(keyID: try row.string("text_key_id"), box: try row.string("text_box")),
            sealedCode: code, sentAt: try row.date("sent_at"))
    }

    /// A security notice.
    public static func notice(_ row: some StoredRow) throws -> Notice {
        Notice(
            id: try row.string("id"), tenantID: try row.string("tenant_id"), verificationID: try row.string("verification_id"),
            kind: try row.decode("kind", as: NoticeKind.self), channel: try row.decode("channel", as: Channel.self),
            to: try row.string("to_number"), country: row.optionalString("country"), operator: row.optionalString("operator"),
            locale: try row.string("locale"), purpose: try row.decode("purpose", as: Purpose.self), createdAt: try row.date("created_at"),
            status: try row.decode("status", as: DeliveryStatus.self), attempts: try row.int("attempts"))
    }

    /// A tenant webhook (secret sealed).
    public static func webhook(_ row: some StoredRow) throws -> Webhook {
        Webhook(id: try row.string("id"), tenantID: try row.string("tenant_id"), url: try row.string("url"),
                events: try row.json("events", as: [String].self),
                sealedSecret: SealedCode(keyID: try row.string("secret_key_id"), box: try row.string("secret_box")),
                createdAt: try row.date("created_at"))
    }

    /// One delivery of an event to a webhook.
    public static func webhookDelivery(_ row: some StoredRow) throws -> WebhookDelivery {
        WebhookDelivery(id: try row.string("id"), webhookID: try row.string("webhook_id"), tenantID: try row.string("tenant_id"),
                        eventID: try row.string("event_id"), payload: try row.string("payload"),
                        status: try row.decode("status", as: WebhookDelivery.Status.self), attempts: try row.int("attempts"),
                        nextAt: try row.date("next_at"), lastResult: row.optionalString("last_result"))
    }
}

/// Values made from keys, kept by key: a key seen before is a lookup. Bounded: it starts over once
/// it holds `capacity` keys, and keeps only what `keep` accepts.
public final class BoundedMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    public let capacity: Int
    private let keep: @Sendable (Key, Value) -> Bool

    public init(capacity: Int, keep: @escaping @Sendable (Key, Value) -> Bool = { _, _ in true }) {
        self.capacity = capacity
        self.keep = keep
    }

    /// The value kept for `key`, or the one `make` gives (kept if `keep` accepts it).
    public func value(for key: Key, make: (Key) throws -> Value) rethrows -> Value {
        if let known = entries.withLock({ $0[key] }) { return known }
        let value = try make(key)
        if keep(key, value) {
            entries.withLock { entries in
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = value
            }
        }
        return value
    }

    /// Keys held now.
    public var count: Int { entries.withLock { $0.count } }
}

extension BoundedMemo where Key == String, Value: Decodable {
    /// Values decoded from JSON column texts, by text, for columns whose decoded value depends on
    /// nothing but the text. Texts longer than `maxLength` bytes are decoded, not kept.
    public static func decoding(_ type: Value.Type, capacity: Int = 512, maxLength: Int = 1024) -> BoundedMemo {
        BoundedMemo(capacity: capacity) { text, _ in text.utf8.count <= maxLength }
    }

    /// The value of a JSON text, as ``JSONColumn/decode(_:_:)`` reads it.
    public func decode(_ text: String) throws -> Value {
        try value(for: text) { try JSONColumn.decode(Value.self, $0) }
    }
}

extension BoundedMemo where Key: Encodable, Value == String {
    /// JSON column texts of values, by value (with sorted keys, the text depends on nothing but
    /// the value). Texts longer than `maxLength` bytes are not kept.
    public static func encoding(_ type: Key.Type, capacity: Int = 512, maxLength: Int = 1024) -> BoundedMemo {
        BoundedMemo(capacity: capacity) { _, text in text.utf8.count <= maxLength }
    }

    /// The JSON text of a value, as ``JSONColumn/encode(_:)`` writes it.
    public func encode(_ value: Key) throws -> String {
        try self.value(for: value) { try JSONColumn.encode($0) }
    }
}

extension StoredRecords {
    // The texts of a new verification's plan, context and risk (the same few values repeat).
    public static let planTexts = BoundedMemo.encoding(DeliveryPlan.self)
    public static let contextTexts = BoundedMemo.encoding(ClientContext.self)
    public static let riskTexts = BoundedMemo.encoding(RiskAssessment.self)
}
