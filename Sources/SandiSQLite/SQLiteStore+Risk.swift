public import Foundation
public import SandiCore
import SandiStorage
import SQLiteNIO

extension SQLiteStore {
    public func updateRiskState<T: Sendable>(keys: [String], now: Date, _ decide: @escaping @Sendable ([String: String]) throws -> (T, RiskStateWrite)) async throws -> T {
        // The writer runs one unit at a time (the keyed units of a batch share one read, each
        // seeing the ones before it), so nothing else touches these keys between read and write.
        try await db.keyedWrite(keys: keys, now: now) { state, tx in
            let (result, write) = try decide(state)
            try Self.insert(tx, riskWrite: write)
            return (result, write.values)
        }
    }

    /// A risk step's grants and events (its values the executor writes).
    static func insert(_ tx: SQLiteExecutor.Tx, riskWrite write: RiskStateWrite) throws {
        for g in write.grants { insert(tx, grant: g) }
        try insert(tx, events: write.events)
    }

    /// A grant (its token stored hashed).
    static func insert(_ tx: SQLiteExecutor.Tx, grant g: Grant) {
        tx.enqueue(
            "INSERT INTO grants (token_hash, tenant_id, verification_id, user_ref, to_number, purpose, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?)",
            [.text(g.tokenHash), .text(g.tenantID), .text(g.verificationID), .text(g.userRef), .text(g.to),
             .text(g.purpose.rawValue), .ms(g.createdAt), .ms(g.expiresAt)])
    }

    public func riskStates(prefix: String, now: Date, limit: Int) async throws -> [String: String] {
        try await read { tx in
            // A range over the primary key: every key that starts with `prefix`.
            let rows = try await tx.query(
                "SELECT key, value FROM risk_state WHERE key >= ?1 AND key < ?1 || char(1114111) AND expires_at > ?2 ORDER BY key LIMIT ?3",
                [.text(prefix), .ms(now), .integer(limit)])
            var out: [String: String] = [:]
            for row in rows { out[try row.string("key")] = try row.string("value") }
            return out
        }
    }

    public func purgeRiskState(now: Date, limit: Int) async throws -> Int {
        try await db.inlineWrite { tx in
            let rows = try tx.execute(
                "DELETE FROM risk_state WHERE key IN (SELECT key FROM risk_state WHERE expires_at <= ? LIMIT ?) RETURNING key",
                [.ms(now), .integer(limit)])
            return rows.count
        }
    }
}
