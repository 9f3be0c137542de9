public import Foundation

/// Options of the verification service.
public struct VerificationOptions: Sendable {
    public var policies: PolicySet
    /// The default fallback plan.
    public var plan: DeliveryPlan

    public init(policies: PolicySet = .defaults, plan: DeliveryPlan = .standard) {
        self.policies = policies
        self.plan = plan
    }
}

/// A start request after its JSON was read; purpose and channel still as the caller wrote them.
public struct StartRequest: Sendable, Equatable {
    public var to: String
    public var country: String?
    public var purpose: String
    public var userRef: String?
    /// `auto` (or nil) for the plan's first channel, or a channel to start with.
    public var channel: String?
    public var locale: String?
    public var context: ClientContext
    /// Transaction details a `sensitive_action` code is bound to (dynamic linking).
    public var transaction: TransactionDetails?

    public init(to: String, country: String? = nil, purpose: String, userRef: String? = nil, channel: String? = nil, locale: String? = nil, context: ClientContext = ClientContext(), transaction: TransactionDetails? = nil) {
        self.to = to
        self.country = country
        self.purpose = purpose
        self.userRef = userRef
        self.channel = channel
        self.locale = locale
        self.context = context
        self.transaction = transaction
    }
}

/// What a check answered.
public struct CheckResult: Sendable, Equatable {
    public var verificationID: String
    public var valid: Bool
    public var status: VerificationStatus
    public var attemptsRemaining: Int
    /// The single-use grant token (shown only here) and its expiry.
    public var grant: (token: String, expiresAt: Date)?

    public static func == (a: CheckResult, b: CheckResult) -> Bool {
        a.verificationID == b.verificationID && a.valid == b.valid && a.status == b.status
            && a.attemptsRemaining == b.attemptsRemaining && a.grant?.token == b.grant?.token
    }
}

/// The verification use cases: start, read, check, resend, cancel, redeem. Talks to storage only
/// through the ports; every decision about codes, policies and plans is made here.
public struct VerificationService: Sendable {
    public let store: any SandiStore
    public let hasher: CodeHasher
    public let clock: any TimeSource
    public let providers: ProviderRegistry
    public let options: VerificationOptions
    public let parser: PhoneNumberParser
    public let catalog: MessageCatalog
    public let signal: any WorkSignal
    public let metrics: any VerificationMetrics
    /// Each tenant's risk settings (limits, scoring, pumping guard, safe list).
    public let riskSettings: RiskSettingsCache
    /// Where SIM swap signals come from (nil: not configured).
    public let simSwap: (any SimSwapSignal)?
    public let lineTypes: LineTypeClassifier
    /// Each tenant's plan rules and last-worked preference.
    public let routing: RoutingSettingsCache
    /// Each tenant's user groups and their policies.
    public let groups: GroupSettingsCache
    let engine = RiskEngine()

