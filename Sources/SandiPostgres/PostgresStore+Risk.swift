public import Foundation
public import SandiCore

extension PostgresStore {
    public func updateRiskState<T: Sendable>(keys: [String], now: Date, _ decide: @escaping @Sendable ([String: String]) throws -> (T, RiskStateWrite)) async throws -> T {
        try await write { tx in
            // Every node reading these keys to decide waits here until this unit commits: counters
            // are shared, a client cannot multiply its allowance by spreading requests over nodes.
            // Locks are taken in one order (sorted keys), so two units cannot deadlock.
            var state: [String: String] = [:]
            if !keys.isEmpty {
                let sorted = Array(Set(keys)).sorted()
                try await tx.query(
                    "SELECT pg_advisory_xact_lock(h) FROM (SELECT hashtextextended(k, 0) AS h FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n) locks",
                    [.texts(sorted)])
                let rows = try await tx.query("SELECT key, value FROM risk_state WHERE key = ANY($1) AND expires_at > $2", [.texts(sorted), .ms(now)])
                for row in rows { state[try row.string("key")] = try row.string("value") }
            }
            let (result, write) = try decide(state)
            if !write.values.isEmpty {
                let sorted = write.values.sorted { $0.key < $1.key }
                try await tx.query(
                    """
                    INSERT INTO risk_state (key, value, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::int8[])
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                    """,
                    [.texts(sorted.map(\.key)), .texts(sorted.map(\.value.value)), .ints(sorted.map { Int(Timestamp.millis($0.value.expiresAt)) })])
            }
            for g in write.grants {
                try await tx.query(
                    "INSERT INTO grants (token_hash, tenant_id, verification_id, user_ref, to_number, purpose, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                    [.text(g.tokenHash), .text(g.tenantID), .text(g.verificationID), .text(g.userRef), .text(g.to),
                     .text(g.purpose.rawValue), .ms(g.createdAt), .ms(g.expiresAt)])
            }
            try await Self.insert(tx, events: write.events)
            return result
        }
    }

    public func riskStates(prefix: String, now: Date, limit: Int) async throws -> [String: String] {
        try await read { tx in
            // A range over the primary key (byte order): every key that starts with `prefix`.
            let rows = try await tx.query(
                "SELECT key, value FROM risk_state WHERE key >= $1 AND key < $1 || chr(1114111) AND expires_at > $2 ORDER BY key LIMIT $3",
                [.text(prefix), .ms(now), .int(limit)])
            var out: [String: String] = [:]
            for row in rows { out[try row.string("key")] = try row.string("value") }
            return out
        }
    }

    public func purgeRiskState(now: Date, limit: Int) async throws -> Int {
        try await read { tx in
            try await tx.query(
                "DELETE FROM risk_state WHERE key IN (SELECT key FROM risk_state WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING key",
                [.ms(now), .int(limit)]).count
        }
    }
}
