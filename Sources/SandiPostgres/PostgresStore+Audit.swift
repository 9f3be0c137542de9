public import Foundation
public import SandiCore
import SandiStorage

extension PostgresStore {
    public func sealAudit(limit: Int) async throws -> Int {
        try await write { tx in try await Self.seal(tx, limit: limit) }
    }

    /// Gives events not yet in the chain their place in it, in the order they became visible,
    /// and links them (one sealer at a time across nodes: the chain's head is locked).
    static func seal(_ tx: PGTx, limit: Int) async throws -> Int {
        try await tx.query("SELECT pg_advisory_xact_lock(\(Lock.auditHead.rawValue))")
        let head = try await tx.query("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1").first
        // With every sealed record purged, the chain continues from the retention checkpoint.
        let checkpoint = head == nil
            ? try await tx.query("SELECT value FROM risk_state WHERE key = $1", [.text(AuditCheckpoint.key)]).first?
                .optionalString("value").flatMap(AuditCheckpoint.init(text:))
            : nil
        let after = Int64(head?.optionalInt("seq") ?? 0) + (head == nil ? (checkpoint?.seq ?? 0) : 0)
        let rows = try await tx.query(
            "SELECT id, tenant_id, verification_id, type, created_at, data FROM events WHERE chain_seq IS NULL ORDER BY seq LIMIT $1", [.int(limit)])
        guard !rows.isEmpty else { return 0 }
        var records: [AuditRecord] = []
        for (offset, row) in rows.enumerated() {
            records.append(AuditRecord(
                seq: after + 1 + Int64(offset), eventID: try row.string("id"), tenantID: try row.string("tenant_id"),
                verificationID: row.optionalString("verification_id"), type: try row.string("type"),
                createdAtMillis: Int64(try row.int("created_at")), data: try row.string("data"), previousHash: nil, hash: nil))
        }
        let links = AuditChain.seal(records, after: head?.optionalString("hash") ?? checkpoint?.hash)
        try await tx.query(
            "UPDATE events SET chain_seq = u.c FROM unnest($1::text[], $2::int8[]) AS u(id, c) WHERE events.id = u.id",
            [.texts(records.map(\.eventID)), .ints(records.map { Int($0.seq) })])
        try await tx.query(
            "INSERT INTO audit_links (seq, prev_hash, hash) SELECT * FROM unnest($1::int8[], $2::text[], $3::text[])",
            [.ints(links.map { Int($0.seq) }), .texts(links.map(\.previous)), .texts(links.map(\.hash))])
        // The cockpit's aggregates move with the chain: each event counted once.
        let deltas = Rollups.deltas(for: records, known: EventRollupFields.shared.take)
        if !deltas.isEmpty {
            try await tx.query(
                """
                INSERT INTO rollups (span, bucket, tenant_id, metric, dimension, count, total)
                SELECT * FROM unnest($1::int4[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::float8[])
                ON CONFLICT (span, bucket, tenant_id, metric, dimension)
                DO UPDATE SET count = rollups.count + excluded.count, total = rollups.total + excluded.total
                """,
                [.ints(deltas.map(\.span)), .ints(deltas.map { Int($0.bucket) }), .texts(deltas.map(\.tenantID)), .texts(deltas.map(\.metric)),
                 .texts(deltas.map(\.dimension)), .ints(deltas.map { Int($0.count) }), .doubles(deltas.map(\.total))])
        }
        return links.count
    }

