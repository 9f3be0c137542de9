import Foundation
import SandiCore
import SandiStorage

/// Statements several units of work share.
extension PostgresStore {
    /// Takes a transaction-scoped advisory lock on a text key (held until commit or rollback).
    static func lockKey(_ tx: PGTx, _ key: String) async throws {
        try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text(key)])
    }

    /// Withdraws the queued sends of verifications (their code may no longer travel).
    static func withdrawQueued(_ tx: PGTx, verificationIDs ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await tx.query("UPDATE deliveries SET status = 'canceled' WHERE status = 'queued' AND verification_id = ANY($1)", [.texts(ids)])
        try await tx.query("UPDATE jobs SET done = true WHERE NOT done AND verification_id = ANY($1)", [.texts(ids)])
    }

    static func insert(_ tx: PGTx, delivery d: Delivery) async throws {
        try await tx.query(
            """
            INSERT INTO deliveries (id, verification_id, tenant_id, channel, provider, status, plan_index, queued_at, sent_at,
                delivered_at, read_at, failed_at, error, provider_message_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
            """,
            [.text(d.id), .text(d.verificationID), .text(d.tenantID), .text(d.channel.rawValue), .text(d.provider),
             .text(d.status.rawValue), .int(d.planIndex), .ms(d.queuedAt), .ms(d.sentAt), .ms(d.deliveredAt),
             .ms(d.readAt), .ms(d.failedAt), .text(d.error), .text(d.providerMessageID)])
    }

    static func insert(_ tx: PGTx, job: DeliveryJobRecord) async throws {
        try await tx.query(
            "INSERT INTO jobs (id, kind, delivery_id, verification_id, tenant_id, due_at) VALUES ($1,$2,$3,$4,$5,$6)",
            [.text(job.id), .text(job.kind.rawValue), .text(job.deliveryID), .text(job.verificationID), .text(job.tenantID), .ms(job.dueAt)])
    }

    /// Appends events to the log, in order, in one statement.
    static func insert(_ tx: PGTx, events: [Event]) async throws {
        guard !events.isEmpty else { return }
        try await tx.query(
            """
            INSERT INTO events (id, tenant_id, verification_id, type, created_at, data)
            SELECT id, tenant, NULLIF(verification, ''), type, at, data
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[]) WITH ORDINALITY
                AS e(id, tenant, verification, type, at, data, n)
            ORDER BY n
            """,
            [.texts(events.map(\.id)), .texts(events.map(\.tenantID)), .texts(events.map { $0.verificationID ?? "" }),
             .texts(events.map(\.type)), .ints(events.map { Int(Timestamp.millis($0.createdAt)) }),
             .texts(try events.map { try EventRollupFields.shared.encode($0) })])
    }

    static func loadVerification(_ tx: PGTx, id: String, tenantID: String, deliveries: Bool = true) async throws -> Verification? {
        let rows = try await tx.query(
            "SELECT \(StoredRecords.verificationColumns) FROM verifications WHERE id = $1 AND tenant_id = $2", [.text(id), .text(tenantID)])
        guard let row = rows.first else { return nil }
        var v = try StoredRecords.verification(row)
        if deliveries { v.deliveries = try await loadDeliveries(tx, verificationID: id) }
        return v
    }

    static func loadDeliveries(_ tx: PGTx, verificationID: String) async throws -> [Delivery] {
        try await tx.query("SELECT * FROM deliveries WHERE verification_id = $1 ORDER BY queued_at, seq", [.text(verificationID)])
            .map(StoredRecords.delivery)
    }
}
