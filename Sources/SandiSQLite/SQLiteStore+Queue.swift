public import Foundation
public import SandiCore
import NIOCore
import SandiStorage
import SQLiteNIO

extension SQLiteStore {
    public func claimDue(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [ClaimedJob] {
        try await db.deferredWrite { tx in
            let nowMS = SQLiteData.ms(now)
            let claimed = try tx.execute(
                """
                UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM jobs WHERE done = 0 AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                    ORDER BY due_at, id LIMIT ?)
                RETURNING id, kind, delivery_id, verification_id, tenant_id, due_at, attempts
                """, [.text(owner), .ms(now.addingTimeInterval(leaseSeconds)), nowMS, nowMS, .integer(limit)])
            guard !claimed.isEmpty else { return { [] } }
            // Load what the claimed jobs need in two statements, whatever their number.
            let jobs = try claimed.map { row in (job: try StoredRecords.job(row), attempt: try row.int("attempts")) }
            let placeholders = Array(repeating: "?", count: jobs.count).joined(separator: ",")
            let verifications = try tx.execute(
                "SELECT \(StoredRecords.verificationColumns) FROM verifications WHERE id IN (\(placeholders))",
                Array(Set(jobs.map(\.job.verificationID))).map(SQLiteData.text)
            ).reduce(into: [String: Verification]()) { map, row in
                let v = try StoredRecords.verification(row)
                map[v.id] = v
            }
            // Receipt timers judge against every delivery of their verification.
            let watched = Set(jobs.filter { $0.job.kind == .fallback }.map(\.job.verificationID))
            let watchedMarks = Array(repeating: "?", count: watched.count).joined(separator: ",")
            let deliveries = try tx.execute(
                "SELECT * FROM deliveries WHERE id IN (\(placeholders))" + (watched.isEmpty ? "" : " OR verification_id IN (\(watchedMarks))") + " ORDER BY queued_at, rowid",
                jobs.map { .text($0.job.deliveryID) } + watched.map(SQLiteData.text)
            ).map(StoredRecords.delivery)
            let (out, withdrawn) = ClaimedJobs.assemble(jobs, verifications: verifications, deliveries: deliveries, now: now)
            if !withdrawn.isEmpty {
                // The code may no longer travel (approved, canceled, locked, expired): withdraw the send.
                let marks = Array(repeating: "?", count: withdrawn.count).joined(separator: ",")
                tx.enqueue("UPDATE deliveries SET status = 'canceled' WHERE status = 'queued' AND id IN (SELECT delivery_id FROM jobs WHERE id IN (\(marks)))",
                           withdrawn.map(SQLiteData.text))
                tx.enqueue("UPDATE jobs SET done = 1, lease_until = NULL WHERE id IN (\(marks))", withdrawn.map(SQLiteData.text))
            }
            return { out }
        }
    }

    public func complete(_ outcome: SendOutcome) async throws -> Bool {
        let events = try EncodedEvents(outcome.events)
        let fallbackEvents = try EncodedEvents(outcome.fallback?.events ?? [])
        return try await db.deferredWrite { tx in
            // Only the lease holder's outcome counts: nothing else is written unless it closed the job.
            let closed = try tx.execute(
                "UPDATE jobs SET done = 1, lease_until = NULL WHERE id = ? AND done = 0 AND lease_owner = ? RETURNING id",
                [.text(outcome.jobID), .text(outcome.leaseOwner)])
            guard !closed.isEmpty else { return { false } }
            let at = SQLiteData.ms(outcome.at)
            let reached = outcome.status == .delivered || outcome.status == .read
            _ = try tx.execute(
                """
                UPDATE deliveries SET status = ?, provider_message_id = ?, error = ?,
                    sent_at = CASE WHEN ? THEN COALESCE(sent_at, ?) ELSE sent_at END,
                    delivered_at = CASE WHEN ? THEN COALESCE(delivered_at, ?) ELSE delivered_at END,
                    read_at = CASE WHEN ? THEN COALESCE(read_at, ?) ELSE read_at END,
                    failed_at = CASE WHEN ? THEN COALESCE(failed_at, ?) ELSE failed_at END
                WHERE id = ? AND status = 'queued'
                """,
                [.text(outcome.status.rawValue), .text(outcome.providerMessageID), .text(outcome.error),
                 .flag(outcome.status.rank >= 1 && !outcome.status.isFailure && outcome.status != .canceled), at,
                 .flag(reached), at, .flag(outcome.status == .read), at, .flag(outcome.status.isFailure), at,
                 .text(outcome.deliveryID)])
            Self.insert(tx, events: events)
            // The next step is queued only while the verification is pending, unexpired and has sends left.
            if let fallback = outcome.fallback, try !tx.execute(
                "SELECT 1 AS one FROM verifications WHERE id = ? AND status = 'pending' AND expires_at > ? AND sends_used < max_sends",
                [.text(outcome.verificationID), at]).isEmpty {
                let d = fallback.delivery
                Self.insert(tx, delivery: d)
                Self.insert(tx, job: fallback.job)
                Self.insert(tx, events: fallbackEvents)
                _ = try tx.execute(
                    "UPDATE verifications SET sends_used = sends_used + 1, channel = ?, plan_index = ?, updated_at = ? WHERE id = ?",
                    [.text(d.channel.rawValue), .integer(d.planIndex), at, .text(outcome.verificationID)])
            }
            if let timer = outcome.timer {
                _ = try tx.execute(
                    """
                    INSERT INTO jobs (id, kind, delivery_id, verification_id, tenant_id, due_at)
                    SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM verifications WHERE id = ? AND status = 'pending')
                    """,
                    [.text(timer.id), .text(timer.kind.rawValue), .text(timer.deliveryID), .text(timer.verificationID), .text(timer.tenantID),
                     .ms(timer.dueAt), .text(timer.verificationID)])
            }
            if outcome.unusableUntil != nil || outcome.status.reachedPhone, let route = try Self.route(tx, deliveryID: outcome.deliveryID) {
                if let until = outcome.unusableUntil {
                    Self.rememberUnusable(tx, route, until: until)
                } else {
                    _ = try tx.execute("DELETE FROM channel_memory WHERE tenant_id = ? AND to_number = ? AND channel = ?", route.binds)
                    Self.rememberWorked(tx, route, at: outcome.at)
                }
            }
            return { true }
        }
    }

    public func release(jobID: String, owner: String, dueAt: Date) async throws {
        try await db.inlineWrite { tx in
            tx.enqueue(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, due_at = ? WHERE id = ? AND done = 0 AND lease_owner = ?",
                [.ms(dueAt), .text(jobID), .text(owner)])
        }
    }

    public func applyReceipt(deliveryID: String, status: DeliveryStatus, at: Date, error: String?, events: [Event], unusableUntil: Date?) async throws -> Delivery? {
        let encoded = try EncodedEvents(events)
        return try await db.inlineWrite { tx in
            guard let row = try tx.execute("SELECT * FROM deliveries WHERE id = ?", [.text(deliveryID)]).first else { return nil }
            var d = try StoredRecords.delivery(row)
            guard d.apply(status, at: at, error: error) else { return d }
            tx.enqueue(
                "UPDATE deliveries SET status = ?, error = ?, sent_at = ?, delivered_at = ?, read_at = ?, failed_at = ? WHERE id = ?",
                [.text(d.status.rawValue), .text(d.error), .ms(d.sentAt), .ms(d.deliveredAt), .ms(d.readAt), .ms(d.failedAt), .text(d.id)])
            if d.status == .undeliverable, let unusableUntil, let route = try Self.route(tx, deliveryID: d.id) {
                Self.rememberUnusable(tx, route, until: unusableUntil)
            }
            if d.status.isFailure {
                tx.enqueue("UPDATE jobs SET due_at = MIN(due_at, ?) WHERE delivery_id = ? AND kind = 'fallback' AND done = 0", [.ms(at), .text(d.id)])
            } else if d.status.reachedPhone, let route = try Self.route(tx, deliveryID: d.id) {
                Self.rememberWorked(tx, route, at: at)
            }
            Self.insert(tx, events: encoded)
            return d
        }
    }

    public func delivery(id: String) async throws -> Delivery? {
        try await read { tx in try await tx.query("SELECT * FROM deliveries WHERE id = ?", [.text(id)]).first.map(StoredRecords.delivery) }
    }

    public func delivery(provider: String, providerMessageID: String) async throws -> Delivery? {
        try await read { tx in
            try await tx.query("SELECT * FROM deliveries WHERE provider = ? AND provider_message_id = ? ORDER BY queued_at DESC LIMIT 1",
                               [.text(provider), .text(providerMessageID)]).first.map(StoredRecords.delivery)
        }
    }

    public func nextDueAt() async throws -> Date? {
        try await read { tx in
            try await tx.query("SELECT MIN(MAX(due_at, COALESCE(lease_until, due_at))) AS due FROM jobs WHERE done = 0")
                .first?.optionalDate("due")
        }
    }

    public func channelMemory(tenantID: String, to: String, now: Date) async throws -> ChannelMemory {
        try await read { tx in
            var memory = ChannelMemory()
            let rows = try await tx.query(
                "SELECT 'u' AS kind, channel, unusable_until AS at FROM channel_memory WHERE tenant_id = ?1 AND to_number = ?2 AND unusable_until > ?3 "
                + "UNION ALL SELECT 'w', channel, at FROM last_worked WHERE tenant_id = ?1 AND to_number = ?2",
                [.text(tenantID), .text(to), .ms(now)])
            for row in rows {
                guard let channel = SandiCore.Channel(rawValue: try row.string("channel")) else { continue }
                if try row.string("kind") == "u" { memory.unusable.insert(channel) } else { memory.lastWorked = (channel, try row.date("at")) }
            }
            return memory
        }
    }

    /// Where a delivery went: its tenant, number and channel.
    struct Route {
        let tenantID: String, to: String, channel: String
        var binds: [SQLiteData] { [.text(tenantID), .text(to), .text(channel)] }
    }

    /// Reads where a delivery went, so the channel memory and `last_worked` are written with
    /// single-row statements of plain values: inside the batch's transaction, an `INSERT … SELECT` (or an upsert of several rows)
    /// first copies every page it touches into a statement journal, to undo itself alone.
    static func route(_ tx: SQLiteExecutor.Tx, deliveryID: String) throws -> Route? {
        guard let row = try tx.execute(
            "SELECT d.tenant_id AS tenant_id, v.to_number AS to_number, d.channel AS channel FROM deliveries d JOIN verifications v ON v.id = d.verification_id WHERE d.id = ?",
            [.text(deliveryID)]).first else { return nil }
        return Route(tenantID: try row.string("tenant_id"), to: try row.string("to_number"), channel: try row.string("channel"))
    }

    /// Remembers until when the destination cannot use the delivery's channel.
    static func rememberUnusable(_ tx: SQLiteExecutor.Tx, _ route: Route, until: Date) {
        tx.enqueue(
            "INSERT INTO channel_memory (tenant_id, to_number, channel, unusable_until) VALUES (?, ?, ?, ?) "
            + "ON CONFLICT (tenant_id, to_number, channel) DO UPDATE SET unusable_until = excluded.unusable_until",
            route.binds + [.ms(until)])
    }

    /// Remembers the channel that got a code to the phone, for the next verification to the number.
    static func rememberWorked(_ tx: SQLiteExecutor.Tx, _ route: Route, at: Date) {
        tx.enqueue(
            "INSERT INTO last_worked (tenant_id, to_number, channel, at) VALUES (?, ?, ?, ?) "
            + "ON CONFLICT (tenant_id, to_number) DO UPDATE SET channel = excluded.channel, at = excluded.at",
            [.text(route.tenantID), .text(route.to), .text(route.channel), .ms(at)])
    }

    public func pendingJobCount() async throws -> Int {
        try await read { tx in try await tx.query("SELECT COUNT(*) AS n FROM jobs WHERE done = 0").first?.int("n") ?? 0 }
    }
}