    public func purgeAudit(before: Date, limit: Int) async throws -> Int {
        try await write { tx in
            try await tx.query("SELECT pg_advisory_xact_lock(\(Lock.auditHead.rawValue))")
            let cursor = try await tx.query("SELECT value FROM risk_state WHERE key = $1", [.text(Self.webhookCursorKey)]).first?
                .optionalString("value").flatMap { Int64($0) }
            let rows = try await tx.query(
                """
                SELECT l.seq AS seq, e.seq AS event_seq, e.created_at AS created_at, l.hash AS hash
                FROM audit_links l JOIN events e ON e.chain_seq = l.seq ORDER BY l.seq LIMIT $1
                """, [.int(limit)])
            var last: AuditCheckpoint?
            var count = 0
            for row in rows {
                guard let seq = row.optionalInt("seq").map(Int64.init), let hash = row.optionalString("hash"),
                      Int64(row.optionalInt("created_at") ?? .max) < Timestamp.millis(before),
                      Int64(row.optionalInt("event_seq") ?? .max) <= (cursor ?? .max)
                else { break }
                last = AuditCheckpoint(seq: seq, hash: hash)
                count += 1
            }
            guard let last else { return 0 }
            try await tx.query(
                "INSERT INTO risk_state (key, value, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                [.text(AuditCheckpoint.key), .text(last.text), .ms(Date.distantFuture)])
            try await tx.query("DELETE FROM events WHERE chain_seq <= $1", [.int(Int(last.seq))])
            try await tx.query("DELETE FROM audit_links WHERE seq <= $1", [.int(Int(last.seq))])
            return count
        }
    }

    public func auditCheckpoint() async throws -> AuditCheckpoint? {
        try await read { tx in
            try await tx.query("SELECT value FROM risk_state WHERE key = $1", [.text(AuditCheckpoint.key)]).first?
                .optionalString("value").flatMap(AuditCheckpoint.init(text:))
        }
    }

    public func latestAudit(beforePosition: Int64?, limit: Int) async throws -> [AuditRecord] {
        try await read { tx in
            try await tx.query(
                """
                SELECT e.seq AS seq, e.id AS id, e.tenant_id AS tenant_id, e.verification_id AS verification_id, e.type AS type,
                       e.created_at AS created_at, e.data AS data, l.prev_hash AS prev_hash, l.hash AS hash
                FROM events e LEFT JOIN audit_links l ON l.seq = e.chain_seq WHERE e.seq < $1 ORDER BY e.seq DESC LIMIT $2
                """, [.int(Int(beforePosition ?? Int64.max)), .int(limit)]
            ).map(StoredRecords.audit)
        }
    }

    public func rollups(tenantID: String?, span: Int, from: Date, to: Date, metrics: [String]?) async throws -> [RollupDelta] {
        var sql = "SELECT span, bucket, tenant_id, metric, dimension, count, total FROM rollups WHERE span = $1 AND bucket >= $2 AND bucket < $3"
        var binds: [PGValue] = [.int(span), .int(Int(from.timeIntervalSince1970.rounded(.down))), .int(Int(to.timeIntervalSince1970.rounded(.up)))]
        if let tenantID {
            binds.append(.text(tenantID))
            sql += " AND tenant_id = $\(binds.count)"
        }
        if let metrics, !metrics.isEmpty {
            binds.append(.texts(metrics))
            sql += " AND metric = ANY($\(binds.count)::text[])"
        }
        let (statement, values) = (sql, binds)
        return try await read { tx in
            try await tx.query(statement, values).map { row in
                RollupDelta(bucket: Int64(row.optionalInt("bucket") ?? 0), span: row.optionalInt("span") ?? span,
                            tenantID: row.optionalString("tenant_id") ?? "", metric: row.optionalString("metric") ?? "",
                            dimension: row.optionalString("dimension") ?? "", count: Int64(row.optionalInt("count") ?? 0),
                            total: row.optionalDouble("total") ?? 0)
            }
        }
    }

    public func auditRecords(afterSeq: Int64, limit: Int) async throws -> [AuditRecord] {
        try await read { tx in
            var records = try await tx.query(
                """
                SELECT l.seq AS seq, e.id AS id, e.tenant_id AS tenant_id, e.verification_id AS verification_id, e.type AS type,
                       e.created_at AS created_at, e.data AS data, l.prev_hash AS prev_hash, l.hash AS hash
                FROM audit_links l JOIN events e ON e.chain_seq = l.seq WHERE l.seq > $1 ORDER BY l.seq LIMIT $2
                """, [.int(Int(afterSeq)), .int(limit)]
            ).map(StoredRecords.audit)
            guard records.count < limit else { return records }
            // Events not sealed yet follow, numbered after the chain's head in the order they will be sealed.
            records += try await tx.query(
                """
                SELECT * FROM (
                    SELECT (COALESCE((SELECT MAX(seq) FROM audit_links), 0) + row_number() OVER (ORDER BY seq))::int8 AS seq,
                           id, tenant_id, verification_id, type, created_at, data, NULL::text AS prev_hash, NULL::text AS hash
                    FROM events WHERE chain_seq IS NULL) u
                WHERE seq > $1 ORDER BY seq LIMIT $2
                """, [.int(Int(afterSeq)), .int(limit - records.count)]
            ).map(StoredRecords.audit)
            return records
        }
    }
}
