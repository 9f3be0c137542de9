public import Foundation
public import SandiCore
import SandiStorage

extension PostgresStore {
    public func redeemGrant(tokenHash: String, tenantID: String, now: Date) async throws -> RedeemOutcome {
        try await write { tx in
            let rows = try await tx.query(
                "UPDATE grants SET redeemed_at = $1 WHERE token_hash = $2 AND tenant_id = $3 AND redeemed_at IS NULL AND expires_at > $1 RETURNING *",
                [.ms(now), .text(tokenHash), .text(tenantID)])
            if let row = rows.first {
                let grant = try StoredRecords.grant(row, tokenHash: tokenHash, tenantID: tenantID, redeemedAt: now)
                try await Self.insert(tx, events: [Event(tenantID: tenantID, verificationID: grant.verificationID, type: "grant.redeemed", createdAt: now)])
                return .redeemed(grant)
            }
            guard let row = try await tx.query("SELECT redeemed_at FROM grants WHERE token_hash = $1 AND tenant_id = $2",
                                               [.text(tokenHash), .text(tenantID)]).first
            else { return .notFound }
            return row.optionalDate("redeemed_at") != nil ? .alreadyRedeemed : .expired
        }
    }

    public func beginIdempotent(tenantID: String, scope: String, key: String, requestHash: String, now: Date) async throws -> IdempotencyBegin {
        try await write { tx in
            let binds: [PGValue] = [.text(tenantID), .text(scope), .text(key)]
            let nowMS = Int(Timestamp.millis(now))
            try await tx.query(
                "DELETE FROM idempotency WHERE tenant_id = $1 AND scope = $2 AND key = $3 AND (created_at <= $4 OR (status IS NULL AND created_at <= $5))",
                binds + [.int(nowMS - IdempotencyRules.keepSeconds * 1000), .int(nowMS - IdempotencyRules.abandonedAfterSeconds * 1000)])
            // The primary key settles a race between nodes: one insert wins, the other sees its row.
            let inserted = try await tx.query(
                "INSERT INTO idempotency (tenant_id, scope, key, request_hash, created_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING RETURNING key",
                binds + [.text(requestHash), .ms(now)])
            if !inserted.isEmpty { return .proceed }
            guard let row = try await tx.query("SELECT * FROM idempotency WHERE tenant_id = $1 AND scope = $2 AND key = $3", binds).first
            else { return .proceed }
            guard try row.string("request_hash") == requestHash else { return .mismatch }
            guard let status = row.optionalInt("status"), let body = row.optionalBytes("body") else { return .inProgress }
            return .replay(StoredResponse(status: status, body: body, contentType: row.optionalString("content_type") ?? "application/json"))
        }
    }

    public func finishIdempotent(tenantID: String, scope: String, key: String, response: StoredResponse, now: Date) async throws {
        _ = try await read { tx in
            try await tx.query(
                "UPDATE idempotency SET status = $1, body = $2, content_type = $3 WHERE tenant_id = $4 AND scope = $5 AND key = $6",
                [.int(response.status), .bytes(response.body), .text(response.contentType), .text(tenantID), .text(scope), .text(key)])
        }
    }

    public func abandonIdempotent(tenantID: String, scope: String, key: String) async throws {
        _ = try await read { tx in
            try await tx.query("DELETE FROM idempotency WHERE tenant_id = $1 AND scope = $2 AND key = $3 AND status IS NULL",
                               [.text(tenantID), .text(scope), .text(key)])
        }
    }

    public func appendOutbox(_ message: OutboxMessage) async throws -> Bool {
        try await read { tx in
            try await tx.query(
                """
                INSERT INTO outbox (id, tenant_id, delivery_id, channel, to_number, text_key_id, text_box, code_key_id, code_box, sent_at)
                VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (delivery_id) DO NOTHING RETURNING id
                """,
                [.text(message.id), .text(message.tenantID), .text(message.deliveryID), .text(message.channel.rawValue),
                 .text(message.to), .text(message.sealedText.keyID), .text(message.sealedText.box),
                 .text(message.sealedCode?.keyID), .text(message.sealedCode?.box), .ms(message.sentAt)]).count == 1
        }
    }

    public func outbox(tenantID: String, to: String?, limit: Int) async throws -> [OutboxMessage] {
        try await read { tx in
            try await tx.query(
                "SELECT * FROM outbox WHERE tenant_id = $1 AND ($2::text IS NULL OR to_number = $2) ORDER BY sent_at DESC, seq DESC LIMIT $3",
                [.text(tenantID), .text(to), .int(limit)]).map(StoredRecords.outbox)
        }
    }
}
