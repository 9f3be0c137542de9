import Foundation
public import SandiCore
import SQLiteNIO

extension SQLiteStore {
    public func sealAudit(limit: Int) async throws -> Int {
        try await db.write { tx in
            let head = try await tx.query("SELECT hash FROM events WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1").first?.optionalString("hash")
            let records = try await tx.query(
                "SELECT seq, id, tenant_id, verification_id, type, created_at, data, prev_hash, hash FROM events WHERE hash IS NULL ORDER BY seq LIMIT ?",
                [.integer(limit)]).map(Self.decodeAudit)
            for link in AuditChain.seal(records, after: head) {
                tx.enqueue("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ? AND hash IS NULL",
                           [.text(link.previous), .text(link.hash), .integer(Int(link.seq))])
            }
            return records.count
        }
    }

    public func auditRecords(afterSeq: Int64, limit: Int) async throws -> [AuditRecord] {
        try await read { tx in
            try await tx.query(
                "SELECT seq, id, tenant_id, verification_id, type, created_at, data, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                [.integer(Int(afterSeq)), .integer(limit)]).map(Self.decodeAudit)
        }
    }

    static func decodeAudit(_ row: SQLiteRow) throws -> AuditRecord {
        AuditRecord(
            seq: Int64(try row.int("seq")), eventID: try row.string("id"), tenantID: try row.string("tenant_id"),
            verificationID: row.optionalString("verification_id"), type: try row.string("type"),
            createdAtMillis: Int64(try row.int("created_at")), data: try row.string("data"),
            previousHash: row.optionalString("prev_hash"), hash: row.optionalString("hash"))
    }
}
