public import Foundation

/// Sends one claimed delivery through its provider and decides what follows: the receipt, or the
/// next step of the plan when the send failed. Talks to providers and storage only through ports.
public struct DeliveryProcessor: Sendable {
    public let store: any SandiStore
    public let hasher: CodeHasher
    public let clock: any TimeSource
    public let providers: ProviderRegistry
    public let renderer: MessageRenderer
    public let signal: any WorkSignal
    public let metrics: any VerificationMetrics
    /// Tenants' message settings (brand, origin-bound domain).
    public let messageSettings: MessageSettingsCache
    /// Claims of one job before a transient failure counts as a failure.
    public var maxTransientAttempts = 3
    /// How long "this destination cannot use this channel" is remembered (30 days).
    public var rememberUnusableSeconds = 30 * 86_400

    public init(store: any SandiStore, hasher: CodeHasher, clock: any TimeSource, providers: ProviderRegistry, renderer: MessageRenderer = MessageRenderer(), signal: any WorkSignal = NoWorkSignal(), metrics: any VerificationMetrics = NoMetrics(), messageSettings: MessageSettingsCache? = nil) {
        self.messageSettings = messageSettings ?? MessageSettingsCache(store: store, clock: clock)
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.providers = providers
        self.renderer = renderer
        self.signal = signal
        self.metrics = metrics
    }

    /// What processing a job did.
    public enum Result: Sendable, Equatable {
        case completed(DeliveryStatus, fallback: Bool)
        case retryLater
        case leaseLost
    }

    /// Runs a claimed job: sends its message and records the outcome (with a fallback step when it
    /// failed, or a receipt timer when it left without a receipt), or, for a receipt timer, falls
    /// back to the next step unless the message reached the phone meanwhile.
    @discardableResult
    public func process(_ claimed: ClaimedJob, owner: String) async throws -> Result {
        metrics.queueLag(kind: claimed.job.kind.rawValue, seconds: clock.now.timeIntervalSince(claimed.job.dueAt))
        if claimed.job.kind == .fallback { return try await timedOut(claimed, owner: owner) }
        let verification = claimed.verification
        let delivery = claimed.delivery
        let now = clock.now
        let ttl = Int(verification.expiresAt.timeIntervalSince(now).rounded(.down))
        guard let sealed = verification.sealed, let code = hasher.unseal(sealed, verificationID: verification.id) else {
            return try await finish(claimed, owner: owner, status: .failed, messageID: nil, error: "code_unavailable", fallback: false)
        }
        guard ttl > 0 else {
            return try await finish(claimed, owner: owner, status: .canceled, messageID: nil, error: "expired", fallback: false)
        }
        guard let provider = providers.provider(named: delivery.provider, for: delivery.channel) else {
            return try await finish(claimed, owner: owner, status: .failed, messageID: nil, error: "no_provider", fallback: true)
        }
        // Settings that cannot be read now fall back to the defaults rather than hold the code back.
        let settings = (try? await messageSettings.settings(tenantID: verification.tenantID).settings) ?? MessageSettings()
        let message = OutboundMessage(
            deliveryID: delivery.id, verificationID: verification.id, tenantID: verification.tenantID,
            channel: delivery.channel, to: verification.to, country: verification.country,
            operator: verification.operator, code: code,
            text: renderer.render(channel: delivery.channel, code: code, purpose: verification.purpose, locale: verification.locale, ttlSeconds: ttl,
                                  transaction: verification.transaction, appHash: verification.context.appHash, settings: settings),
            locale: verification.locale, purpose: verification.purpose, ttlSeconds: ttl)
        let sent = await Self.attempt(provider, message)
        switch sent {
        case .success(let acceptance):
            return try await finish(claimed, owner: owner, status: acceptance.receipt ?? .sent, messageID: acceptance.providerMessageID, error: nil, fallback: false)
        case .failure(.undeliverable(let reason)):
            return try await finish(claimed, owner: owner, status: .undeliverable, messageID: nil, error: reason, fallback: true)
        case .failure(.failed(let reason)):
            return try await finish(claimed, owner: owner, status: .failed, messageID: nil, error: reason, fallback: true)
        case .failure(.transient(let reason)):
            if claimed.attempt < maxTransientAttempts {
                let backoff = Double(1 << min(claimed.attempt, 6))
                try await store.release(jobID: claimed.job.id, owner: owner, dueAt: clock.now.addingTimeInterval(backoff))
                return .retryLater
            }
            return try await finish(claimed, owner: owner, status: .failed, messageID: nil, error: reason, fallback: true)
        }
    }

