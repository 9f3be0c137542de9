public import Foundation
public import SandiCore
import SandiStorage
import SQLiteNIO

extension SQLiteStore {

    public func enqueueNotice(_ n: Notice, event: Event) async throws {
        let events = try EncodedEvents([event])
        try await db.deferredWrite { tx in
            Self.insert(tx, notice: n, events: events)
            return {}
        }
    }

    /// A notice and its events.
    static func insert(_ tx: SQLiteExecutor.Tx, notice n: Notice, events: EncodedEvents) {
        tx.enqueue(
            "INSERT INTO notices (\(StoredRecords.noticeColumns), done) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
            [.text(n.id), .text(n.tenantID), .text(n.verificationID), .text(n.kind.rawValue), .text(n.channel.rawValue),
             .text(n.to), .text(n.country), .text(n.operator), .text(n.locale), .text(n.purpose.rawValue), .ms(n.createdAt),
             .text(n.status.rawValue), .integer(n.attempts)])
        insert(tx, events: events)
    }

    public func claimDueNotices(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [Notice] {
        try await db.deferredWrite { tx in
            let claimed = try tx.execute(
                """
                UPDATE notices SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM notices WHERE done = 0 AND created_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3)
                    ORDER BY created_at, id LIMIT ?)
                RETURNING \(StoredRecords.noticeColumns)
                """, [.text(owner), .ms(now.addingTimeInterval(leaseSeconds)), .ms(now), .integer(limit)]
            )
            return { try claimed.map(StoredRecords.notice).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
        }
    }

    public func completeNotice(id: String, owner: String, status: DeliveryStatus, at: Date, event: Event) async throws -> Bool {
        let events = try EncodedEvents([event])
        return try await db.inlineWrite { tx in
            // The event is written only when this owner closed the notice.
            let closed = try tx.execute(
                "UPDATE notices SET done = 1, lease_until = NULL, status = ?, finished_at = ? WHERE id = ? AND done = 0 AND lease_owner = ? RETURNING id",
                [.text(status.rawValue), .ms(at), .text(id), .text(owner)])
            guard !closed.isEmpty else { return false }
            Self.insert(tx, events: events)
            return true
        }
    }

    public func notices(verificationID: String, tenantID: String) async throws -> [Notice] {
        try await read { tx in
            try await tx.query(
                "SELECT \(StoredRecords.noticeColumns) FROM notices WHERE verification_id = ? AND tenant_id = ? ORDER BY created_at, id",
                [.text(verificationID), .text(tenantID)]
            ).map(StoredRecords.notice)
        }
    }

}
