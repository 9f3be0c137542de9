import Foundation
public import SandiCore
import SandiStorage
import SQLiteNIO

extension SQLiteStore {
    static let auditColumns = """
        e.seq AS seq, e.id AS id, e.tenant_id AS tenant_id, e.verification_id AS verification_id, e.type AS type,
        e.created_at AS created_at, e.data AS data, l.prev_hash AS prev_hash, l.hash AS hash
        """

    public func sealAudit(limit: Int) async throws -> Int {
        try await db.write { tx in
            let head = try await tx.query("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1").first
            let after = head?.column("seq")?.integer ?? 0
            let records = try await tx.query(
                "SELECT \(Self.auditColumns) FROM events e LEFT JOIN audit_links l ON l.seq = e.seq WHERE e.seq > ? ORDER BY e.seq LIMIT ?",
                [.integer(after), .integer(limit)]).map(StoredRecords.audit)
            let links = AuditChain.seal(records, after: head?.optionalString("hash"))
            guard !links.isEmpty else { return 0 }
            // One statement for the whole pass, so sealing stays off the hot path.
            tx.enqueue(
                "INSERT INTO audit_links (seq, prev_hash, hash) VALUES " + Array(repeating: "(?,?,?)", count: links.count).joined(separator: ","),
                links.flatMap { [SQLiteData.integer(Int($0.seq)), .text($0.previous), .text($0.hash)] })
            return links.count
        }
    }

    public func auditRecords(afterSeq: Int64, limit: Int) async throws -> [AuditRecord] {
        try await read { tx in
            try await tx.query(
                "SELECT \(Self.auditColumns) FROM events e LEFT JOIN audit_links l ON l.seq = e.seq WHERE e.seq > ? ORDER BY e.seq LIMIT ?",
                [.integer(Int(afterSeq)), .integer(limit)]).map(StoredRecords.audit)
        }
    }

}
