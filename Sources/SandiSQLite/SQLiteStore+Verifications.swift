public import Foundation
public import SandiCore
import NIOCore
import SandiStorage
import SQLiteNIO

extension SQLiteStore {

    public func create(_ creation: VerificationCreation) async throws -> CreationOutcome {
        let v = creation.verification
        let plan = try StoredRecords.planTexts.encode(v.plan)
        let context = try StoredRecords.contextTexts.encode(v.context)
        let risk = try StoredRecords.riskTexts.encode(v.risk)
        let binding = try v.transaction.map(JSONColumn.encode)
        let events = try EncodedEvents(creation.events)
        let since = Int(Timestamp.millis(v.createdAt)) - creation.failedCheckWindowSeconds * 1000
        let cap = creation.failedCheckCap
        return try await db.deferredWrite { tx in
            // The unit runs on the writer's thread, each statement at once: it reads the cap of
            // recent wrong codes and the live verifications, then decides here what to write.
            let key: [SQLiteData] = [.text(v.tenantID), .text(v.to), .text(v.purpose.rawValue)]
            let sameKey = "tenant_id = ?1 AND to_number = ?2 AND purpose = ?3"
            guard let state = try tx.execute(
                """
                SELECT COALESCE((SELECT count FROM failed_checks WHERE \(sameKey) AND last_failed_at > ?4), 0) AS failed,
                       (SELECT last_failed_at FROM failed_checks WHERE \(sameKey)) AS last_failed,
                       (SELECT group_concat(id) FROM verifications WHERE \(sameKey) AND status = 'pending') AS live
                """, key + [.integer(since)]).first else { throw SQLiteFailure.misuse("a SELECT without FROM returned no row") }
            let failed = try state.int("failed")
            guard failed < cap else {
                let lastFailedAt = state.optionalDate("last_failed") ?? v.createdAt
                return { .limited(lastFailedAt: lastFailedAt) }
            }
            let superseded = creation.supersedes ? (state.optionalString("live") ?? "").split(separator: ",").map(String.init).sorted() : []
            if !superseded.isEmpty {
                let marks = Array(repeating: "?", count: superseded.count).joined(separator: ",")
                try Self.insert(tx, events: superseded.map { id in
                    Event(tenantID: v.tenantID, verificationID: id, type: "verification.canceled", createdAt: v.createdAt,
                          data: ["reason": "superseded", "superseded_by": .string(v.id)])
                })
                Self.withdrawQueued(tx, verificationIDs: superseded)
                _ = try tx.execute(
                    "UPDATE verifications SET status = 'canceled', sealed_key_id = NULL, sealed_box = NULL, updated_at = ? WHERE id IN (\(marks))",
                    [.ms(v.createdAt)] + superseded.map(SQLiteData.text))
            }
            // Each recent wrong code on the destination takes one attempt from the new code.
            let maxAttempts = min(v.maxAttempts, cap - failed)
            _ = try tx.execute(
                "INSERT INTO verifications (\(StoredRecords.verificationColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    .text(v.id), .text(v.tenantID), .text(v.to), .text(v.country), .text(v.operator), .text(v.purpose.rawValue),
                    .text(v.userRef), .text(v.locale), .integer(v.codeLength), .text(v.digest.keyID), .text(v.digest.mac),
                    .text(v.sealed?.keyID), .text(v.sealed?.box), .text(v.status.rawValue), .text(v.channel?.rawValue),
                    .text(plan), .integer(v.planIndex), .ms(v.createdAt), .ms(v.expiresAt), .ms(v.updatedAt),
                    .integer(v.attemptsUsed), .integer(maxAttempts), .integer(v.sendsUsed), .integer(v.maxSends),
                    .integer(v.resends), .ms(v.resendAvailableAt), .text(context), .text(risk), .text(binding),
                ])
            for d in v.deliveries { Self.insert(tx, delivery: d) }
            if let job = creation.job { Self.insert(tx, job: job) }
            Self.insert(tx, events: events)
            return { .created(superseded: superseded, maxAttempts: maxAttempts) }
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
                WHERE tenant_id = ? AND to_number = ? AND purpose = ? AND status = 'pending' AND expires_at > ?
                ORDER BY created_at DESC LIMIT 1
                """, [.text(tenantID), .text(to), .text(purpose.rawValue), .ms(now)])
            guard let row = rows.first else { return nil }
            var v = try StoredRecords.verification(row)
            v.deliveries = try await Self.loadDeliveries(tx, verificationID: v.id)
            return v
        }
    }

    public func applyCheck(_ check: CheckRecord) async throws -> CheckApplied {
        try await db.deferredWrite { tx in try Self.applyCheck(tx, check).finish }
    }

    /// The check, its approval's risk state and its notice in one keyed unit: one commit, one
    /// wait for the disk. A wrong code takes the plain path (it has no follow-up).
    public func applyCheck(_ check: CheckRecord, approval: ApprovalFollowUp) async throws -> CheckApplied {
        guard check.valid else { return try await applyCheck(check) }
        let notice = try approval.notice.map { ($0.notice, try EncodedEvents([$0.event])) }
        let finish = try await db.keyedWrite(keys: approval.riskKeys, now: check.now) { state, tx in
            let applied = try Self.applyCheck(tx, check)
            guard applied.changed else { return (applied.finish, [:]) }
            let write = approval.learn(state)
            try Self.insert(tx, riskWrite: write)
            if let (n, events) = notice { Self.insert(tx, notice: n, events: events) }
            return (applied.finish, write.values)
        }
        return try finish()
    }

    /// Runs a check's statements on the writer's thread, each at once: the conditional update
    /// decides, and what follows it is written only when it changed the verification.
    /// `changed` says whether it did; `finish` decodes the outcome once the batch committed.
    static func applyCheck(_ tx: SQLiteExecutor.Tx, _ check: CheckRecord) throws -> (changed: Bool, finish: @Sendable () throws -> CheckApplied) {
        let now = SQLiteData.ms(check.now)
        let id = SQLiteData.text(check.verificationID)
        let tenant = SQLiteData.text(check.tenantID)
        let pendingNow = "id = ?2 AND tenant_id = ?3 AND status = 'pending' AND expires_at > ?1 AND attempts_used < max_attempts"
        let update = check.valid
            ? """
              UPDATE verifications SET status = 'approved', sealed_key_id = NULL, sealed_box = NULL, updated_at = ?1
              WHERE \(pendingNow) RETURNING \(StoredRecords.verificationColumns)
              """
            : """
              UPDATE verifications SET attempts_used = attempts_used + 1, updated_at = ?1,
                  status = CASE WHEN attempts_used + 1 >= max_attempts THEN 'locked' ELSE status END,
                  sealed_key_id = CASE WHEN attempts_used + 1 >= max_attempts THEN NULL ELSE sealed_key_id END,
                  sealed_box = CASE WHEN attempts_used + 1 >= max_attempts THEN NULL ELSE sealed_box END
              WHERE \(pendingNow) RETURNING \(StoredRecords.verificationColumns)
              """
        guard let row = try tx.execute(update, [now, id, tenant]).first else {
            // Not pending any more (or unknown): nothing changes; the answer shows it as it is.
            let current = try tx.execute("SELECT \(StoredRecords.verificationColumns) FROM verifications WHERE id = ? AND tenant_id = ?", [id, tenant])
            return (false, {
                guard let row = current.first else { return .notFound }
                return .unchanged(try StoredRecords.verification(row))
            })
        }
        let destination: [SQLiteData] = [tenant, .text(try row.string("to_number")), .text(try row.string("purpose"))]
        if check.valid {
            Self.withdrawQueued(tx, verificationID: check.verificationID)
            _ = try tx.execute("DELETE FROM failed_checks WHERE tenant_id = ? AND to_number = ? AND purpose = ?", destination)
            if let g = check.grant { Self.insert(tx, grant: g) }
            _ = try tx.execute(
                """
                INSERT INTO events (id, tenant_id, verification_id, type, created_at, data)
                VALUES (?, ?, ?, 'verification.approved', ?, json_object('attempts_used', ?, 'grant', json(?)))
                """, [.text(Identifier.make(.event)), tenant, id, now, .integer(try row.int("attempts_used") + 1),
                      .text(check.grant != nil ? "true" : "false")])
        } else {
            let window = Int(Timestamp.millis(check.now)) - check.failedCheckWindowSeconds * 1000
            _ = try tx.execute(
                """
                INSERT INTO failed_checks (tenant_id, to_number, purpose, count, last_failed_at) VALUES (?1, ?2, ?3, 1, ?4)
                ON CONFLICT (tenant_id, to_number, purpose) DO UPDATE SET
                    count = CASE WHEN failed_checks.last_failed_at <= ?5 THEN 1 ELSE failed_checks.count + 1 END,
                    last_failed_at = excluded.last_failed_at
                """, destination + [now, .integer(window)])
            _ = try tx.execute(
                """
                INSERT INTO events (id, tenant_id, verification_id, type, created_at, data)
                VALUES (?, ?, ?, 'verification.check_failed', ?, json_object('attempts_remaining', ?))
                """, [.text(Identifier.make(.event)), tenant, id, now, .integer(try row.int("max_attempts") - row.int("attempts_used"))])
            if try row.string("status") == VerificationStatus.locked.rawValue {
                _ = try tx.execute(
                    "INSERT INTO events (id, tenant_id, verification_id, type, created_at, data) VALUES (?, ?, ?, 'verification.locked', ?, '{}')",
                    [.text(Identifier.make(.event)), tenant, id, now])
                Self.withdrawQueued(tx, verificationID: check.verificationID)
            }
        }
        return (true, {
            let after = try StoredRecords.verification(row)
            return check.valid ? .approved(after) : .rejected(after)
        })
    }

    public func applyResend(_ resend: ResendRecord) async throws -> Bool {
        try await db.inlineWrite { tx in
            let rows = try tx.execute(
                """
                UPDATE verifications SET sends_used = sends_used + 1, resends = resends + 1, channel = ?, plan_index = ?,
                    resend_available_at = ?, updated_at = ?
                WHERE id = ? AND tenant_id = ? AND status = 'pending' AND expires_at > ? AND sends_used = ?
                    AND sends_used < max_sends
                RETURNING id
                """,
                [.text(resend.channel.rawValue), .integer(resend.planIndex), .ms(resend.resendAvailableAt), .ms(resend.now),
                 .text(resend.verificationID), .text(resend.tenantID), .ms(resend.now), .integer(resend.expectedSendsUsed)])
            guard !rows.isEmpty else { return false }
            Self.insert(tx, delivery: resend.delivery)
            Self.insert(tx, job: resend.job)
            try Self.insert(tx, events: resend.events)
            return true
        }
    }

    public func cancel(id: String, tenantID: String, now: Date) async throws -> Bool? {
        try await db.inlineWrite { tx in
            let rows = try tx.execute(
                """
                UPDATE verifications SET status = 'canceled', sealed_key_id = NULL, sealed_box = NULL, updated_at = ?
                WHERE id = ? AND tenant_id = ? AND status = 'pending' AND expires_at > ? RETURNING id
                """, [.ms(now), .text(id), .text(tenantID), .ms(now)])
            if rows.isEmpty {
                let exists = try tx.execute("SELECT 1 AS one FROM verifications WHERE id = ? AND tenant_id = ?", [.text(id), .text(tenantID)])
                return exists.isEmpty ? nil : false
            }
            Self.withdrawQueued(tx, verificationID: id)
            try Self.insert(tx, events: [Event(tenantID: tenantID, verificationID: id, type: "verification.canceled", createdAt: now, data: ["reason": "api"])])
            return true
        }
    }

    public func events(verificationID: String, tenantID: String) async throws -> [Event] {
        try await read { tx in
            try await tx.query(
                "SELECT id, tenant_id, verification_id, type, created_at, data FROM events WHERE verification_id = ? AND tenant_id = ? ORDER BY seq",
                [.text(verificationID), .text(tenantID)]
            ).map(StoredRecords.event)
        }
    }

    public func failedChecks(tenantID: String, to: String, purpose: Purpose, now: Date, windowSeconds: Int) async throws -> FailedCheckCount {
        try await read { tx in
            let rows = try await tx.query(
                "SELECT count, last_failed_at FROM failed_checks WHERE tenant_id = ? AND to_number = ? AND purpose = ? AND last_failed_at > ?",
                [.text(tenantID), .text(to), .text(purpose.rawValue), .integer(Int(Timestamp.millis(now)) - windowSeconds * 1000)])
            guard let row = rows.first else { return FailedCheckCount(count: 0, lastFailedAt: nil) }
            return FailedCheckCount(count: try row.int("count"), lastFailedAt: try row.date("last_failed_at"))
        }
    }

    public func expireDue(now: Date, limit: Int) async throws -> Int {
        try await db.inlineWrite { tx in
            let rows = try tx.execute(
                """
                UPDATE verifications SET status = 'expired', sealed_key_id = NULL, sealed_box = NULL, updated_at = ?
                WHERE id IN (SELECT id FROM verifications WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?)
                RETURNING id, tenant_id
                """, [.ms(now), .ms(now), .integer(limit)])
            var events: [Event] = []
            for row in rows {
                events.append(Event(tenantID: try row.string("tenant_id"), verificationID: try row.string("id"), type: "verification.expired", createdAt: now))
            }
            Self.withdrawQueued(tx, verificationIDs: events.compactMap(\.verificationID))
            try Self.insert(tx, events: events)
            return rows.count
        }
    }

    // MARK: shared statements

    /// Withdraws the queued sends of verifications (their code may no longer travel).
    static func withdrawQueued(_ tx: SQLiteExecutor.Tx, verificationIDs ids: [String]) {
        guard !ids.isEmpty else { return }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        tx.enqueue("UPDATE deliveries SET status = 'canceled' WHERE status = 'queued' AND verification_id IN (\(marks))", ids.map(SQLiteData.text))
        tx.enqueue("UPDATE jobs SET done = 1 WHERE done = 0 AND verification_id IN (\(marks))", ids.map(SQLiteData.text))
    }

    static func withdrawQueued(_ tx: SQLiteExecutor.Tx, verificationID: String) {
        withdrawQueued(tx, verificationIDs: [verificationID])
    }

    static func insert(_ tx: SQLiteExecutor.Tx, delivery d: Delivery) {
        tx.enqueue(
            """
            INSERT INTO deliveries (id, verification_id, tenant_id, channel, provider, status, plan_index, queued_at, sent_at,
                delivered_at, read_at, failed_at, error, provider_message_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """,
            [.text(d.id), .text(d.verificationID), .text(d.tenantID), .text(d.channel.rawValue), .text(d.provider),
             .text(d.status.rawValue), .integer(d.planIndex), .ms(d.queuedAt), .ms(d.sentAt), .ms(d.deliveredAt),
             .ms(d.readAt), .ms(d.failedAt), .text(d.error), .text(d.providerMessageID)])
    }

    static func insert(_ tx: SQLiteExecutor.Tx, job: DeliveryJobRecord) {
        tx.enqueue(
            "INSERT INTO jobs (id, kind, delivery_id, verification_id, tenant_id, due_at) VALUES (?,?,?,?,?,?)",
            [.text(job.id), .text(job.kind.rawValue), .text(job.deliveryID), .text(job.verificationID), .text(job.tenantID), .ms(job.dueAt)])
    }

    /// Events as the `VALUES` placeholders and binds of an insert, their data already in JSON:
    /// encoding is done before a unit reaches the writer's thread, which every write waits for.
    struct EncodedEvents: Sendable {
        let values: String
        let binds: [SQLiteData]

        init(_ events: [Event]) throws {
            var binds: [SQLiteData] = []
            binds.reserveCapacity(events.count * 6)
            for e in events {
                binds += [.text(e.id), .text(e.tenantID), .text(e.verificationID), .text(e.type), .ms(e.createdAt), .text(try EventRollupFields.shared.encode(e))]
            }
            self.values = Array(repeating: "(?,?,?,?,?,?)", count: events.count).joined(separator: ",")
            self.binds = binds
        }
    }

    /// Inserts events.
    static func insert(_ tx: SQLiteExecutor.Tx, events: [Event]) throws {
        guard !events.isEmpty else { return }
        insert(tx, events: try EncodedEvents(events))
    }

    /// Inserts events encoded beforehand.
    static func insert(_ tx: SQLiteExecutor.Tx, events: EncodedEvents) {
        guard !events.binds.isEmpty else { return }
        tx.enqueue("INSERT INTO events (id, tenant_id, verification_id, type, created_at, data) VALUES " + events.values, events.binds)
    }

    static func loadVerification(_ tx: SQLiteExecutor.Tx, id: String, tenantID: String, deliveries: Bool = true) async throws -> Verification? {
        let rows = try await tx.query("SELECT \(StoredRecords.verificationColumns) FROM verifications WHERE id = ? AND tenant_id = ?", [.text(id), .text(tenantID)])
        guard let row = rows.first else { return nil }
        var v = try StoredRecords.verification(row)
        if deliveries { v.deliveries = try await loadDeliveries(tx, verificationID: id) }
        return v
    }

    static func loadDeliveries(_ tx: SQLiteExecutor.Tx, verificationID: String) async throws -> [Delivery] {
        try await tx.query("SELECT * FROM deliveries WHERE verification_id = ? ORDER BY queued_at, rowid", [.text(verificationID)])
            .map(StoredRecords.delivery)
    }


}
