public import Foundation
public import SandiCore
import SandiStorage

extension PostgresStore {
    public func enqueueNotice(_ n: Notice, event: Event) async throws {
        try await write { tx in
            try await tx.query(
                "INSERT INTO notices (\(StoredRecords.noticeColumns), done) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,false)",
                [.text(n.id), .text(n.tenantID), .text(n.verificationID), .text(n.kind.rawValue), .text(n.channel.rawValue),
                 .text(n.to), .text(n.country), .text(n.operator), .text(n.locale), .text(n.purpose.rawValue), .ms(n.createdAt),
                 .text(n.status.rawValue), .int(n.attempts)])
            try await Self.insert(tx, events: [event])
        }
    }

    public func claimDueNotices(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [Notice] {
        try await read { tx in
            try await tx.query(
                """
                UPDATE notices SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM notices WHERE NOT done AND created_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
                    ORDER BY created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
                RETURNING \(StoredRecords.noticeColumns)
                """, [.text(owner), .ms(now.addingTimeInterval(leaseSeconds)), .ms(now), .int(limit)]
            ).map(StoredRecords.notice).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func completeNotice(id: String, owner: String, status: DeliveryStatus, at: Date, event: Event) async throws -> Bool {
        try await write { tx in
            let closed = try await tx.query(
                "UPDATE notices SET done = true, lease_until = NULL, status = $1, finished_at = $2 WHERE id = $3 AND NOT done AND lease_owner = $4 RETURNING id",
                [.text(status.rawValue), .ms(at), .text(id), .text(owner)])
            guard !closed.isEmpty else { return false }
            try await Self.insert(tx, events: [event])
            return true
        }
    }

    public func notices(verificationID: String, tenantID: String) async throws -> [Notice] {
        try await read { tx in
            try await tx.query(
                "SELECT \(StoredRecords.noticeColumns) FROM notices WHERE verification_id = $1 AND tenant_id = $2 ORDER BY created_at, id",
                [.text(verificationID), .text(tenantID)]
            ).map(StoredRecords.notice)
        }
    }
}