    /// A provider's delivery receipt (webhook, protocol message, or the simulator's): moves the
    /// delivery forward if it is news (duplicates, stale and out-of-order receipts change nothing;
    /// unknown deliveries answer nil), feeds the provider's health, and on a failed or undeliverable
    /// receipt lets the plan move on at once.
    @discardableResult
    public func receipt(deliveryID: String, status: DeliveryStatus, at: Date, error: String? = nil) async throws -> Delivery? {
        guard let before = try await store.delivery(id: deliveryID) else { return nil }
        guard before.status.canMove(to: status) else { return before }
        let verification = try await store.verification(id: before.verificationID, tenantID: before.tenantID, deliveries: false)
        var data: [String: JSONValue] = ["delivery_id": .string(before.id), "channel": .string(before.channel.rawValue),
                                         "provider": .string(before.provider), "source": "receipt"]
        var events: [Event] = []
        func event(_ type: String) { events.append(Event(tenantID: before.tenantID, verificationID: before.verificationID, type: type, createdAt: at, data: data)) }
        let delivered = Self.deliveredData(country: verification?.country, operator: verification?.operator, seconds: at.timeIntervalSince(before.queuedAt))
        switch status {
        case .delivered:
            data.merge(delivered) { $1 }
            event("delivery.delivered")
        case .read:
            if !before.status.reachedPhone {
                let plain = data
                data.merge(delivered) { $1 }
                event("delivery.delivered")
                data = plain
            }
            event("delivery.read")
        case .failed, .undeliverable:
            data["reason"] = .string(error ?? status.rawValue)
            data["undeliverable"] = .bool(status == .undeliverable)
            event("delivery.failed")
        case .sent: event("delivery.sent")
        case .queued, .canceled: break
        }
        let unusableUntil = status == .undeliverable ? at.addingTimeInterval(Double(rememberUnusableSeconds)) : nil
        guard let after = try await store.applyReceipt(deliveryID: deliveryID, status: status, at: at, error: error, events: events, unusableUntil: unusableUntil),
              after.status == status else { return nil }
        if status.reachedPhone && !before.status.reachedPhone {
            providers.breakers.record(provider: before.provider, channel: before.channel, operator: verification?.operator, ok: true,
                                      latency: max(0, at.timeIntervalSince(before.sentAt ?? before.queuedAt)), at: at)
            metrics.sent(channel: before.channel, provider: before.provider, operator: verification?.operator, country: verification?.country,
                         status: .delivered, seconds: max(0, at.timeIntervalSince(before.queuedAt)))
        } else if status == .failed {
            providers.breakers.record(provider: before.provider, channel: before.channel, operator: verification?.operator, ok: false, latency: nil, at: at)
        }
        if status.isFailure { signal.workQueued() }
        return after
    }

    /// What a delivered event says besides the delivery: where the number is, and how long the
    /// code took from queued to the phone (the cockpit's time to delivery).
    static func deliveredData(country: String?, operator: String?, seconds: Double) -> [String: JSONValue] {
        ["country": country.map(JSONValue.string) ?? .null, "operator": `operator`.map(JSONValue.string) ?? .null,
         "latency_ms": .number((max(0, seconds) * 1000).rounded())]
    }

