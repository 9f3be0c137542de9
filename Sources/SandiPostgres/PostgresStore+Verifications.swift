public import Foundation
public import SandiCore
import SandiStorage

extension PostgresStore {
    public func create(_ creation: VerificationCreation) async throws -> CreationOutcome {
        let v = creation.verification
        let plan = try StoredRecords.planTexts.encode(v.plan)
        let context = try StoredRecords.contextTexts.encode(v.context)
        let risk = try StoredRecords.riskTexts.encode(v.risk)
        let binding = try v.transaction.map(JSONColumn.encode)
        let since = Int(Timestamp.millis(v.createdAt)) - creation.failedCheckWindowSeconds * 1000
        let cap = creation.failedCheckCap
        return try await write { tx in
            // One live code per tenant, destination and purpose: starts for the same key queue here,
            // whichever node they reached.
            try await Self.lockKey(tx, "live|\(v.tenantID)|\(v.to)|\(v.purpose.rawValue)")
            let key: [PGValue] = [.text(v.tenantID), .text(v.to), .text(v.purpose.rawValue)]
            let sameKey = "tenant_id = $1 AND to_number = $2 AND purpose = $3"
            let state = try await tx.query(
                "SELECT count, last_failed_at, last_failed_at > $4 AS recent FROM failed_checks WHERE \(sameKey)", key + [.int(since)]).first
            let failed = state.map { ($0.optionalInt("last_failed_at") ?? 0) > since ? ($0.optionalInt("count") ?? 0) : 0 } ?? 0
            guard failed < cap else { return .limited(lastFailedAt: state?.optionalDate("last_failed_at") ?? v.createdAt) }
            var superseded: [String] = []
            if creation.supersedes {
                superseded = try await tx.query(
                    "UPDATE verifications SET status = 'canceled', sealed_key_id = NULL, sealed_box = NULL, updated_at = $4 WHERE \(sameKey) AND status = 'pending' RETURNING id",
                    key + [.ms(v.createdAt)]
                ).map { try $0.string("id") }.sorted()
                if !superseded.isEmpty {
                    try await Self.withdrawQueued(tx, verificationIDs: superseded)
                    try await Self.insert(tx, events: superseded.map {
                        Event(tenantID: v.tenantID, verificationID: $0, type: "verification.canceled", createdAt: v.createdAt,
                              data: ["reason": "superseded", "superseded_by": .string(v.id)])
                    })
                }
            }
            let maxAttempts = min(v.maxAttempts, cap - failed)
            try await tx.query(
                "INSERT INTO verifications (\(StoredRecords.verificationColumns)) VALUES (\(PGTx.marks(from: 1, count: 29)))",
                [
                    .text(v.id), .text(v.tenantID), .text(v.to), .text(v.country), .text(v.operator), .text(v.purpose.rawValue),
                    .text(v.userRef), .text(v.locale), .int(v.codeLength), .text(v.digest.keyID), .text(v.digest.mac),
                    .text(v.sealed?.keyID), .text(v.sealed?.box), .text(v.status.rawValue), .text(v.channel?.rawValue),
                    .text(plan), .int(v.planIndex), .ms(v.createdAt), .ms(v.expiresAt), .ms(v.updatedAt),
                    .int(v.attemptsUsed), .int(maxAttempts), .int(v.sendsUsed), .int(v.maxSends),
                    .int(v.resends), .ms(v.resendAvailableAt), .text(context), .text(risk), .text(binding),
                ])
            for d in v.deliveries { try await Self.insert(tx, delivery: d) }
            if let job = creation.job { try await Self.insert(tx, job: job) }
            try await Self.insert(tx, events: creation.events)
            return .created(superseded: superseded, maxAttempts: maxAttempts)
        }
    }

    public func verification(id: String, tenantID: String, deliveries: Bool) async throws -> Verification? {
        try await read { tx in try await Self.loadVerification(tx, id: id, tenantID: tenantID, deliveries: deliveries) }
    }

