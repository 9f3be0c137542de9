public import Foundation
public import SandiCore
import SandiStorage

extension PostgresStore {
    public func claimDue(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [ClaimedJob] {
        try await write { tx in
            // Jobs another node holds (row lock or live lease) are skipped, never waited for.
            let claimed = try await tx.query(
                """
                UPDATE jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM jobs WHERE NOT done AND due_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
                    ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
                RETURNING id, kind, delivery_id, verification_id, tenant_id, due_at, attempts
                """, [.text(owner), .ms(now.addingTimeInterval(leaseSeconds)), .ms(now), .int(limit)])
            guard !claimed.isEmpty else { return [] }
            let jobs = try claimed.map { row in (job: try StoredRecords.job(row), attempt: try row.int("attempts")) }
            let verifications = try await tx.query(
                "SELECT \(StoredRecords.verificationColumns) FROM verifications WHERE id = ANY($1)", [.texts(Array(Set(jobs.map(\.job.verificationID))))]
            ).reduce(into: [String: Verification]()) { map, row in
                let v = try StoredRecords.verification(row)
                map[v.id] = v
            }
            // Receipt timers judge against every delivery of their verification.
            let watched = Set(jobs.filter { $0.job.kind == .fallback }.map(\.job.verificationID))
            let deliveries = try await tx.query(
                "SELECT * FROM deliveries WHERE id = ANY($1) OR verification_id = ANY($2) ORDER BY queued_at, seq",
                [.texts(jobs.map(\.job.deliveryID)), .texts(Array(watched))]
            ).map(StoredRecords.delivery)
            let (out, withdrawn) = ClaimedJobs.assemble(jobs, verifications: verifications, deliveries: deliveries, now: now)
            if !withdrawn.isEmpty {
                // The code may no longer travel (approved, canceled, locked, expired): withdraw the send.
                try await tx.query(
                    "UPDATE deliveries SET status = 'canceled' WHERE status = 'queued' AND id IN (SELECT delivery_id FROM jobs WHERE id = ANY($1))",
                    [.texts(withdrawn)])
                try await tx.query("UPDATE jobs SET done = true, lease_until = NULL WHERE id = ANY($1)", [.texts(withdrawn)])
            }
            return out
        }
    }

    public func complete(_ outcome: SendOutcome) async throws -> Bool {
        try await write { tx in
            // Rows are locked verification first, as a check or a start locks them, so concurrent
            // units cannot deadlock on the pair.
            let verification = try await tx.query(
                "SELECT status, expires_at, sends_used, max_sends, to_number FROM verifications WHERE id = $1 FOR NO KEY UPDATE",
                [.text(outcome.verificationID)]).first
            // Only the lease holder's outcome counts.
            let closed = try await tx.query(
                "UPDATE jobs SET done = true, lease_until = NULL WHERE id = $1 AND NOT done AND lease_owner = $2 RETURNING id",
                [.text(outcome.jobID), .text(outcome.leaseOwner)])
            guard !closed.isEmpty else { return false }
            let at = PGValue.ms(outcome.at)
            let reached = outcome.status == .delivered || outcome.status == .read
            try await tx.query(
                """
                UPDATE deliveries SET status = $1, provider_message_id = $2, error = $3,
                    sent_at = CASE WHEN $4 THEN COALESCE(sent_at, $5) ELSE sent_at END,
                    delivered_at = CASE WHEN $6 THEN COALESCE(delivered_at, $5) ELSE delivered_at END,
                    read_at = CASE WHEN $7 THEN COALESCE(read_at, $5) ELSE read_at END,
                    failed_at = CASE WHEN $8 THEN COALESCE(failed_at, $5) ELSE failed_at END
                WHERE id = $9 AND status = 'queued'
                """,
                [.text(outcome.status.rawValue), .text(outcome.providerMessageID), .text(outcome.error),
                 .bool(outcome.status.rank >= 1 && !outcome.status.isFailure && outcome.status != .canceled), at,
                 .bool(reached), .bool(outcome.status == .read), .bool(outcome.status.isFailure), .text(outcome.deliveryID)])
            try await Self.insert(tx, events: outcome.events)
            let pending = verification.map { (try? $0.string("status")) == "pending" } ?? false
            if let fallback = outcome.fallback {
                // The next step is queued only while the verification is pending, unexpired and has sends left.
                let counted = try await tx.query(
                    """
                    UPDATE verifications SET sends_used = sends_used + 1, channel = $1, plan_index = $2, updated_at = $3
                    WHERE id = $4 AND status = 'pending' AND expires_at > $3 AND sends_used < max_sends RETURNING id
                    """,
                    [.text(fallback.delivery.channel.rawValue), .int(fallback.delivery.planIndex), at, .text(outcome.verificationID)])
                if !counted.isEmpty {
                    try await Self.insert(tx, delivery: fallback.delivery)
                    try await Self.insert(tx, job: fallback.job)
                    try await Self.insert(tx, events: fallback.events)
                }
            }
            if let timer = outcome.timer, pending {
                try await Self.insert(tx, job: timer)
            }
            if let to = try verification?.string("to_number") {
                if let until = outcome.unusableUntil {
                    try await Self.rememberUnusable(tx, deliveryID: outcome.deliveryID, until: until)
                } else if outcome.status.reachedPhone {
                    try await tx.query(
                        "DELETE FROM channel_memory WHERE tenant_id = $1 AND to_number = $2 AND channel = (SELECT channel FROM deliveries WHERE id = $3)",
                        [.text(outcome.tenantID), .text(to), .text(outcome.deliveryID)])
                    try await Self.rememberWorked(tx, deliveryID: outcome.deliveryID, at: outcome.at)
                }
            }
            return true
        }
    }

    public func release(jobID: String, owner: String, dueAt: Date) async throws {
        _ = try await read { tx in
            try await tx.query(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, due_at = $1 WHERE id = $2 AND NOT done AND lease_owner = $3",
                [.ms(dueAt), .text(jobID), .text(owner)])
        }
    }

    public func applyReceipt(deliveryID: String, status: DeliveryStatus, at: Date, error: String?, events: [Event], unusableUntil: Date?) async throws -> Delivery? {
        try await write { tx in
            guard let row = try await tx.query("SELECT * FROM deliveries WHERE id = $1 FOR UPDATE", [.text(deliveryID)]).first else { return nil }
            var d = try StoredRecords.delivery(row)
            guard d.apply(status, at: at, error: error) else { return d }
            try await tx.query(
                "UPDATE deliveries SET status = $1, error = $2, sent_at = $3, delivered_at = $4, read_at = $5, failed_at = $6 WHERE id = $7",
                [.text(d.status.rawValue), .text(d.error), .ms(d.sentAt), .ms(d.deliveredAt), .ms(d.readAt), .ms(d.failedAt), .text(d.id)])
            if d.status == .undeliverable, let unusableUntil {
                try await Self.rememberUnusable(tx, deliveryID: d.id, until: unusableUntil)
            }
            if d.status.isFailure {
                try await tx.query("UPDATE jobs SET due_at = LEAST(due_at, $1) WHERE delivery_id = $2 AND kind = 'fallback' AND NOT done", [.ms(at), .text(d.id)])
            } else if d.status.reachedPhone {
                try await Self.rememberWorked(tx, deliveryID: d.id, at: at)
            }
            try await Self.insert(tx, events: events)
            return d
        }
    }

    public func delivery(id: String) async throws -> Delivery? {
        try await read { tx in try await tx.query("SELECT * FROM deliveries WHERE id = $1", [.text(id)]).first.map(StoredRecords.delivery) }
    }

    public func delivery(provider: String, providerMessageID: String) async throws -> Delivery? {
        try await read { tx in
            try await tx.query("SELECT * FROM deliveries WHERE provider = $1 AND provider_message_id = $2 ORDER BY queued_at DESC LIMIT 1",
                               [.text(provider), .text(providerMessageID)]).first.map(StoredRecords.delivery)
        }
    }

    public func nextDueAt() async throws -> Date? {
        try await read { tx in
            try await tx.query("SELECT MIN(GREATEST(due_at, COALESCE(lease_until, due_at))) AS due FROM jobs WHERE NOT done").first?.optionalDate("due")
        }
    }

    public func channelMemory(tenantID: String, to: String, now: Date) async throws -> ChannelMemory {
        try await read { tx in
            var memory = ChannelMemory()
            let rows = try await tx.query(
                "SELECT 'u' AS kind, channel, unusable_until AS at FROM channel_memory WHERE tenant_id = $1 AND to_number = $2 AND unusable_until > $3 "
                + "UNION ALL SELECT 'w', channel, at FROM last_worked WHERE tenant_id = $1 AND to_number = $2",
                [.text(tenantID), .text(to), .ms(now)])
            for row in rows {
                guard let channel = SandiCore.Channel(rawValue: try row.string("channel")) else { continue }
                if try row.string("kind") == "u" { memory.unusable.insert(channel) } else { memory.lastWorked = (channel, try row.date("at")) }
            }
            return memory
        }
    }

    public func pendingJobCount() async throws -> Int {
        try await read { tx in try await tx.query("SELECT COUNT(*) AS n FROM jobs WHERE NOT done").first?.optionalInt("n") ?? 0 }
    }

    /// Remembers a channel as unusable for a number (the delivery's tenant and channel).
    static func rememberUnusable(_ tx: PGTx, deliveryID: String, until: Date) async throws {
        try await tx.query(
            """
            INSERT INTO channel_memory (tenant_id, to_number, channel, unusable_until)
            SELECT d.tenant_id, v.to_number, d.channel, $2 FROM deliveries d JOIN verifications v ON v.id = d.verification_id WHERE d.id = $1
            ON CONFLICT (tenant_id, to_number, channel) DO UPDATE SET unusable_until = excluded.unusable_until
            """, [.text(deliveryID), .ms(until)])
    }

    /// Remembers the channel that got a code to the phone, for the next verification to the number.
    static func rememberWorked(_ tx: PGTx, deliveryID: String, at: Date) async throws {
        try await tx.query(
            """
            INSERT INTO last_worked (tenant_id, to_number, channel, at)
            SELECT d.tenant_id, v.to_number, d.channel, $2 FROM deliveries d JOIN verifications v ON v.id = d.verification_id WHERE d.id = $1
            ON CONFLICT (tenant_id, to_number) DO UPDATE SET channel = excluded.channel, at = excluded.at
            """, [.text(deliveryID), .ms(at)])
    }
}