    /// Sends a claimed security notice. A failed try is left to its lease, so it is claimed again
    /// later; after three tries it is recorded as failed.
    public func sendNotice(_ notice: Notice, owner: String) async throws {
        let now = clock.now
        func finish(_ status: DeliveryStatus, _ reason: String?) async throws {
            var data: [String: JSONValue] = ["notice_id": .string(notice.id), "kind": .string(notice.kind.rawValue), "channel": .string(notice.channel.rawValue)]
            if let reason { data["reason"] = .string(reason) }
            _ = try await store.completeNotice(id: notice.id, owner: owner, status: status, at: now, event: Event(
                tenantID: notice.tenantID, verificationID: notice.verificationID,
                type: status == .failed ? "notice.failed" : "notice.sent", createdAt: now, data: data))
        }
        guard let provider = providers.provider(for: notice.channel) else { return try await finish(.failed, "no_provider") }
        // A supervisor's alert names the user by the name the tenant gave, else the user_ref.
        var worker: String?
        if notice.kind == .supervisorAlert, let v = try await store.verification(id: notice.verificationID, tenantID: notice.tenantID, deliveries: false),
           let userRef = v.userRef {
            let key = UserAccount.key(tenantID: v.tenantID, userRef: userRef)
            worker = UserAccount.decode(try await store.riskStates(prefix: key, now: now, limit: 1)[key])?.displayName ?? userRef
        }
        let message = OutboundMessage(
            deliveryID: notice.id, verificationID: notice.verificationID, tenantID: notice.tenantID, channel: notice.channel,
            to: notice.to, country: notice.country, operator: notice.operator, code: "",
            text: renderer.renderNotice(notice.kind, purpose: notice.purpose, locale: notice.locale, worker: worker),
            locale: notice.locale, purpose: notice.purpose, ttlSeconds: 0)
        let sent = await Self.attempt(provider, message)
        switch sent {
        case .success(let acceptance): try await finish(acceptance.receipt ?? .sent, nil)
        case .failure(let error): if notice.attempts >= maxTransientAttempts { try await finish(.failed, "\(error)") }
        }
    }

    /// One send, its typed outcome as a value.
    static func attempt(_ provider: any ChannelProvider, _ message: OutboundMessage) async -> Swift.Result<ProviderAcceptance, ProviderError> {
        do throws(ProviderError) {
            return .success(try await provider.send(message))
        } catch {
            return .failure(error)
        }
    }

    /// A step's receipt timer came due.
    private func timedOut(_ claimed: ClaimedJob, owner: String) async throws -> Result {
        let d = claimed.delivery
        let v = claimed.verification
        // Nothing to do when the code reached the phone, or the verification already moved on
        // (a later step, a resend or a channel switch carries the code now).
        // A failed or undeliverable receipt made this timer due at once: the plan moves on now.
        // A delivered or read receipt on any step (even a late one) stops the plan.
        let stale = v.deliveries.contains { $0.status.reachedPhone } || d.status.reachedPhone || v.planIndex != d.planIndex
            || v.deliveries.contains { $0.queuedAt > d.queuedAt && $0.id != d.id }
        let timeout = v.plan.steps.indices.contains(d.planIndex) ? v.plan.steps[d.planIndex].timeoutSeconds ?? 0 : 0
        let reason = d.status.isFailure ? "receipt_\(d.status.rawValue)" : "no_receipt_within_\(timeout)s"
        return try await finish(claimed, owner: owner, status: d.status, messageID: d.providerMessageID, error: nil,
                                fallback: !stale, reason: reason, recordOutcome: false)
    }