    public init(store: any SandiStore, hasher: CodeHasher, clock: any TimeSource, providers: ProviderRegistry, options: VerificationOptions = VerificationOptions(), parser: PhoneNumberParser = PhoneNumberParser(), catalog: MessageCatalog = .bundled, signal: any WorkSignal = NoWorkSignal(), metrics: any VerificationMetrics = NoMetrics(), riskSettings: RiskSettingsCache? = nil, simSwap: (any SimSwapSignal)? = nil, lineTypes: LineTypeClassifier = .bundled, routing: RoutingSettingsCache? = nil, groups: GroupSettingsCache? = nil) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.providers = providers
        self.options = options
        self.parser = parser
        self.catalog = catalog
        self.signal = signal
        self.metrics = metrics
        self.riskSettings = riskSettings ?? RiskSettingsCache(store: store, clock: clock)
        self.simSwap = simSwap
        self.lineTypes = lineTypes
        self.routing = routing ?? RoutingSettingsCache(store: store, clock: clock)
        self.groups = groups ?? GroupSettingsCache(store: store, clock: clock)
    }

    /// Starts a verification: validates, issues a code (stored as HMAC and sealed for delivery),
    /// chooses the plan, supersedes the previous live code of the same destination and purpose, and
    /// queues the first send.
    public func start(tenantID: String, allowedCountries: Set<String>? = nil, _ request: StartRequest) async throws -> Verification {
        do {
            let verification = try await startVerification(tenantID: tenantID, allowedCountries: allowedCountries, request)
            metrics.started(purpose: verification.purpose, outcome: "created")
            return verification
        } catch let error as VerificationError {
            metrics.started(purpose: Purpose(rawValue: request.purpose), outcome: error.code)
            throw error
        }
    }

    private func startVerification(tenantID: String, allowedCountries: Set<String>?, _ request: StartRequest) async throws -> Verification {
        let number: PhoneNumber
        do {
            number = try parser.parse(request.to, country: request.country)
        } catch {
            throw VerificationError.invalidPhoneNumber(error.explanation)
        }
        guard let purpose = Purpose(rawValue: request.purpose) else {
            throw VerificationError.unsupportedPurpose(request.purpose)
        }
        if request.transaction != nil, purpose != .sensitiveAction {
            throw VerificationError.invalidRequest([FieldError(field: "transaction", reason: "only a sensitive_action code can be bound to a transaction")])
        }
        if let allowedCountries, !allowedCountries.contains(number.country) {
            throw VerificationError.destinationNotAllowed("this tenant may not send codes to numbers of \(number.country)")
        }
        let forced = try parseChannel(request.channel, allowAuto: true)
        if let forced, !providers.availableChannels.contains(forced) {
            throw VerificationError.channelUnavailable(forced)
        }

        // Risk and abuse rules decide before anything is spent: limits (429), then the score.
        let (settings, _) = try await riskSettings.settings(tenantID: tenantID)
        let groupSettings = request.userRef == nil ? GroupSettings(groups: [:]) : try await groups.settings(tenantID: tenantID).settings
        let decision = try await assessRisk(tenantID: tenantID, purpose: purpose, number: number, request: request, settings: settings, groups: groupSettings)
        if let hit = decision.limited {
            throw VerificationError.rateLimited(limit: hit.name, retryAfter: hit.retryAfter)
        }
        var risk = decision.assessment
        let now = clock.now
        let account = decision.account
        let group = decision.groupPolicy
        if let forced, let channels = group?.channels, !channels.contains(forced) {
            throw VerificationError.channelUnavailable(forced)
        }

        // Channels this destination is known not to use (a provider said so) are skipped, unless
        // the caller forced one of them or nothing else is left; a step-up may rule channels out.
        let avoid = decision.stepUp?.avoidChannels ?? []
        let memory = try await store.channelMemory(tenantID: tenantID, to: number.e164, now: now)
        let unusable = memory.unusable.subtracting(forced.map { [$0] } ?? [])
        var allowed = providers.availableChannels.subtracting(avoid)
        if let channels = group?.channels { allowed.formIntersection(channels) }
        // The tenant's first matching rule (purpose, country, operator, group, foreign number)
        // sets the plan, else the user's group's plan. Then the user's own saved channel goes
        // first; without one, the channel that last got a code to this number.
        let routingSettings = try await routing.settings(tenantID: tenantID).settings
        var base = options.plan
        var planReasons: [String] = []
        if let (index, rule) = routingSettings.rule(purpose: purpose, country: number.country, operator: number.operator, group: decision.groupName),
           let rulePlan = DeliveryPlan(parsing: rule.plan) {
            base = rulePlan
            planReasons.append("rule:" + (rule.name ?? String(index)))
        } else if let groupPlan = group?.plan.flatMap(DeliveryPlan.init(parsing:)) {
            base = groupPlan
            planReasons.append("group:" + (decision.groupName ?? ""))
        }
        if forced == nil, let preferred = account?.preferredChannel, allowed.subtracting(unusable).contains(preferred) {
            if base.steps.first?.channel != preferred { base = base.preferring(preferred) }
            planReasons.append("user_preference:" + preferred.rawValue)
        } else if forced == nil, planReasons.isEmpty, routingSettings.preferLastWorked, let worked = memory.lastWorked,
                  now.timeIntervalSince(worked.at) < Double(routingSettings.lastWorkedDays) * 86_400,
                  allowed.subtracting(unusable).contains(worked.channel), base.steps.first?.channel != worked.channel {
            base = base.preferring(worked.channel)
            planReasons.append("last_worked:" + worked.channel.rawValue)
        }
        var plan = base.arranged(forced: forced.flatMap { avoid.contains($0) ? nil : $0 }, available: allowed.subtracting(unusable))
        if plan.steps.isEmpty { plan = base.arranged(forced: forced, available: allowed) }
        if plan.steps.isEmpty, risk.action == .stepUp {
            // Nothing safe is left to send on: deny rather than send where the risk lies.
            risk.action = .deny
            risk.reasons.append("no_safe_channel")
        }
        let skipped = base.steps.map(\.channel).filter { unusable.contains($0) && !plan.steps.map(\.channel).contains($0) }
        let denied = risk.action == .deny
        guard denied || !plan.steps.isEmpty, let first = plan.steps.first?.channel ?? forced ?? base.steps.first?.channel
        else { throw VerificationError.channelUnavailable(forced ?? .sms) }
        let deliveryID = Identifier.make(.delivery)
        let provider = denied ? nil : providers.choose(channel: first, country: number.country, operator: number.operator, key: deliveryID, now: now)
        guard denied || provider != nil else { throw VerificationError.channelUnavailable(first) }
        var policy = options.policies.policy(for: purpose)
        if let group { policy = group.applied(to: policy) }
        if let stepUp = decision.stepUp, risk.action == .stepUp {
            policy.maxSends = min(policy.maxSends, stepUp.maxSends)
            policy.resendCooldowns = policy.resendCooldowns.map { $0 * stepUp.cooldownFactor }
        }

        // The code is made (and hashed) on every path, so a denied start costs what an allowed one does.
        let id = Identifier.make(.verification)
        let code = OTPCode.generate(length: policy.codeLength)
        let digest = hasher.digest(code: code, verificationID: id, binding: request.transaction?.binding)
        let sealed = try hasher.seal(code: code, verificationID: id)
        let delivery = Delivery(
            id: deliveryID, verificationID: id, tenantID: tenantID, channel: first,
            provider: provider?.name ?? "none", status: .queued, planIndex: 0, queuedAt: now)
        let verification = Verification(
            id: id, tenantID: tenantID, to: number.e164, country: number.country, operator: number.operator,
            purpose: purpose, userRef: request.userRef,
            locale: catalog.resolve(requested: request.locale ?? account?.locale, country: number.country),
            codeLength: policy.codeLength, digest: digest, sealed: denied ? nil : sealed, status: denied ? .blocked : .pending,
            channel: denied ? nil : first, plan: plan, planIndex: 0, createdAt: now,
            expiresAt: now.addingTimeInterval(Double(policy.ttlSeconds)),
            updatedAt: now, attemptsUsed: 0, maxAttempts: policy.maxAttempts,
            sendsUsed: denied ? 0 : 1, maxSends: policy.maxSends, resends: 0,
            resendAvailableAt: now.addingTimeInterval(Double(policy.cooldown(afterSends: 1))),
            context: request.context, risk: risk, deliveries: denied ? [] : [delivery], transaction: request.transaction)
        var events = [
            Event(tenantID: tenantID, verificationID: id, type: "verification.created", createdAt: now, data: [
                "purpose": .string(purpose.rawValue), "to": .string(number.masked), "to_hash": .string(hasher.numberHash(number.e164)),
                "country": .string(number.country), "operator": number.operator.map(JSONValue.string) ?? .null,
                "plan": .array(plan.steps.map { .string($0.channel.rawValue) }),
                "forced_channel": forced.map { .string($0.rawValue) } ?? .null,
                "skipped_channels": .array(skipped.map { .string($0.rawValue) }),
                "plan_reasons": .array(planReasons.map(JSONValue.string)),
                "risk_score": .number(Double(risk.score)), "risk_action": .string(risk.action.rawValue),
                "group": decision.groupName.map(JSONValue.string) ?? .null,
            ]),
        ]
        let reasons = JSONValue.array(risk.reasons.map(JSONValue.string))
        switch risk.action {
        case .deny:
            events.append(Event(tenantID: tenantID, verificationID: id, type: "risk.denied", createdAt: now, data: [
                "score": .number(Double(risk.score)), "reasons": reasons]))
            events.append(Event(tenantID: tenantID, verificationID: id, type: "verification.blocked", createdAt: now, data: ["reasons": reasons]))
        case .stepUp:
            events.append(Event(tenantID: tenantID, verificationID: id, type: "risk.step_up", createdAt: now, data: [
                "score": .number(Double(risk.score)), "reasons": reasons,
                "avoided_channels": .array(avoid.sorted { $0.rawValue < $1.rawValue }.map { .string($0.rawValue) }),
                "max_sends": .number(Double(policy.maxSends))]))
        case .allow:
            if let recorded = risk.recordedAction {
                events.append(Event(tenantID: tenantID, verificationID: id, type: "risk.recorded", createdAt: now, data: [
                    "score": .number(Double(risk.score)), "reasons": reasons, "would_be": .string(recorded.rawValue)]))
            }
        }
        if !denied {
            events.append(Event(tenantID: tenantID, verificationID: id, type: "code.generated", createdAt: now, data: [
                "length": .number(Double(policy.codeLength)), "key_id": .string(digest.keyID),
                "expires_at": .string(Timestamp.format(verification.expiresAt)),
                "bound_to_transaction": .bool(request.transaction != nil),
            ]))
            events.append(queuedEvent(delivery, reason: "initial", now: now))
        }
        let job = denied ? nil : DeliveryJobRecord(deliveryID: delivery.id, verificationID: id, tenantID: tenantID, dueAt: now)
        let window = options.policies.failedCheckWindowSeconds
        let outcome = try await store.create(VerificationCreation(
            verification: verification, job: job, events: events,
            failedCheckCap: options.policies.maxFailedChecksPerDestination, failedCheckWindowSeconds: window,
            supersedes: !denied))
        switch outcome {
        case .limited(let last):
            let wait = Int(last.addingTimeInterval(Double(window)).timeIntervalSince(now).rounded(.up))
            throw VerificationError.rateLimited(limit: "failed_checks_per_destination", retryAfter: max(1, wait))
        case .created(_, let maxAttempts):
            if !denied { signal.workQueued() }
            var created = verification
            created.maxAttempts = maxAttempts
            // A suspicious login of a registered user is told to the user, in their language, and
            // to their supervisor when their group says so.
            let suspicious = account != nil && [.login, .newDevice].contains(purpose) && (denied || risk.action == .stepUp)
                && settings.notifications.suspiciousLogin
            if denied, settings.notifications.afterBlocked || suspicious {
                try await queueNotice(.blocked, for: created, used: nil)
            } else if risk.action == .stepUp, settings.notifications.afterStepUp || suspicious {
                try await queueNotice(.stepUp, for: created, used: created.channel)
            }
            if suspicious, group?.alertSupervisor ?? true, let supervisorRef = account?.supervisorRef {
                try await alertSupervisor(supervisorRef, about: created, groups: groupSettings)
            }
            return created
        }
    }

    /// Queues a security notice on a channel other than the one that carried the code (WhatsApp,
    /// then SMS, then voice, among those with a provider); none when no other channel exists.
    private func queueNotice(_ kind: NoticeKind, for v: Verification, used: Channel?) async throws {
        try await enqueue(makeNotice(kind, for: v, used: used))
    }

    private func enqueue(_ made: (notice: Notice, event: Event)?) async throws {
        guard let made else { return }
        try await store.enqueueNotice(made.notice, event: made.event)
        signal.workQueued()
    }

    /// The notice ``queueNotice(_:for:used:)`` queues about a verification.
    private func makeNotice(_ kind: NoticeKind, for v: Verification, used: Channel?) -> (notice: Notice, event: Event)? {
        makeNotice(kind, tenantID: v.tenantID, referenceID: v.id, to: v.to, country: v.country, operator: v.operator,
                   locale: v.locale, purpose: v.purpose, avoiding: used, data: ["code_channel": used.map { .string($0.rawValue) } ?? .null])
    }

    /// Queues a security notice (no code in it) to a number on the first channel with a provider
    /// (WhatsApp, SMS, voice) other than `avoiding`, with its `notice.queued` event; nothing when
    /// no such channel exists. `referenceID` is the verification (or recovery) it is about.
    public func queueNotice(_ kind: NoticeKind, tenantID: String, referenceID: String, to e164: String, country: String?, operator: String?,
                            locale: String, purpose: Purpose, avoiding used: Channel? = nil, data: [String: JSONValue] = [:]) async throws {
        try await enqueue(makeNotice(kind, tenantID: tenantID, referenceID: referenceID, to: e164, country: country, operator: `operator`,
                                     locale: locale, purpose: purpose, avoiding: used, data: data))
    }

    /// The notice and its `notice.queued` event that ``queueNotice(_:tenantID:referenceID:to:country:operator:locale:purpose:avoiding:data:)``
    /// queues; nil when no channel other than `used` has a provider.
    private func makeNotice(_ kind: NoticeKind, tenantID: String, referenceID: String, to e164: String, country: String?, operator: String?,
                            locale: String, purpose: Purpose, avoiding used: Channel?, data: [String: JSONValue]) -> (notice: Notice, event: Event)? {
        guard let channel = [Channel.whatsapp, .sms, .voice].first(where: { $0 != used && providers.availableChannels.contains($0) }) else { return nil }
        let now = clock.now
        let notice = Notice(tenantID: tenantID, verificationID: referenceID, kind: kind, channel: channel, to: e164, country: country,
                            operator: `operator`, locale: locale, purpose: purpose, createdAt: now)
        var data = data
        data["notice_id"] = .string(notice.id)
        data["kind"] = .string(kind.rawValue)
        data["channel"] = .string(channel.rawValue)
        return (notice, Event(tenantID: tenantID, verificationID: referenceID, type: "notice.queued", createdAt: now, data: data))
    }

    /// Tells a user's supervisor (in the supervisor's language, on their registered number) that a
    /// login of the user was stepped up or stopped. Nothing when the supervisor has no number or
    /// their group may not approve for others.
    private func alertSupervisor(_ supervisorRef: String, about v: Verification, groups: GroupSettings) async throws {
        let key = UserAccount.key(tenantID: v.tenantID, userRef: supervisorRef)
        guard let supervisor = UserAccount.decode(try await store.riskStates(prefix: key, now: clock.now, limit: 1)[key]),
              let phone = supervisor.phone, let number = try? parser.parse(phone, country: nil),
              groups.policy(for: supervisor.group)?.policy.canApprove ?? false
        else { return }
        try await queueNotice(.supervisorAlert, tenantID: v.tenantID, referenceID: v.id, to: number.e164, country: number.country,
                              operator: number.operator, locale: catalog.resolve(requested: supervisor.locale, country: number.country),
                              purpose: v.purpose, data: ["to": .string(number.masked), "risk_action": .string(v.risk.action.rawValue)])
    }

    /// What an approval writes besides itself: what it proved to the risk state (the user's
    /// device, number, countries and hour, and one more conversion for the number's prefix), and
    /// the security notice, if any.
    private func approvalFollowUp(_ verification: Verification, settings: RiskSettings, notice: (notice: Notice, event: Event)?,
                                  at now: Date) -> ApprovalFollowUp {
        let engine = self.engine
        let v = verification
        return ApprovalFollowUp(riskKeys: engine.approvalKeys(tenantID: v.tenantID, userRef: v.userRef, e164: v.to, settings), learn: { state in
            engine.recordApproval(tenantID: v.tenantID, userRef: v.userRef, e164: v.to, country: v.country,
                                  context: v.context, settings, now: now, state: state)
        }, notice: notice)
    }

    /// Runs the risk engine on a start: SIM swap signal first (outside storage), then limits,
    /// signals and the pumping guard in one atomic step over the risk state.
    private func assessRisk(tenantID: String, purpose: Purpose, number: PhoneNumber, request: StartRequest, settings: RiskSettings, groups: GroupSettings) async throws -> StartDecision {
        var simSwapped: Bool?
        if let simSwap, settings.risk.simSwapPurposes.contains(purpose),
           !settings.safeList.contains(number: number.e164, ip: request.context.ip) {
            if case .swapped(let swapped) = await simSwap.check(e164: number.e164, maxAgeHours: settings.risk.simSwapMaxAgeHours) {
                simSwapped = swapped
            }
        }
        var facts = StartFacts(
            tenantID: tenantID, purpose: purpose, number: number, userRef: request.userRef, context: request.context,
            lineType: lineTypes.lineType(
                regions: [number.country] + parser.plan.regions(callingCode: number.callingCode).map(\.iso).filter { $0 != number.country },
                nationalNumber: number.nationalNumber),
            simSwapped: simSwapped, now: clock.now)
        facts.failedCheckCap = (options.policies.maxFailedChecksPerDestination, options.policies.failedCheckWindowSeconds)
        facts.groups = groups
        let engine = self.engine
        let known = facts
        let limitKeys = engine.limitKeys(known, settings)
        let (decision, write) = try await store.updateRiskState(keys: engine.stateKeys(known, settings, limitKeys: limitKeys), now: known.now) { state in
            let (decision, write) = engine.assessStart(known, settings, limitKeys: limitKeys, state: state)
            return ((decision, write), write)
        }
        for event in write.events {
            if event.type == "rate_limit.hit" {
                metrics.rateLimitHit(key: event.data["key"]?.stringValue ?? "unknown", enforced: event.data["enforced"] == .bool(true))
            } else if event.type.hasPrefix("fraud.prefix_") {
                metrics.prefixBlocked(enforced: event.data["enforced"] == .bool(true))
            }
        }
        if decision.limited == nil, !decision.safeListed {
            let a = decision.assessment
            metrics.riskDecided(action: (a.recordedAction ?? a.action).rawValue, enforced: a.recordedAction == nil, signals: a.reasons)
        }
        return decision
    }

    /// Reads a verification of the tenant, its status as of now.
    public func read(id: String, tenantID: String) async throws -> Verification {
        guard Identifier.isWellFormed(id, as: .verification),
              var verification = try await store.verification(id: id, tenantID: tenantID)
        else { throw VerificationError.notFound }
        verification.status = verification.effectiveStatus(at: clock.now)
        return verification
    }

    /// The events of a verification, oldest first.
    public func events(id: String, tenantID: String) async throws -> [Event] {
        try await store.events(verificationID: id, tenantID: tenantID)
    }

    /// Checks a code against a verification. A wrong code uses one attempt; the right code approves
    /// once; a verification that is not pending answers `valid: false` and changes nothing.
    /// A code bound to a transaction is valid only with that same transaction.
    public func check(id: String, tenantID: String, code: String, transaction: TransactionDetails? = nil) async throws -> CheckResult {
        guard Identifier.isWellFormed(id, as: .verification),
              let verification = try await store.verification(id: id, tenantID: tenantID, deliveries: false)
        else { throw VerificationError.notFound }
        return try await check(verification, code: code, transaction: transaction)
    }

    /// Checks a code against the live verification of a destination and purpose.
    public func check(tenantID: String, to: String, country: String?, purpose rawPurpose: String, code: String, transaction: TransactionDetails? = nil) async throws -> CheckResult {
        let number: PhoneNumber
        do {
            number = try parser.parse(to, country: country)
        } catch {
            throw VerificationError.invalidPhoneNumber(error.explanation)
        }
        guard let purpose = Purpose(rawValue: rawPurpose) else { throw VerificationError.unsupportedPurpose(rawPurpose) }
        guard let verification = try await store.liveVerification(tenantID: tenantID, to: number.e164, purpose: purpose, now: clock.now)
        else { throw VerificationError.notFound }
        return try await check(verification, code: code, transaction: transaction)
    }

    private func check(_ verification: Verification, code: String, transaction: TransactionDetails?) async throws -> CheckResult {
        let now = clock.now
        let status = verification.effectiveStatus(at: now)
        guard status == .pending, verification.attemptsRemaining > 0 else {
            metrics.checked(purpose: verification.purpose, outcome: "not_pending")
            return CheckResult(verificationID: verification.id, valid: false, status: status == .pending ? .locked : status,
                               attemptsRemaining: verification.attemptsRemaining, grant: nil)
        }
        let valid = OTPCode.isPlausible(code)
            && hasher.matches(code, digest: verification.digest, verificationID: verification.id, binding: transaction?.binding)
        let policy = options.policies.policy(for: verification.purpose)
        // The token is shown once, here; only its hash is stored with the grant.
        var issued: (token: String, grant: Grant)?
        if valid, policy.issuesGrant {
            let token = "grt_" + Identifier.randomBase32(bytes: 32)
            issued = (token, Grant(
                tokenHash: SecretHash.hex(token), tenantID: verification.tenantID, verificationID: verification.id,
                userRef: verification.userRef, to: verification.to, purpose: verification.purpose, createdAt: now,
                expiresAt: now.addingTimeInterval(Double(policy.grantTTLSeconds))))
        }
        let record = CheckRecord(
            verificationID: verification.id, tenantID: verification.tenantID, valid: valid, now: now, grant: issued?.grant,
            failedCheckWindowSeconds: options.policies.failedCheckWindowSeconds)
        // A right code's approval brings what it teaches the risk engine and the security notice:
        // written with the approval (in one commit where the store can), and only if it approves.
        var notice: (notice: Notice, event: Event)?
        let applied: CheckApplied
        if valid {
            let settings = try await riskSettings.settings(tenantID: verification.tenantID).settings
            var kind: NoticeKind? = verification.purpose == .passwordReset ? .passwordReset : verification.purpose == .phoneChange ? .phoneChange : nil
            // A registered user's number changes through the phone change flow, which tells the
            // old number when the change completes; one code approved changes nothing yet.
            if kind == .phoneChange, let user = verification.userRef {
                let key = UserAccount.key(tenantID: verification.tenantID, userRef: user)
                if try await store.riskStates(prefix: key, now: now, limit: 1)[key] != nil { kind = nil }
            }
            if let kind, settings.notifications.afterApproval {
                notice = makeNotice(kind, for: verification, used: verification.channel)
            }
            applied = try await store.applyCheck(record, approval: approvalFollowUp(verification, settings: settings, notice: notice, at: now))
        } else {
            applied = try await store.applyCheck(record)
        }
        switch applied {
        case .approved(let after):
            metrics.checked(purpose: verification.purpose, outcome: "approved")
            if notice != nil { signal.workQueued() }
            return CheckResult(verificationID: after.id, valid: true, status: .approved, attemptsRemaining: after.attemptsRemaining,
                               grant: issued.map { ($0.token, $0.grant.expiresAt) })
        case .rejected(let after):
            if let user = verification.userRef {
                let engine = self.engine
                let window = options.policies.failedCheckWindowSeconds
                try await store.updateRiskState(keys: engine.failedCheckKeys(tenantID: verification.tenantID, userRef: user), now: now) { state in
                    ((), engine.recordFailedCheck(tenantID: verification.tenantID, userRef: user, windowSeconds: window, now: now, state: state))
                }
            }
            metrics.checked(purpose: verification.purpose, outcome: after.status == .locked ? "locked" : "wrong_code")
            return CheckResult(verificationID: after.id, valid: false, status: after.status, attemptsRemaining: after.attemptsRemaining, grant: nil)
        case .unchanged(let after):
            metrics.checked(purpose: verification.purpose, outcome: "not_pending")
            let shown = after.effectiveStatus(at: now)
            return CheckResult(verificationID: after.id, valid: false, status: shown == .pending ? .locked : shown,
                               attemptsRemaining: after.attemptsRemaining, grant: nil)
        case .notFound:
            throw VerificationError.notFound
        }
    }

    /// Sends the same code again, on the current channel or another one, within cooldowns and sends.
    public func resend(id: String, tenantID: String, channel rawChannel: String?) async throws -> Verification {
        let verification = try await read(id: id, tenantID: tenantID)
        guard verification.status == .pending else { throw VerificationError.notPending(verification.status) }
        let requested = try parseChannel(rawChannel, allowAuto: false)
        let channel = requested ?? verification.channel ?? verification.plan.steps.first?.channel ?? .sms
        let deliveryID = Identifier.make(.delivery)
        guard providers.availableChannels.contains(channel),
              let provider = providers.choose(channel: channel, country: verification.country, operator: verification.operator, key: deliveryID, now: clock.now),
              !RiskEngine.avoidedChannels(verification.risk).contains(channel) else {
            throw VerificationError.channelUnavailable(channel)
        }
        guard verification.sendsRemaining > 0 else { throw VerificationError.maxSendsReached }
        let now = clock.now
        if now < verification.resendAvailableAt {
            throw VerificationError.resendTooSoon(retryAfter: max(1, Int(verification.resendAvailableAt.timeIntervalSince(now).rounded(.up))))
        }
        let policy = options.policies.policy(for: verification.purpose)
        // A stepped-up verification keeps its longer cooldowns.
        let cooldownFactor = verification.risk.action == .stepUp
            ? try await riskSettings.settings(tenantID: tenantID).settings.risk.stepUpCooldownFactor : 1
        let planIndex = verification.plan.steps.firstIndex { $0.channel == channel } ?? verification.planIndex
        let delivery = Delivery(
            id: deliveryID, verificationID: verification.id, tenantID: tenantID, channel: channel,
            provider: provider.name, status: .queued, planIndex: planIndex, queuedAt: now)
        let record = ResendRecord(
            verificationID: verification.id, tenantID: tenantID, expectedSendsUsed: verification.sendsUsed,
            channel: channel, planIndex: planIndex, delivery: delivery,
            job: DeliveryJobRecord(deliveryID: delivery.id, verificationID: verification.id, tenantID: tenantID, dueAt: now),
            resendAvailableAt: now.addingTimeInterval(Double(policy.cooldown(afterSends: verification.resends + 2) * cooldownFactor)),
            now: now, events: [queuedEvent(delivery, reason: requested == nil || requested == verification.channel ? "resend" : "channel_switch", now: now)])
        guard try await store.applyResend(record) else {
            // Something changed between the read and the write (a concurrent resend, check or expiry).
            let current = try await read(id: id, tenantID: tenantID)
            if current.status != .pending { throw VerificationError.notPending(current.status) }
            if current.sendsRemaining == 0 { throw VerificationError.maxSendsReached }
            throw VerificationError.resendTooSoon(retryAfter: max(1, Int(current.resendAvailableAt.timeIntervalSince(now).rounded(.up))))
        }
        signal.workQueued()
        return try await read(id: id, tenantID: tenantID)
    }

    /// Cancels a pending verification; its queued sends are withdrawn.
    public func cancel(id: String, tenantID: String) async throws -> Verification {
        guard Identifier.isWellFormed(id, as: .verification) else { throw VerificationError.notFound }
        let now = clock.now
        if let current = try await store.verification(id: id, tenantID: tenantID), current.effectiveStatus(at: now) == .expired {
            throw VerificationError.notPending(.expired)
        }
        switch try await store.cancel(id: id, tenantID: tenantID, now: now) {
        case nil: throw VerificationError.notFound
        case false?: throw VerificationError.notPending(try await read(id: id, tenantID: tenantID).status)
        case true?: return try await read(id: id, tenantID: tenantID)
        }
    }

    /// Redeems a grant token once.
    public func redeem(token: String, tenantID: String) async throws -> Grant {
        guard token.hasPrefix("grt_"), token.utf8.count <= 128 else { throw VerificationError.grantNotFound }
        switch try await store.redeemGrant(tokenHash: SecretHash.hex(token), tenantID: tenantID, now: clock.now) {
        case .redeemed(let grant): metrics.redeemed(outcome: "redeemed"); return grant
        case .notFound: metrics.redeemed(outcome: "not_found"); throw VerificationError.grantNotFound
        case .expired: metrics.redeemed(outcome: "expired"); throw VerificationError.grantExpired
        case .alreadyRedeemed: metrics.redeemed(outcome: "already_redeemed"); throw VerificationError.grantAlreadyRedeemed
        }
    }

    private func parseChannel(_ raw: String?, allowAuto: Bool) throws(VerificationError) -> Channel? {
        guard let raw else { return nil }
        if allowAuto, raw == "auto" { return nil }
        guard let channel = Channel(rawValue: raw) else {
            throw .invalidRequest([FieldError(field: "channel", reason: "must be \(allowAuto ? "auto, " : "")whatsapp, sms or voice")])
        }
        return channel
    }

    func queuedEvent(_ delivery: Delivery, reason: String, now: Date) -> Event {
        Event(tenantID: delivery.tenantID, verificationID: delivery.verificationID, type: "delivery.queued", createdAt: now, data: [
            "delivery_id": .string(delivery.id), "channel": .string(delivery.channel.rawValue),
            "provider": .string(delivery.provider), "step": .number(Double(delivery.planIndex)), "reason": .string(reason),
        ])
    }
}
