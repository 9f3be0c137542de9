public import Foundation
public import SandiCore
import SandiStorage
import SQLiteNIO

extension SQLiteStore {
    /// Where the fan-out cursor (last event seq handed to webhooks) is kept.
    static let webhookCursorKey = "webhook.cursor"
    static let forever = Date.distantFuture

    public func createWebhook(_ w: Webhook) async throws {
        try await db.write { tx in
            tx.enqueue(
                "INSERT INTO webhooks (id, tenant_id, url, events, secret_key_id, secret_box, created_at) VALUES (?,?,?,?,?,?,?)",
                [.text(w.id), .text(w.tenantID), .text(w.url), .text(try JSONColumn.encode(w.events)), .text(w.sealedSecret.keyID),
                 .text(w.sealedSecret.box), .ms(w.createdAt)])
            // The first webhook starts the fan-out at the current end of the log.
            tx.enqueue(
                "INSERT OR IGNORE INTO risk_state (key, value, expires_at) SELECT ?, CAST(COALESCE(MAX(seq), 0) AS TEXT), ? FROM events",
                [.text(Self.webhookCursorKey), .ms(Self.forever)])
        }
    }

    public func webhooks(tenantID: String) async throws -> [Webhook] {
        try await read { tx in
            try await tx.query("SELECT * FROM webhooks WHERE tenant_id = ? AND deleted_at IS NULL ORDER BY created_at, id", [.text(tenantID)])
                .map(StoredRecords.webhook)
        }
    }

    public func deleteWebhook(id: String, tenantID: String) async throws -> Bool {
        try await db.write { tx in
            let gone = try await tx.query(
                "UPDATE webhooks SET deleted_at = ? WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL RETURNING id",
                [.ms(Date()), .text(id), .text(tenantID)])
            guard !gone.isEmpty else { return false }
            tx.enqueue("DELETE FROM webhook_deliveries WHERE webhook_id = ?", [.text(id)])
            return true
        }
    }

    public func fanOutEvents(limit: Int, now: Date, payload: @escaping @Sendable (Event) -> String) async throws -> Int {
        // Awaiting, not inline: decoding events and building payloads runs on the cooperative
        // pool between its statements, not on the writer's thread.
        try await db.write { tx in
            guard let cursorText = try await tx.query("SELECT value FROM risk_state WHERE key = ?", [.text(Self.webhookCursorKey)]).first?.optionalString("value"),
                  let cursor = Int(cursorText) else { return 0 }
            let rows = try await tx.query(
                "SELECT seq, id, tenant_id, verification_id, type, created_at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                [.integer(cursor), .integer(limit)])
            guard let last = rows.last else { return 0 }
            let events = try rows.map(StoredRecords.event)
            let tenants = Array(Set(events.map(\.tenantID)))
            let marks = Array(repeating: "?", count: tenants.count).joined(separator: ",")
            let hooks = try await tx.query("SELECT * FROM webhooks WHERE deleted_at IS NULL AND tenant_id IN (\(marks))", tenants.map(SQLiteData.text))
                .map(StoredRecords.webhook)
            var binds: [SQLiteData] = []
            var count = 0
            for event in events {
                for hook in hooks where hook.tenantID == event.tenantID && hook.wants(event.type) && event.createdAt >= hook.createdAt {
                    binds += [.text(Identifier.make(.webhookDelivery)), .text(hook.id), .text(hook.tenantID), .text(event.id), .text(payload(event)), .ms(now)]
                    count += 1
                }
            }
            for start in stride(from: 0, to: count, by: 500) {
                let n = min(500, count - start)
                tx.enqueue(
                    "INSERT INTO webhook_deliveries (id, webhook_id, tenant_id, event_id, payload, status, attempts, next_at) VALUES "
                    + Array(repeating: "(?,?,?,?,?,'pending',0,?)", count: n).joined(separator: ","),
                    Array(binds[(start * 6)..<((start + n) * 6)]))
            }
            tx.enqueue("UPDATE risk_state SET value = ? WHERE key = ?", [.text(String(try last.int("seq"))), .text(Self.webhookCursorKey)])
            return events.count
        }
    }

    public func claimWebhookDeliveries(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [(WebhookDelivery, Webhook)] {
        try await db.inlineWrite { tx in
            let claimed = try tx.execute(
                """
                UPDATE webhook_deliveries SET lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
                WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_at <= ?3
                             AND (lease_until IS NULL OR lease_until <= ?3) ORDER BY next_at, id LIMIT ?4)
                RETURNING *
                """, [.text(owner), .ms(now.addingTimeInterval(leaseSeconds)), .ms(now), .integer(limit)]).map(StoredRecords.webhookDelivery)
            guard !claimed.isEmpty else { return [] }
            let ids = Array(Set(claimed.map(\.webhookID)))
            let hooks = try tx.execute(
                "SELECT * FROM webhooks WHERE id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ",")))", ids.map(SQLiteData.text)
            ).map(StoredRecords.webhook)
            return claimed.compactMap { d in hooks.first { $0.id == d.webhookID }.map { (d, $0) } }
                .sorted { ($0.0.nextAt, $0.0.id) < ($1.0.nextAt, $1.0.id) }
        }
    }

    public func finishWebhookDelivery(id: String, owner: String, delivered: Bool, result: String, retryAt: Date?, at: Date) async throws {
        try await db.inlineWrite { tx in
            let status = delivered ? "delivered" : retryAt == nil ? "dead" : "pending"
            tx.enqueue(
                """
                UPDATE webhook_deliveries SET status = ?, last_result = ?, next_at = COALESCE(?, next_at), lease_until = NULL, finished_at = ?
                WHERE id = ? AND lease_owner = ? AND status = 'pending'
                """, [.text(status), .text(String(result.prefix(200))), .ms(retryAt), .ms(at), .text(id), .text(owner)])
        }
    }

    public func webhookDeliveries(webhookID: String, tenantID: String, status: WebhookDelivery.Status?, limit: Int) async throws -> [WebhookDelivery] {
        try await read { tx in
            try await tx.query(
                "SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND tenant_id = ? AND (?3 IS NULL OR status = ?3) ORDER BY next_at DESC, id DESC LIMIT ?",
                [.text(webhookID), .text(tenantID), .text(status?.rawValue), .integer(limit)]).map(StoredRecords.webhookDelivery)
        }
    }

    public func replayWebhookDelivery(id: String, tenantID: String, now: Date) async throws -> Bool {
        try await db.inlineWrite { tx in
            !(try tx.execute(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND tenant_id = ? AND status != 'pending' RETURNING id",
                [.ms(now), .text(id), .text(tenantID)]).isEmpty)
        }
    }


}
