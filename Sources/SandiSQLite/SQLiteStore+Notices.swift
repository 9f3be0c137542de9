public import Foundation
public import SandiCore
import SQLiteNIO

extension SQLiteStore {
    static let noticeColumns = "id, tenant_id, verification_id, kind, channel, to_number, country, operator, locale, purpose, created_at, status, attempts"

    public func enqueueNotice(_ n: Notice, event: Event) async throws {
        try await db.write { tx in
            tx.enqueue(
                "INSERT INTO notices (\(Self.noticeColumns), done) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
                [.text(n.id), .text(n.tenantID), .text(n.verificationID), .text(n.kind.rawValue), .text(n.channel.rawValue),
                 .text(n.to), .text(n.country), .text(n.operator), .text(n.locale), .text(n.purpose.rawValue), .ms(n.createdAt),
                 .text(n.status.rawValue), .integer(n.attempts)])
            try Self.insert(tx, events: [event])
        }
    }

    public func claimDueNotices(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [Notice] {
        try await db.write { tx in
            try await tx.query(
                """
                UPDATE notices SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM notices WHERE done = 0 AND created_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3)
                    ORDER BY created_at, id LIMIT ?)
                RETURNING \(Self.noticeColumns)
                """, [.text(owner), .ms(now.addingTimeInterval(leaseSeconds)), .ms(now), .integer(limit)]
            ).map(Self.decodeNotice).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func completeNotice(id: String, owner: String, status: DeliveryStatus, at: Date, event: Event) async throws -> Bool {
        try await db.write { tx in
            let closed = try await tx.query(
                "UPDATE notices SET done = 1, lease_until = NULL, status = ?, finished_at = ? WHERE id = ? AND done = 0 AND lease_owner = ? RETURNING id",
                [.text(status.rawValue), .ms(at), .text(id), .text(owner)])
            guard !closed.isEmpty else { return false }
            try Self.insert(tx, events: [event])
            return true
        }
    }

    public func notices(verificationID: String, tenantID: String) async throws -> [Notice] {
        try await read { tx in
            try await tx.query(
                "SELECT \(Self.noticeColumns) FROM notices WHERE verification_id = ? AND tenant_id = ? ORDER BY created_at, id",
                [.text(verificationID), .text(tenantID)]
            ).map(Self.decodeNotice)
        }
    }

    static func decodeNotice(_ row: SQLiteRow) throws -> Notice {
        Notice(
            id: try row.string("id"), tenantID: try row.string("tenant_id"), verificationID: try row.string("verification_id"),
            kind: try row.decode("kind", as: NoticeKind.self), channel: try row.decode("channel", as: Channel.self),
            to: try row.string("to_number"), country: row.optionalString("country"), operator: row.optionalString("operator"),
            locale: try row.string("locale"), purpose: try row.decode("purpose", as: Purpose.self), createdAt: try row.date("created_at"),
            status: try row.decode("status", as: DeliveryStatus.self), attempts: try row.int("attempts"))
    }
}
