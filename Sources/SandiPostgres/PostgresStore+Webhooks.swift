public import Foundation
public import SandiCore
import SandiStorage

extension PostgresStore {
    /// Where the fan-out cursor (the last chain position handed to webhooks) is kept.
    static let webhookCursorKey = "webhook.cursor"

    public func createWebhook(_ w: Webhook) async throws {
        try await write { tx in
            try await tx.query(
                "INSERT INTO webhooks (id, tenant_id, url, events, secret_key_id, secret_box, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
                [.text(w.id), .text(w.tenantID), .text(w.url), .text(try JSONColumn.encode(w.events)), .text(w.sealedSecret.keyID),
                 .text(w.sealedSecret.box), .ms(w.createdAt)])
            // The first webhook starts the fan-out at the current end of the log: what is visible
            // now joins the chain first, so it stays behind the cursor.
            while try await Self.seal(tx, limit: 10_000) == 10_000 {}
            try await tx.query(
                "INSERT INTO risk_state (key, value, expires_at) SELECT $1, COALESCE(MAX(seq), 0)::text, $2 FROM audit_links ON CONFLICT (key) DO NOTHING",
                [.text(Self.webhookCursorKey), .int(Int(Int64.max))])
        }
    }

    public func webhooks(tenantID: String) async throws -> [Webhook] {
        try await read { tx in
            try await tx.query("SELECT * FROM webhooks WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at, id", [.text(tenantID)])
                .map(StoredRecords.webhook)
        }
    }

    public func deleteWebhook(id: String, tenantID: String) async throws -> Bool {
        try await write { tx in
            let gone = try await tx.query(
                "UPDATE webhooks SET deleted_at = $1 WHERE id = $2 AND tenant_id = $3 AND deleted_at IS NULL RETURNING id",
                [.ms(Date()), .text(id), .text(tenantID)])
            guard !gone.isEmpty else { return false }
            try await tx.query("DELETE FROM webhook_deliveries WHERE webhook_id = $1", [.text(id)])
            return true
        }
    }

    public func fanOutEvents(limit: Int, now: Date, payload: @escaping @Sendable (Event) -> String) async throws -> Int {
        try await write { tx in
            // Fan-out follows the audit chain, whose order never changes once given (an insertion
            // sequence commits out of order across transactions and would skip late events).
            guard let cursorText = try await tx.query("SELECT value FROM risk_state WHERE key = $1 FOR UPDATE", [.text(Self.webhookCursorKey)])
                .first?.optionalString("value"), let cursor = Int(cursorText) else { return 0 }
            _ = try await Self.seal(tx, limit: limit)
            let rows = try await tx.query(
                "SELECT chain_seq, id, tenant_id, verification_id, type, created_at, data FROM events WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2",
                [.int(cursor), .int(limit)])
            guard let last = rows.last else { return 0 }
            let events = try rows.map(StoredRecords.event)
            let hooks = try await tx.query(
                "SELECT * FROM webhooks WHERE deleted_at IS NULL AND tenant_id = ANY($1)", [.texts(Array(Set(events.map(\.tenantID))))]
            ).map(StoredRecords.webhook)
            var ids: [String] = [], hookIDs: [String] = [], tenants: [String] = [], eventIDs: [String] = [], payloads: [String] = []
            for event in events {
                for hook in hooks where hook.tenantID == event.tenantID && hook.wants(event.type) && event.createdAt >= hook.createdAt {
                    ids.append(Identifier.make(.webhookDelivery))
                    hookIDs.append(hook.id)
                    tenants.append(hook.tenantID)
                    eventIDs.append(event.id)
                    payloads.append(payload(event))
                }
            }
            if !ids.isEmpty {
                try await tx.query(
                    """
                    INSERT INTO webhook_deliveries (id, webhook_id, tenant_id, event_id, payload, status, attempts, next_at)
                    SELECT id, hook, tenant, event, payload, 'pending', 0, $6
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, hook, tenant, event, payload)
                    """, [.texts(ids), .texts(hookIDs), .texts(tenants), .texts(eventIDs), .texts(payloads), .ms(now)])
            }
            try await tx.query("UPDATE risk_state SET value = $1 WHERE key = $2", [.text(String(try last.int("chain_seq"))), .text(Self.webhookCursorKey)])
            return events.count
        }
    }

    public func claimWebhookDeliveries(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [(WebhookDelivery, Webhook)] {
        try await write { tx in
            let claimed = try await tx.query(
                """
                UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
                WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_at <= $3
                             AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
                RETURNING *
                """, [.text(owner), .ms(now.addingTimeInterval(leaseSeconds)), .ms(now), .int(limit)]).map(StoredRecords.webhookDelivery)
            guard !claimed.isEmpty else { return [] }
            let hooks = try await tx.query("SELECT * FROM webhooks WHERE id = ANY($1)", [.texts(Array(Set(claimed.map(\.webhookID))))])
                .map(StoredRecords.webhook)
            return claimed.compactMap { d in hooks.first { $0.id == d.webhookID }.map { (d, $0) } }
                .sorted { ($0.0.nextAt, $0.0.id) < ($1.0.nextAt, $1.0.id) }
        }
    }

    public func finishWebhookDelivery(id: String, owner: String, delivered: Bool, result: String, retryAt: Date?, at: Date) async throws {
        let status = delivered ? "delivered" : retryAt == nil ? "dead" : "pending"
        _ = try await read { tx in
            try await tx.query(
                """
                UPDATE webhook_deliveries SET status = $1, last_result = $2, next_at = COALESCE($3, next_at), lease_until = NULL, finished_at = $4
                WHERE id = $5 AND lease_owner = $6 AND status = 'pending'
                """, [.text(status), .text(String(result.prefix(200))), .ms(retryAt), .ms(at), .text(id), .text(owner)])
        }
    }

    public func webhookDeliveries(webhookID: String, tenantID: String, status: WebhookDelivery.Status?, limit: Int) async throws -> [WebhookDelivery] {
        try await read { tx in
            try await tx.query(
                "SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND tenant_id = $2 AND ($3::text IS NULL OR status = $3) ORDER BY next_at DESC, id DESC LIMIT $4",
                [.text(webhookID), .text(tenantID), .text(status?.rawValue), .int(limit)]).map(StoredRecords.webhookDelivery)
        }
    }

    public func replayWebhookDelivery(id: String, tenantID: String, now: Date) async throws -> Bool {
        try await read { tx in
            !(try await tx.query(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = $1, lease_owner = NULL, lease_until = NULL WHERE id = $2 AND tenant_id = $3 AND status != 'pending' RETURNING id",
                [.ms(now), .text(id), .text(tenantID)]).isEmpty)
        }
    }
}