    private func finish(_ claimed: ClaimedJob, owner: String, status: DeliveryStatus, messageID: String?, error: String?, fallback wantsFallback: Bool, reason fallbackReason: String? = nil, recordOutcome: Bool = true) async throws -> Result {
        let at = clock.now
        let v = claimed.verification
        let d = claimed.delivery
        var events: [Event] = []
        func event(_ type: String, _ data: [String: JSONValue]) {
            var data = data
            data["delivery_id"] = .string(d.id)
            data["channel"] = .string(d.channel.rawValue)
            data["provider"] = .string(d.provider)
            events.append(Event(tenantID: v.tenantID, verificationID: v.id, type: type, createdAt: at, data: data))
        }
        switch status {
        case _ where !recordOutcome:
            break
        case .sent, .delivered, .read:
            event("delivery.sent", ["operator": v.operator.map(JSONValue.string) ?? .null, "country": v.country.map(JSONValue.string) ?? .null])
            if status.reachedPhone { event("delivery.delivered", Self.deliveredData(country: v.country, operator: v.operator, seconds: at.timeIntervalSince(d.queuedAt))) }
            if status == .read { event("delivery.read", [:]) }
        case .failed, .undeliverable:
            event("delivery.failed", ["reason": .string(error ?? "failed"), "undeliverable": .bool(status == .undeliverable)])
        default:
            event("delivery.canceled", ["reason": .string(error ?? "withdrawn")])
        }
        var fallback: FallbackRecord?
        let nextID = Identifier.make(.delivery)
        if wantsFallback, v.sendsRemaining > 0, let next = v.plan.step(after: d.planIndex),
           let provider = providers.choose(channel: next.step.channel, country: v.country, operator: v.operator, key: nextID, now: at) {
            let delivery = Delivery(
                id: nextID, verificationID: v.id, tenantID: v.tenantID, channel: next.step.channel,
                provider: provider.name, status: .queued, planIndex: next.index, queuedAt: at)
            fallback = FallbackRecord(
                delivery: delivery,
                job: DeliveryJobRecord(deliveryID: delivery.id, verificationID: v.id, tenantID: v.tenantID, dueAt: at),
                events: [
                    Event(tenantID: v.tenantID, verificationID: v.id, type: "delivery.fallback", createdAt: at, data: [
                        "from": .string(d.channel.rawValue), "to": .string(next.step.channel.rawValue),
                        "reason": .string(fallbackReason ?? (status == .undeliverable ? "undeliverable" : "send_failed")),
                        "failed_delivery_id": .string(d.id),
                    ]),
                    Event(tenantID: v.tenantID, verificationID: v.id, type: "delivery.queued", createdAt: at, data: [
                        "delivery_id": .string(delivery.id), "channel": .string(delivery.channel.rawValue),
                        "provider": .string(delivery.provider), "step": .number(Double(next.index)), "reason": .string("fallback"),
                    ]),
                ])
        }
        // A send that left without a receipt gets a durable timer: no receipt by the step's
        // timeout means the next step goes out.
        var timer: DeliveryJobRecord?
        if recordOutcome, status == .sent, v.plan.steps.indices.contains(d.planIndex),
           let timeout = v.plan.steps[d.planIndex].timeoutSeconds, v.plan.step(after: d.planIndex) != nil {
            timer = DeliveryJobRecord(kind: .fallback, deliveryID: d.id, verificationID: v.id, tenantID: v.tenantID,
                                      dueAt: at.addingTimeInterval(Double(timeout)))
        }
        let applied = try await store.complete(SendOutcome(
            jobID: claimed.job.id, leaseOwner: owner, deliveryID: d.id, verificationID: v.id, tenantID: v.tenantID,
            status: status, providerMessageID: messageID, error: error, at: at, events: events, fallback: fallback, timer: timer,
            unusableUntil: recordOutcome && status == .undeliverable ? at.addingTimeInterval(Double(rememberUnusableSeconds)) : nil))
        guard applied else { return .leaseLost }
        // The provider's health towards the operator: a failed send, a receipt, or no receipt in
        // time count; "undeliverable" is the destination's doing, not the provider's.
        if recordOutcome, status != .undeliverable, status != .canceled, status != .sent, error != "code_unavailable", error != "no_provider" {
            providers.breakers.record(provider: d.provider, channel: d.channel, operator: v.operator, ok: status.reachedPhone,
                                      latency: status.reachedPhone ? max(0, at.timeIntervalSince(d.queuedAt)) : nil, at: at)
        } else if !recordOutcome, fallback != nil, !d.status.isFailure {
            providers.breakers.record(provider: d.provider, channel: d.channel, operator: v.operator, ok: false, latency: nil, at: at)
        }
        if recordOutcome {
            metrics.sent(channel: d.channel, provider: d.provider, operator: v.operator, country: v.country, status: status,
                         seconds: max(0, at.timeIntervalSince(d.queuedAt)))
        }
        if let next = fallback?.delivery {
            metrics.fellBack(from: d.channel, to: next.channel, reason: fallbackReason ?? (status == .undeliverable ? "undeliverable" : "send_failed"))
            signal.workQueued()
        }
        return .completed(status, fallback: fallback != nil)
    }
}
