public import Foundation
import NIOCore
public import SandiCore
import SandiStorage
import SQLiteNIO

extension SQLiteStore {
    public func redeemGrant(tokenHash: String, tenantID: String, now: Date) async throws -> RedeemOutcome {
        try await db.inlineWrite { tx in
            let rows = try tx.execute(
                """
                UPDATE grants SET redeemed_at = ? WHERE token_hash = ? AND tenant_id = ? AND redeemed_at IS NULL AND expires_at > ?
                RETURNING *
                """, [.ms(now), .text(tokenHash), .text(tenantID), .ms(now)])
            if let row = rows.first {
                let grant = try StoredRecords.grant(row, tokenHash: tokenHash, tenantID: tenantID, redeemedAt: now)
                try Self.insert(tx, events: [Event(tenantID: tenantID, verificationID: grant.verificationID, type: "grant.redeemed", createdAt: now)])
                return .redeemed(grant)
            }
            guard let row = try tx.execute("SELECT redeemed_at FROM grants WHERE token_hash = ? AND tenant_id = ?",
                                               [.text(tokenHash), .text(tenantID)]).first
            else { return .notFound }
            return row.optionalDate("redeemed_at") != nil ? .alreadyRedeemed : .expired
        }
    }

    public func beginIdempotent(tenantID: String, scope: String, key: String, requestHash: String, now: Date) async throws -> IdempotencyBegin {
        try await db.inlineWrite { tx in
            let binds: [SQLiteData] = [.text(tenantID), .text(scope), .text(key)]
            let nowMS = Int(Timestamp.millis(now))
            tx.enqueue(
                "DELETE FROM idempotency WHERE tenant_id = ? AND scope = ? AND key = ? AND (created_at <= ? OR (status IS NULL AND created_at <= ?))",
                binds + [.integer(nowMS - IdempotencyRules.keepSeconds * 1000), .integer(nowMS - IdempotencyRules.abandonedAfterSeconds * 1000)])
            let inserted = try tx.execute(
                "INSERT INTO idempotency (tenant_id, scope, key, request_hash, created_at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING key",
                binds + [.text(requestHash), .ms(now)])
            if !inserted.isEmpty { return .proceed }
            guard let row = try tx.execute("SELECT * FROM idempotency WHERE tenant_id = ? AND scope = ? AND key = ?", binds).first
            else { return .proceed }
            guard try row.string("request_hash") == requestHash else { return .mismatch }
            guard let status = row.column("status")?.integer, let body = row.column("body")?.blob else { return .inProgress }
            return .replay(StoredResponse(status: Int(status), body: Array(buffer: body), contentType: row.optionalString("content_type") ?? "application/json"))
        }
    }

    public func finishIdempotent(tenantID: String, scope: String, key: String, response: StoredResponse, now: Date) async throws {
        try await db.inlineWrite { tx in
            tx.enqueue(
                "UPDATE idempotency SET status = ?, body = ?, content_type = ? WHERE tenant_id = ? AND scope = ? AND key = ?",
                [.integer(response.status), .blob(ByteBuffer(bytes: response.body)), .text(response.contentType),
                 .text(tenantID), .text(scope), .text(key)])
        }
    }

    public func abandonIdempotent(tenantID: String, scope: String, key: String) async throws {
        try await db.inlineWrite { tx in
            tx.enqueue("DELETE FROM idempotency WHERE tenant_id = ? AND scope = ? AND key = ? AND status IS NULL",
                               [.text(tenantID), .text(scope), .text(key)])
        }
    }

    public func appendOutbox(_ message: OutboxMessage) async throws -> Bool {
        try await db.deferredWrite { tx in
            let inserted = tx.enqueue(
                """
                INSERT INTO outbox (id, tenant_id, delivery_id, channel, to_number, text_key_id, text_box, code_key_id, code_box, sent_at)
                VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (delivery_id) DO NOTHING RETURNING id
                """,
                [.text(message.id), .text(message.tenantID), .text(message.deliveryID), .text(message.channel.rawValue),
                 .text(message.to), .text(message.sealedText.keyID), .text(message.sealedText.box),
                 .text(message.sealedCode?.keyID), .text(message.sealedCode?.box), .ms(message.sentAt)])
            return { inserted.all.count == 1 }
        }
    }

    public func outbox(tenantID: String, to: String?, limit: Int) async throws -> [OutboxMessage] {
        try await read { tx in
            var sql = "SELECT * FROM outbox WHERE tenant_id = ?"
            var binds: [SQLiteData] = [.text(tenantID)]
            if let to { sql += " AND to_number = ?"; binds.append(.text(to)) }
            sql += " ORDER BY sent_at DESC, rowid DESC LIMIT ?"
            binds.append(.integer(limit))
            return try await tx.query(sql, binds).map(StoredRecords.outbox)
        }
    }
}
