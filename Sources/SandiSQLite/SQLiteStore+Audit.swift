public import Foundation
public import SandiCore
import SandiStorage
import SQLiteNIO

extension SQLiteStore {
    static let auditColumns = """
        e.seq AS seq, e.id AS id, e.tenant_id AS tenant_id, e.verification_id AS verification_id, e.type AS type,
        e.created_at AS created_at, e.data AS data, l.prev_hash AS prev_hash, l.hash AS hash
        """

    public func sealAudit(limit: Int) async throws -> Int {
        // The records are read on a read connection and hashed and counted on the cooperative
        // pool, so the writer is not held while that runs (it used to be, for three hops and the
        // decoding of a thousand records). One inline unit then writes the links and the rollups,
        // if the chain's head is still the one the links follow; if not (another pass or a purge
        // came between), it writes nothing and the next pass starts again from the new head.
        let (head, records, after) = try await read { tx in
            let head = try await tx.query("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1").first
            // With every sealed record purged, the chain continues from the retention checkpoint.
            let checkpoint = head == nil
                ? try await tx.query("SELECT value FROM risk_state WHERE key = ?", [.text(AuditCheckpoint.key)]).first?
                    .optionalString("value").flatMap(AuditCheckpoint.init(text:))
                : nil
            let records = try await tx.query(
                "SELECT \(Self.auditColumns) FROM events e LEFT JOIN audit_links l ON l.seq = e.seq WHERE e.seq > ? ORDER BY e.seq LIMIT ?",
                [.integer(head?.optionalInt("seq") ?? checkpoint.map { Int($0.seq) } ?? 0), .integer(limit)]).map(StoredRecords.audit)
            return (head?.optionalInt("seq"), records, head?.optionalString("hash") ?? checkpoint?.hash)
        }
        let links = AuditChain.seal(records, after: after)
        guard !links.isEmpty else { return 0 }
        // The cockpit's aggregates move with the chain: each event counted once.
        let deltas = Rollups.deltas(for: records, known: EventRollupFields.shared.take)
        return try await db.inlineWrite { tx in
            let current = try tx.execute("SELECT seq FROM audit_links ORDER BY seq DESC LIMIT 1").first?.optionalInt("seq")
            guard current == head else { return 0 }
            tx.enqueue(
                "INSERT INTO audit_links (seq, prev_hash, hash) VALUES " + Array(repeating: "(?,?,?)", count: links.count).joined(separator: ","),
                links.flatMap { [SQLiteData.integer(Int($0.seq)), .text($0.previous), .text($0.hash)] })
            for chunk in deltas.chunked(150) {
                tx.enqueue(
                    "INSERT INTO rollups (span, bucket, tenant_id, metric, dimension, count, total) VALUES "
                        + Array(repeating: "(?,?,?,?,?,?,?)", count: chunk.count).joined(separator: ",")
                        + " ON CONFLICT (span, bucket, tenant_id, metric, dimension) DO UPDATE SET count = count + excluded.count, total = total + excluded.total",
                    chunk.flatMap { [SQLiteData.integer($0.span), .integer(Int($0.bucket)), .text($0.tenantID), .text($0.metric), .text($0.dimension),
                                     .integer(Int($0.count)), .float($0.total)] })
            }
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


    public func purgeAudit(before: Date, limit: Int) async throws -> Int {
        try await db.inlineWrite { tx in
            let cursor = try tx.execute("SELECT value FROM risk_state WHERE key = ?", [.text(Self.webhookCursorKey)]).first?
                .optionalString("value").flatMap { Int64($0) }
            let rows = try tx.execute(
                "SELECT e.seq AS seq, e.created_at AS created_at, l.hash AS hash FROM events e LEFT JOIN audit_links l ON l.seq = e.seq ORDER BY e.seq LIMIT ?",
                [.integer(limit)])
            var last: AuditCheckpoint?
            for row in rows {
                guard let seq = row.optionalInt("seq").map(Int64.init), let hash = row.optionalString("hash"),
                      Int64(row.optionalInt("created_at") ?? .max) < Timestamp.millis(before), seq <= (cursor ?? .max)
                else { break }
                last = AuditCheckpoint(seq: seq, hash: hash)
            }
            guard let last else { return 0 }
            tx.enqueue("INSERT OR REPLACE INTO risk_state (key, value, expires_at) VALUES (?, ?, ?)",
                       [.text(AuditCheckpoint.key), .text(last.text), .ms(Self.forever)])
            tx.enqueue("DELETE FROM audit_links WHERE seq <= ?", [.integer(Int(last.seq))])
            tx.enqueue("DELETE FROM events WHERE seq <= ?", [.integer(Int(last.seq))])
            return rows.prefix { ($0.optionalInt("seq").map(Int64.init) ?? .max) <= last.seq }.count
        }
    }

    public func auditCheckpoint() async throws -> AuditCheckpoint? {
        try await read { tx in
            try await tx.query("SELECT value FROM risk_state WHERE key = ?", [.text(AuditCheckpoint.key)]).first?
                .optionalString("value").flatMap(AuditCheckpoint.init(text:))
        }
    }

    public func latestAudit(beforePosition: Int64?, limit: Int) async throws -> [AuditRecord] {
        try await read { tx in
            try await tx.query(
                "SELECT \(Self.auditColumns) FROM events e LEFT JOIN audit_links l ON l.seq = e.seq WHERE e.seq < ? ORDER BY e.seq DESC LIMIT ?",
                [.integer(Int(beforePosition ?? Int64.max)), .integer(limit)]).map(StoredRecords.audit)
        }
    }

    public func rollups(tenantID: String?, span: Int, from: Date, to: Date, metrics: [String]?) async throws -> [RollupDelta] {
        var sql = "SELECT span, bucket, tenant_id, metric, dimension, count, total FROM rollups WHERE span = ? AND bucket >= ? AND bucket < ?"
        var binds: [SQLiteData] = [.integer(span), .integer(Int(from.timeIntervalSince1970.rounded(.down))), .integer(Int(to.timeIntervalSince1970.rounded(.up)))]
        if let tenantID {
            sql += " AND tenant_id = ?"
            binds.append(.text(tenantID))
        }
        if let metrics, !metrics.isEmpty {
            sql += " AND metric IN (" + Array(repeating: "?", count: metrics.count).joined(separator: ",") + ")"
            binds += metrics.map(SQLiteData.text)
        }
        let (statement, values) = (sql, binds)
        return try await read { tx in
            try await tx.query(statement, values).map { row in
                RollupDelta(bucket: Int64(row.column("bucket")?.integer ?? 0), span: row.column("span")?.integer ?? span,
                            tenantID: row.column("tenant_id")?.string ?? "", metric: row.column("metric")?.string ?? "",
                            dimension: row.column("dimension")?.string ?? "", count: Int64(row.column("count")?.integer ?? 0),
                            total: row.column("total")?.double ?? 0)
            }
        }
    }
}