    public func liveVerification(tenantID: String, to: String, purpose: Purpose, now: Date) async throws -> Verification? {
        try await read { tx in
            let rows = try await tx.query(
                """
                SELECT \(StoredRecords.verificationColumns) FROM verifications
                WHERE tenant_id = $1 AND to_number = $2 AND purpose = $3 AND status = 'pending' AND expires_at > $4
                ORDER BY created_at DESC LIMIT 1
                """, [.text(tenantID), .text(to), .text(purpose.rawValue), .ms(now)])
            guard let row = rows.first else { return nil }
            var v = try StoredRecords.verification(row)
            v.deliveries = try await Self.loadDeliveries(tx, verificationID: v.id)
            return v
        }
    }

    public func applyCheck(_ check: CheckRecord) async throws -> CheckApplied {
        try await write { tx in
            // The conditional update decides (and locks the row); the rest follows only when it did.
            let now = PGValue.ms(check.now)
            let id = PGValue.text(check.verificationID)
            let tenant = PGValue.text(check.tenantID)
            let pendingNow = "id = $2 AND tenant_id = $3 AND status = 'pending' AND expires_at > $1 AND attempts_used < max_attempts"
            let sql = check.valid
                ? "UPDATE verifications SET status = 'approved', sealed_key_id = NULL, sealed_box = NULL, updated_at = $1 WHERE \(pendingNow) RETURNING \(StoredRecords.verificationColumns)"
                : """
                  UPDATE verifications SET attempts_used = attempts_used + 1, updated_at = $1,
                      status = CASE WHEN attempts_used + 1 >= max_attempts THEN 'locked' ELSE status END,
                      sealed_key_id = CASE WHEN attempts_used + 1 >= max_attempts THEN NULL ELSE sealed_key_id END,
                      sealed_box = CASE WHEN attempts_used + 1 >= max_attempts THEN NULL ELSE sealed_box END
                  WHERE \(pendingNow) RETURNING \(StoredRecords.verificationColumns)
                  """
            guard let row = try await tx.query(sql, [now, id, tenant]).first else {
                guard let current = try await tx.query(
                    "SELECT \(StoredRecords.verificationColumns) FROM verifications WHERE id = $1 AND tenant_id = $2", [id, tenant]).first
                else { return .notFound }
                return .unchanged(try StoredRecords.verification(current))
            }
            let after = try StoredRecords.verification(row)
            let destination: [PGValue] = [tenant, .text(after.to), .text(after.purpose.rawValue)]
            if check.valid {
                try await Self.withdrawQueued(tx, verificationIDs: [after.id])
                try await tx.query("DELETE FROM failed_checks WHERE tenant_id = $1 AND to_number = $2 AND purpose = $3", destination)
                if let g = check.grant {
                    try await tx.query(
                        "INSERT INTO grants (token_hash, tenant_id, verification_id, user_ref, to_number, purpose, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                        [.text(g.tokenHash), .text(g.tenantID), .text(g.verificationID), .text(g.userRef), .text(g.to),
                         .text(g.purpose.rawValue), .ms(g.createdAt), .ms(g.expiresAt)])
                }
                try await Self.insert(tx, events: [Event(
                    tenantID: check.tenantID, verificationID: after.id, type: "verification.approved", createdAt: check.now,
                    data: ["attempts_used": .number(Double(after.attemptsUsed + 1)), "grant": .bool(check.grant != nil)])])
                return .approved(after)
            }
            let window = Int(Timestamp.millis(check.now)) - check.failedCheckWindowSeconds * 1000
            try await tx.query(
                """
                INSERT INTO failed_checks (tenant_id, to_number, purpose, count, last_failed_at) VALUES ($1, $2, $3, 1, $4)
                ON CONFLICT (tenant_id, to_number, purpose) DO UPDATE SET
                    count = CASE WHEN failed_checks.last_failed_at <= $5 THEN 1 ELSE failed_checks.count + 1 END,
                    last_failed_at = excluded.last_failed_at
                """, destination + [now, .int(window)])
            var events = [Event(tenantID: check.tenantID, verificationID: after.id, type: "verification.check_failed", createdAt: check.now,
                                data: ["attempts_remaining": .number(Double(after.maxAttempts - after.attemptsUsed))])]
            if after.status == .locked {
                events.append(Event(tenantID: check.tenantID, verificationID: after.id, type: "verification.locked", createdAt: check.now))
                try await Self.withdrawQueued(tx, verificationIDs: [after.id])
            }
            try await Self.insert(tx, events: events)
            return .rejected(after)
        }
    }

    public func applyResend(_ resend: ResendRecord) async throws -> Bool {
        try await write { tx in
            let rows = try await tx.query(
                """
                UPDATE verifications SET sends_used = sends_used + 1, resends = resends + 1, channel = $1, plan_index = $2,
                    resend_available_at = $3, updated_at = $4
                WHERE id = $5 AND tenant_id = $6 AND status = 'pending' AND expires_at > $4 AND sends_used = $7 AND sends_used < max_sends
                RETURNING id
                """,
                [.text(resend.channel.rawValue), .int(resend.planIndex), .ms(resend.resendAvailableAt), .ms(resend.now),
                 .text(resend.verificationID), .text(resend.tenantID), .int(resend.expectedSendsUsed)])
            guard !rows.isEmpty else { return false }
            try await Self.insert(tx, delivery: resend.delivery)
            try await Self.insert(tx, job: resend.job)
            try await Self.insert(tx, events: resend.events)
            return true
        }
    }

    public func cancel(id: String, tenantID: String, now: Date) async throws -> Bool? {
        try await write { tx in
            let rows = try await tx.query(
                """
                UPDATE verifications SET status = 'canceled', sealed_key_id = NULL, sealed_box = NULL, updated_at = $1
                WHERE id = $2 AND tenant_id = $3 AND status = 'pending' AND expires_at > $1 RETURNING id
                """, [.ms(now), .text(id), .text(tenantID)])
            if rows.isEmpty {
                let exists = try await tx.query("SELECT 1 AS one FROM verifications WHERE id = $1 AND tenant_id = $2", [.text(id), .text(tenantID)])
                return exists.isEmpty ? nil : false
            }
            try await Self.withdrawQueued(tx, verificationIDs: [id])
            try await Self.insert(tx, events: [Event(tenantID: tenantID, verificationID: id, type: "verification.canceled", createdAt: now, data: ["reason": "api"])])
            return true
        }
    }

    public func events(verificationID: String, tenantID: String) async throws -> [Event] {
        try await read { tx in
            try await tx.query(
                "SELECT id, tenant_id, verification_id, type, created_at, data FROM events WHERE verification_id = $1 AND tenant_id = $2 ORDER BY seq",
                [.text(verificationID), .text(tenantID)]
            ).map(StoredRecords.event)
        }
    }

    public func failedChecks(tenantID: String, to: String, purpose: Purpose, now: Date, windowSeconds: Int) async throws -> FailedCheckCount {
        try await read { tx in
            let rows = try await tx.query(
                "SELECT count, last_failed_at FROM failed_checks WHERE tenant_id = $1 AND to_number = $2 AND purpose = $3 AND last_failed_at > $4",
                [.text(tenantID), .text(to), .text(purpose.rawValue), .int(Int(Timestamp.millis(now)) - windowSeconds * 1000)])
            guard let row = rows.first else { return FailedCheckCount(count: 0, lastFailedAt: nil) }
            return FailedCheckCount(count: try row.int("count"), lastFailedAt: try row.date("last_failed_at"))
        }
    }

    public func expireDue(now: Date, limit: Int) async throws -> Int {
        try await write { tx in
            // Rows another node is expiring right now are skipped, not waited for.
            let rows = try await tx.query(
                """
                UPDATE verifications SET status = 'expired', sealed_key_id = NULL, sealed_box = NULL, updated_at = $1
                WHERE id IN (SELECT id FROM verifications WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
                RETURNING id, tenant_id
                """, [.ms(now), .int(limit)])
            let events = try rows.map { Event(tenantID: try $0.string("tenant_id"), verificationID: try $0.string("id"), type: "verification.expired", createdAt: now) }
            try await Self.withdrawQueued(tx, verificationIDs: events.compactMap(\.verificationID))
            try await Self.insert(tx, events: events)
            return rows.count
        }
    }
}
