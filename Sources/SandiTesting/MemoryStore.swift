public import Foundation
public import SandiCore

/// The in-memory twin of every storage port: a real implementation (an actor over dictionaries)
/// that passes the same contract suite as SQLite. Used by tests and by in-process simulations.
public actor MemoryStore: SandiStore {
    var verifications: [String: Verification] = [:]
    var deliveries: [String: Delivery] = [:]
    var deliveryOrder: [String: [String]] = [:]
    var jobs: [String: JobState] = [:]
    var events: [Event] = []
    var failed: [String: FailedCheckCount] = [:]
    var grants: [String: Grant] = [:]
    var tenantsByID: [String: Tenant] = [:]
    var keysByID: [String: APIKeyRecord] = [:]
    var idempotency: [String: (hash: String, response: StoredResponse?, at: Date)] = [:]
    var outboxMessages: [OutboxMessage] = []
    var unusable: [String: Date] = [:]
    var riskState: [String: RiskStateValue] = [:]
    var lastWorked: [String: (channel: Channel, at: Date)] = [:]
    var outboxDeliveries: Set<String> = []
    var webhookList: [Webhook] = []
    var webhookQueue: [String: (delivery: WebhookDelivery, owner: String?, leaseUntil: Date?)] = [:]
    /// Events before this index were fanned out to webhooks (nil: not started, begins at the end).
    var webhookCursor: Int?
    /// Pending verifications by tenant, destination and purpose, so a start finds what it
    /// supersedes without scanning everything (simulations hold 100,000s of verifications).
    var live: [String: Set<String>] = [:]
    var noticeList: [(notice: Notice, done: Bool, owner: String?, leaseUntil: Date?)] = []
    /// Chain links of sealed events, by position in `events` (seq = index + 1).
    var links: [Int: (previous: String, hash: String)] = [:]
    /// The cockpit's aggregates, keyed without their counts.
    var rollupTable: [RollupDelta: (count: Int64, total: Double)] = [:]
    /// Events before this index were removed by retention (kept in the array so positions stay).
    var purged = 0
    var checkpoint: AuditCheckpoint?

    static func liveKey(_ tenantID: String, _ to: String, _ purpose: Purpose) -> String { "\(tenantID)|\(to)|\(purpose.rawValue)" }

    /// Jobs are kept only while open: a finished job is removed, which every operation treats as
    /// "done" (a completion or claim of it answers as for a done job).
    struct JobState {
        var record: DeliveryJobRecord
        var leaseOwner: String?
        var leaseUntil: Date?
        var attempts = 0
    }

    public init() {}

    // MARK: VerificationStore

    public func create(_ creation: VerificationCreation) async throws -> CreationOutcome {
        var new = creation.verification
        let now = new.createdAt
        let failedCount = try await failedChecks(tenantID: new.tenantID, to: new.to, purpose: new.purpose, now: now, windowSeconds: creation.failedCheckWindowSeconds)
        if failedCount.count >= creation.failedCheckCap {
            return .limited(lastFailedAt: failedCount.lastFailedAt ?? now)
        }
        if creation.failedCheckCap != .max {
            new.maxAttempts = min(new.maxAttempts, creation.failedCheckCap - failedCount.count)
        }
        let key = Self.liveKey(new.tenantID, new.to, new.purpose)
        let superseded = !creation.supersedes ? [] : (live[key] ?? []).sorted()
        for id in superseded {
            finalize(id, as: .canceled, now: now)
            events.append(Event(tenantID: new.tenantID, verificationID: id, type: "verification.canceled", createdAt: now,
                                data: ["reason": "superseded", "superseded_by": .string(new.id)]))
        }
        var stored = new
        stored.deliveries = []
        verifications[new.id] = stored
        if stored.status == .pending { live[key, default: []].insert(stored.id) }
        for delivery in new.deliveries { insert(delivery) }
        if let job = creation.job { jobs[job.id] = JobState(record: job) }
        events.append(contentsOf: creation.events)
        return .created(superseded: superseded, maxAttempts: new.maxAttempts)
    }

    public func verification(id: String, tenantID: String, deliveries: Bool) async throws -> Verification? {
        guard let v = verifications[id], v.tenantID == tenantID else { return nil }
        return deliveries ? withDeliveries(v) : v
    }

    public func liveVerification(tenantID: String, to: String, purpose: Purpose, now: Date) async throws -> Verification? {
        verifications.values
            .filter { $0.tenantID == tenantID && $0.to == to && $0.purpose == purpose && $0.status == .pending && $0.expiresAt > now }
            .max { $0.createdAt < $1.createdAt }
            .map(withDeliveries)
    }

    public func applyCheck(_ check: CheckRecord) async throws -> CheckApplied {
        guard var v = verifications[check.verificationID], v.tenantID == check.tenantID else { return .notFound }
        guard v.status == .pending, v.expiresAt > check.now, v.attemptsUsed < v.maxAttempts else {
            return .unchanged(v)
        }
        let key = failedKey(v.tenantID, v.to, v.purpose)
        if check.valid {
            finalize(v.id, as: .approved, now: check.now)
            if let grant = check.grant { grants[grant.tokenHash] = grant }
            failed[key] = nil
            events.append(Event(tenantID: v.tenantID, verificationID: v.id, type: "verification.approved", createdAt: check.now,
                                data: ["attempts_used": .number(Double(v.attemptsUsed + 1)), "grant": .bool(check.grant != nil)]))
            return .approved(verifications[v.id]!)
        }
        v.attemptsUsed += 1
        v.updatedAt = check.now
        verifications[v.id] = v
        var count = failed[key] ?? FailedCheckCount(count: 0, lastFailedAt: nil)
        if let last = count.lastFailedAt, check.now.timeIntervalSince(last) >= Double(check.failedCheckWindowSeconds) { count.count = 0 }
        count.count += 1
        count.lastFailedAt = check.now
        failed[key] = count
        events.append(Event(tenantID: v.tenantID, verificationID: v.id, type: "verification.check_failed", createdAt: check.now,
                            data: ["attempts_remaining": .number(Double(v.attemptsRemaining))]))
        if v.attemptsUsed >= v.maxAttempts {
            finalize(v.id, as: .locked, now: check.now)
            events.append(Event(tenantID: v.tenantID, verificationID: v.id, type: "verification.locked", createdAt: check.now))
        }
        return .rejected(verifications[v.id]!)
    }

    public func applyResend(_ resend: ResendRecord) async throws -> Bool {
        guard var v = verifications[resend.verificationID], v.tenantID == resend.tenantID, v.status == .pending,
              v.expiresAt > resend.now, v.sendsUsed == resend.expectedSendsUsed, v.sendsUsed < v.maxSends
        else { return false }
        v.sendsUsed += 1
        v.resends += 1
        v.channel = resend.channel
        v.planIndex = resend.planIndex
        v.resendAvailableAt = resend.resendAvailableAt
        v.updatedAt = resend.now
        verifications[v.id] = v
        insert(resend.delivery)
        jobs[resend.job.id] = JobState(record: resend.job)
        events.append(contentsOf: resend.events)
        return true
    }

    public func cancel(id: String, tenantID: String, now: Date) async throws -> Bool? {
        guard let v = verifications[id], v.tenantID == tenantID else { return nil }
        guard v.status == .pending, v.expiresAt > now else { return false }
        finalize(id, as: .canceled, now: now)
        events.append(Event(tenantID: tenantID, verificationID: id, type: "verification.canceled", createdAt: now, data: ["reason": "api"]))
        return true
    }

    public func events(verificationID: String, tenantID: String) async throws -> [Event] {
        events[purged...].filter { $0.verificationID == verificationID && $0.tenantID == tenantID }
    }

    public func failedChecks(tenantID: String, to: String, purpose: Purpose, now: Date, windowSeconds: Int) async throws -> FailedCheckCount {
        guard let count = failed[failedKey(tenantID, to, purpose)], let last = count.lastFailedAt,
              now.timeIntervalSince(last) < Double(windowSeconds)
        else { return FailedCheckCount(count: 0, lastFailedAt: nil) }
        return count
    }

    public func expireDue(now: Date, limit: Int) async throws -> Int {
        let due = live.values.flatMap { $0 }.compactMap { verifications[$0] }.filter { $0.status == .pending && $0.expiresAt <= now }
            .sorted { ($0.expiresAt, $0.id) < ($1.expiresAt, $1.id) }.prefix(limit)
        for v in due {
            finalize(v.id, as: .expired, now: now)
            events.append(Event(tenantID: v.tenantID, verificationID: v.id, type: "verification.expired", createdAt: now))
        }
        return due.count
    }

    // MARK: DeliveryQueue

    public func claimDue(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [ClaimedJob] {
        let due = jobs.values.filter { $0.record.dueAt <= now && ($0.leaseUntil.map { $0 <= now } ?? true) }
            .sorted { ($0.record.dueAt, $0.record.id) < ($1.record.dueAt, $1.record.id) }
        var claimed: [ClaimedJob] = []
        for var state in due where claimed.count < limit {
            guard let v = verifications[state.record.verificationID], let d = deliveries[state.record.deliveryID] else {
                jobs[state.record.id] = nil
                continue
            }
            guard v.status == .pending, v.expiresAt > now, state.record.kind == .fallback || d.status == .queued else {
                jobs[state.record.id] = nil
                if d.status == .queued { deliveries[d.id]?.status = .canceled }
                continue
            }
            state.leaseOwner = owner
            state.leaseUntil = now.addingTimeInterval(leaseSeconds)
            state.attempts += 1
            jobs[state.record.id] = state
            claimed.append(ClaimedJob(job: state.record, delivery: d, verification: withDeliveries(v), attempt: state.attempts))
        }
        return claimed
    }

    public func complete(_ outcome: SendOutcome) async throws -> Bool {
        guard let state = jobs[outcome.jobID], state.leaseOwner == outcome.leaseOwner else { return false }
        jobs[outcome.jobID] = nil
        if var d = deliveries[outcome.deliveryID], d.status == .queued {
            d.apply(outcome.status, at: outcome.at, error: outcome.error)
            d.providerMessageID = outcome.providerMessageID
            deliveries[d.id] = d
        }
        events.append(contentsOf: outcome.events)
        if let fallback = outcome.fallback, var v = verifications[outcome.verificationID], v.status == .pending,
           v.expiresAt > outcome.at, v.sendsUsed < v.maxSends {
            v.sendsUsed += 1
            v.channel = fallback.delivery.channel
            v.planIndex = fallback.delivery.planIndex
            v.updatedAt = outcome.at
            verifications[v.id] = v
            insert(fallback.delivery)
            jobs[fallback.job.id] = JobState(record: fallback.job)
            events.append(contentsOf: fallback.events)
        }
        if let timer = outcome.timer, verifications[outcome.verificationID]?.status == .pending {
            jobs[timer.id] = JobState(record: timer)
        }
        if let d = deliveries[outcome.deliveryID], let v = verifications[outcome.verificationID] {
            let key = "\(v.tenantID)|\(v.to)|\(d.channel.rawValue)"
            if let until = outcome.unusableUntil { unusable[key] = until }
            if outcome.status.reachedPhone { unusable[key] = nil }
            if outcome.status.reachedPhone, let d = deliveries[outcome.deliveryID] { rememberWorked(d, at: outcome.at) }
        }
        return true
    }

    public func release(jobID: String, owner: String, dueAt: Date) async throws {
        guard var state = jobs[jobID], state.leaseOwner == owner else { return }
        state.leaseOwner = nil
        state.leaseUntil = nil
        state.record.dueAt = dueAt
        jobs[jobID] = state
    }

    public func applyReceipt(deliveryID: String, status: DeliveryStatus, at: Date, error: String?, events: [Event], unusableUntil: Date?) async throws -> Delivery? {
        guard var d = deliveries[deliveryID] else { return nil }
        guard d.apply(status, at: at, error: error) else { return d }
        deliveries[d.id] = d
        if d.status.reachedPhone { rememberWorked(d, at: at) }
        if d.status == .undeliverable, let unusableUntil, let v = verifications[d.verificationID] {
            unusable["\(v.tenantID)|\(v.to)|\(d.channel.rawValue)"] = unusableUntil
        }
        if d.status.isFailure {
            for (id, job) in jobs where job.record.deliveryID == d.id && job.record.kind == .fallback {
                jobs[id]?.record.dueAt = min(job.record.dueAt, at)
            }
        }
        self.events.append(contentsOf: events)
        return d
    }

    public func delivery(id: String) async throws -> Delivery? { deliveries[id] }

    public func delivery(provider: String, providerMessageID: String) async throws -> Delivery? {
        deliveries.values.first { $0.provider == provider && $0.providerMessageID == providerMessageID }
    }

    public func nextDueAt() async throws -> Date? {
        jobs.values.map { max($0.record.dueAt, $0.leaseUntil ?? $0.record.dueAt) }.min()
    }

    public func pendingJobCount() async throws -> Int { jobs.count }

    public func channelMemory(tenantID: String, to: String, now: Date) async throws -> ChannelMemory {
        ChannelMemory(
            unusable: Set(Channel.allCases.filter { channel in unusable["\(tenantID)|\(to)|\(channel.rawValue)"].map { $0 > now } ?? false }),
            lastWorked: lastWorked["\(tenantID)|\(to)"])
    }

    private func rememberWorked(_ d: Delivery, at: Date) {
        guard let v = verifications[d.verificationID] else { return }
        lastWorked["\(v.tenantID)|\(v.to)"] = (d.channel, at)
    }

    // MARK: TenantStore

    public func createTenant(_ tenant: Tenant) async throws {
        guard !tenantsByID.values.contains(where: { $0.name == tenant.name }) else { throw StoreError.conflict("tenant name taken") }
        tenantsByID[tenant.id] = tenant
    }

    public func tenant(named name: String) async throws -> Tenant? { tenantsByID.values.first { $0.name == name } }
    public func tenant(id: String) async throws -> Tenant? { tenantsByID[id] }
    public func tenants() async throws -> [Tenant] { tenantsByID.values.sorted { ($0.createdAt, $0.name) < ($1.createdAt, $1.name) } }
    public func addKey(_ key: APIKeyRecord) async throws { keysByID[key.id] = key }

    public func setAllowedCountries(tenantID: String, countries: Set<String>?) async throws -> Bool {
        guard tenantsByID[tenantID] != nil else { return false }
        tenantsByID[tenantID]?.allowedCountries = countries
        return true
    }

    public func revokeKey(id: String, now: Date) async throws -> Bool {
        guard var key = keysByID[id], key.revokedAt == nil else { return false }
        key.revokedAt = now
        keysByID[id] = key
        return true
    }

    public func keys(tenantID: String) async throws -> [APIKeyRecord] {
        keysByID.values.filter { $0.tenantID == tenantID }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func tenant(forKeyHash hash: String) async throws -> Tenant? {
        guard let key = keysByID.values.first(where: { $0.hash == hash && $0.revokedAt == nil }) else { return nil }
        return tenantsByID[key.tenantID]
    }

    // MARK: GrantStore

    public func redeemGrant(tokenHash: String, tenantID: String, now: Date) async throws -> RedeemOutcome {
        guard var grant = grants[tokenHash], grant.tenantID == tenantID else { return .notFound }
        if grant.redeemedAt != nil { return .alreadyRedeemed }
        if grant.expiresAt <= now { return .expired }
        grant.redeemedAt = now
        grants[tokenHash] = grant
        events.append(Event(tenantID: tenantID, verificationID: grant.verificationID, type: "grant.redeemed", createdAt: now))
        return .redeemed(grant)
    }

    // MARK: IdempotencyStore

    public func beginIdempotent(tenantID: String, scope: String, key: String, requestHash: String, now: Date) async throws -> IdempotencyBegin {
        let id = [tenantID, scope, key].joined(separator: "\u{1}")
        if let existing = idempotency[id], now.timeIntervalSince(existing.at) < Double(IdempotencyRules.keepSeconds),
           existing.response != nil || now.timeIntervalSince(existing.at) < Double(IdempotencyRules.abandonedAfterSeconds) {
            guard existing.hash == requestHash else { return .mismatch }
            return existing.response.map(IdempotencyBegin.replay) ?? .inProgress
        }
        idempotency[id] = (requestHash, nil, now)
        return .proceed
    }

    public func finishIdempotent(tenantID: String, scope: String, key: String, response: StoredResponse, now: Date) async throws {
        let id = [tenantID, scope, key].joined(separator: "\u{1}")
        guard let existing = idempotency[id] else { return }
        idempotency[id] = (existing.hash, response, existing.at)
    }

    public func abandonIdempotent(tenantID: String, scope: String, key: String) async throws {
        idempotency[[tenantID, scope, key].joined(separator: "\u{1}")] = nil
    }

    // MARK: OutboxStore

    public func appendOutbox(_ message: OutboxMessage) async throws -> Bool {
        guard outboxDeliveries.insert(message.deliveryID).inserted else { return false }
        outboxMessages.append(message)
        return true
    }

    public func outbox(tenantID: String, to: String?, limit: Int) async throws -> [OutboxMessage] {
        Array(outboxMessages.filter { $0.tenantID == tenantID && (to == nil || $0.to == to) }
            .sorted { ($0.sentAt, $0.id) > ($1.sentAt, $1.id) }.prefix(limit))
    }

    public func ping() async throws {}

    // MARK: AuditStore

    public func sealAudit(limit: Int) async throws -> Int {
        let firstUnsealed = links.count
        let records = try (firstUnsealed..<min(events.count, firstUnsealed + limit)).map { try auditRecord($0) }
        let head = firstUnsealed > 0 ? links[firstUnsealed - 1]?.hash : nil
        for link in AuditChain.seal(records, after: head) { links[Int(link.seq) - 1] = (link.previous, link.hash) }
        for delta in Rollups.deltas(for: records) {
            var key = delta
            key.count = 0
            key.total = 0
            let (count, total) = rollupTable[key] ?? (0, 0)
            rollupTable[key] = (count + delta.count, total + delta.total)
        }
        return records.count
    }

    public func latestAudit(beforePosition: Int64?, limit: Int) async throws -> [AuditRecord] {
        let end = min(events.count, Int(min(beforePosition ?? Int64(events.count + 1), Int64(events.count + 1))) - 1)
        guard end > purged else { return [] }
        return try (max(purged, end - limit)..<end).reversed().map { try auditRecord($0) }
    }

    public func purgeAudit(before: Date, limit: Int) async throws -> Int {
        var count = 0
        let fannedOut = webhookCursor ?? Int.max
        while count < limit, purged < events.count, purged < fannedOut, let link = links[purged], events[purged].createdAt < before {
            checkpoint = AuditCheckpoint(seq: Int64(purged + 1), hash: link.hash)
            purged += 1
            count += 1
        }
        return count
    }

    public func auditCheckpoint() async throws -> AuditCheckpoint? { checkpoint }

    public func rollups(tenantID: String?, span: Int, from: Date, to: Date, metrics: [String]?) async throws -> [RollupDelta] {
        let lower = Int64(from.timeIntervalSince1970.rounded(.down))
        let upper = Int64(to.timeIntervalSince1970.rounded(.up))
        return rollupTable.compactMap { key, value in
            guard key.span == span, key.bucket >= lower, key.bucket < upper, tenantID.map({ $0 == key.tenantID }) ?? true,
                  metrics.map({ $0.isEmpty || $0.contains(key.metric) }) ?? true else { return nil }
            var row = key
            row.count = value.count
            row.total = value.total
            return row
        }
    }

    public func auditRecords(afterSeq: Int64, limit: Int) async throws -> [AuditRecord] {
        let start = max(purged, Int(afterSeq))
        return try (start..<max(start, min(events.count, start + limit))).map { try auditRecord($0) }
    }

    private func auditRecord(_ index: Int) throws -> AuditRecord {
        let e = events[index]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return AuditRecord(
            seq: Int64(index + 1), eventID: e.id, tenantID: e.tenantID, verificationID: e.verificationID, type: e.type,
            createdAtMillis: Timestamp.millis(e.createdAt), data: String(decoding: try encoder.encode(e.data), as: UTF8.self),
            previousHash: links[index]?.previous, hash: links[index]?.hash)
    }

    // MARK: helpers

    private func failedKey(_ tenant: String, _ to: String, _ purpose: Purpose) -> String {
        tenant + "|" + to + "|" + purpose.rawValue
    }

    private func insert(_ delivery: Delivery) {
        deliveries[delivery.id] = delivery
        deliveryOrder[delivery.verificationID, default: []].append(delivery.id)
    }

    /// Every verification with its deliveries (for simulation reports).
    public func allVerifications() -> [Verification] {
        verifications.values.map(withDeliveries).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    private func withDeliveries(_ v: Verification) -> Verification {
        var copy = v
        copy.deliveries = (deliveryOrder[v.id] ?? []).compactMap { deliveries[$0] }
        return copy
    }

    /// Moves a pending verification to a final status: wipes the sealed code, withdraws queued sends.
    private func finalize(_ id: String, as status: VerificationStatus, now: Date) {
        guard var v = verifications[id] else { return }
        live[Self.liveKey(v.tenantID, v.to, v.purpose)]?.remove(id)
        v.status = status
        v.sealed = nil
        v.updatedAt = now
        verifications[id] = v
        for deliveryID in deliveryOrder[id] ?? [] where deliveries[deliveryID]?.status == .queued {
            deliveries[deliveryID]?.status = .canceled
        }
        for (jobID, state) in jobs where state.record.verificationID == id { jobs[jobID] = nil }
    }

}

// MARK: RiskStateStore

extension MemoryStore {
    public func updateRiskState<T: Sendable>(keys: [String], now: Date, _ decide: @escaping @Sendable ([String: String]) throws -> (T, RiskStateWrite)) async throws -> T {
        var state: [String: String] = [:]
        for key in keys {
            if let value = riskState[key], value.expiresAt > now { state[key] = value.value }
        }
        let (result, write) = try decide(state)
        for (key, value) in write.values { riskState[key] = value }
        for grant in write.grants { grants[grant.tokenHash] = grant }
        events.append(contentsOf: write.events)
        return result
    }

    public func riskStates(prefix: String, now: Date, limit: Int) async throws -> [String: String] {
        var out: [String: String] = [:]
        for key in riskState.keys.sorted() where key.hasPrefix(prefix) {
            guard out.count < limit else { break }
            if let value = riskState[key], value.expiresAt > now { out[key] = value.value }
        }
        return out
    }

    public func purgeRiskState(now: Date, limit: Int) async throws -> Int {
        let expired = riskState.filter { $0.value.expiresAt <= now }.keys.sorted().prefix(limit)
        for key in expired { riskState[key] = nil }
        return expired.count
    }
}

// MARK: NoticeQueue

extension MemoryStore {
    public func enqueueNotice(_ notice: Notice, event: Event) async throws {
        noticeList.append((notice, false, nil, nil))
        events.append(event)
    }

    public func claimDueNotices(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [Notice] {
        var out: [Notice] = []
        for i in noticeList.indices where out.count < limit {
            let entry = noticeList[i]
            guard !entry.done, entry.notice.createdAt <= now, entry.leaseUntil.map({ $0 <= now }) ?? true else { continue }
            noticeList[i].owner = owner
            noticeList[i].leaseUntil = now.addingTimeInterval(leaseSeconds)
            noticeList[i].notice.attempts += 1
            out.append(noticeList[i].notice)
        }
        return out
    }

    public func completeNotice(id: String, owner: String, status: DeliveryStatus, at: Date, event: Event) async throws -> Bool {
        guard let i = noticeList.firstIndex(where: { $0.notice.id == id }), !noticeList[i].done, noticeList[i].owner == owner else { return false }
        noticeList[i].done = true
        noticeList[i].leaseUntil = nil
        noticeList[i].notice.status = status
        events.append(event)
        return true
    }

    public func notices(verificationID: String, tenantID: String) async throws -> [Notice] {
        noticeList.map(\.notice).filter { $0.verificationID == verificationID && $0.tenantID == tenantID }
    }
}

// MARK: WebhookStore

extension MemoryStore {
    public func createWebhook(_ webhook: Webhook) async throws {
        webhookList.append(webhook)
        if webhookCursor == nil { webhookCursor = events.count }
    }

    public func webhooks(tenantID: String) async throws -> [Webhook] { webhookList.filter { $0.tenantID == tenantID } }

    public func deleteWebhook(id: String, tenantID: String) async throws -> Bool {
        guard let index = webhookList.firstIndex(where: { $0.id == id && $0.tenantID == tenantID }) else { return false }
        webhookList.remove(at: index)
        for (key, entry) in webhookQueue where entry.delivery.webhookID == id { webhookQueue[key] = nil }
        return true
    }

    public func fanOutEvents(limit: Int, now: Date, payload: @escaping @Sendable (Event) -> String) async throws -> Int {
        let start = webhookCursor ?? events.count
        let batch = events[start..<min(events.count, start + limit)]
        for event in batch {
            for webhook in webhookList where webhook.tenantID == event.tenantID && webhook.wants(event.type) && event.createdAt >= webhook.createdAt {
                let delivery = WebhookDelivery(webhookID: webhook.id, tenantID: webhook.tenantID, eventID: event.id, payload: payload(event), nextAt: now)
                webhookQueue[delivery.id] = (delivery, nil, nil)
            }
        }
        webhookCursor = start + batch.count
        return batch.count
    }

    public func claimWebhookDeliveries(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [(WebhookDelivery, Webhook)] {
        var out: [(WebhookDelivery, Webhook)] = []
        for key in webhookQueue.keys.sorted() where out.count < limit {
            guard var entry = webhookQueue[key], entry.delivery.status == .pending, entry.delivery.nextAt <= now,
                  entry.leaseUntil.map({ $0 <= now }) ?? true,
                  let webhook = webhookList.first(where: { $0.id == entry.delivery.webhookID }) else { continue }
            entry.owner = owner
            entry.leaseUntil = now.addingTimeInterval(leaseSeconds)
            entry.delivery.attempts += 1
            webhookQueue[key] = entry
            out.append((entry.delivery, webhook))
        }
        return out.sorted { ($0.0.nextAt, $0.0.id) < ($1.0.nextAt, $1.0.id) }
    }

    public func finishWebhookDelivery(id: String, owner: String, delivered: Bool, result: String, retryAt: Date?, at: Date) async throws {
        guard var entry = webhookQueue[id], entry.owner == owner, entry.delivery.status == .pending else { return }
        entry.delivery.lastResult = result
        entry.leaseUntil = nil
        if delivered {
            entry.delivery.status = .delivered
        } else if let retryAt {
            entry.delivery.nextAt = retryAt
        } else {
            entry.delivery.status = .dead
        }
        webhookQueue[id] = entry
    }

    public func webhookDeliveries(webhookID: String, tenantID: String, status: WebhookDelivery.Status?, limit: Int) async throws -> [WebhookDelivery] {
        Array(webhookQueue.values.map(\.delivery).filter { $0.webhookID == webhookID && $0.tenantID == tenantID && (status == nil || $0.status == status) }
            .sorted { ($0.nextAt, $0.id) > ($1.nextAt, $1.id) }.prefix(limit))
    }

    public func replayWebhookDelivery(id: String, tenantID: String, now: Date) async throws -> Bool {
        guard var entry = webhookQueue[id], entry.delivery.tenantID == tenantID, entry.delivery.status != .pending else { return false }
        entry.delivery.status = .pending
        entry.delivery.attempts = 0
        entry.delivery.nextAt = now
        entry.owner = nil
        entry.leaseUntil = nil
        webhookQueue[id] = entry
        return true
    }
}
