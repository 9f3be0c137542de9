public import Foundation

/// What is known about a start request when risk is judged.
public struct StartFacts: Sendable {
    public var tenantID: String
    public var purpose: Purpose
    public var number: PhoneNumber
    public var userRef: String?
    public var context: ClientContext
    /// The number's line type from numbering data (nil when unknown).
    public var lineType: LineType?
    /// The SIM swap signal: true when the SIM changed within the policy's age, nil when not asked
    /// or unavailable.
    public var simSwapped: Bool?
    public var now: Date
    /// The cap on a user's consecutive wrong codes across verifications, and its window.
    public var failedCheckCap: (max: Int, windowSeconds: Int)?
    /// The tenant's user groups (the user's account, read with the risk state, names the group).
    public var groups = GroupSettings(groups: [:])

    public init(tenantID: String, purpose: Purpose, number: PhoneNumber, userRef: String?, context: ClientContext, lineType: LineType? = nil, simSwapped: Bool? = nil, now: Date) {
        self.tenantID = tenantID
        self.purpose = purpose
        self.number = number
        self.userRef = userRef
        self.context = context
        self.lineType = lineType
        self.simSwapped = simSwapped
        self.now = now
    }
}

/// A value kept in the risk state store, with the time after which it may be purged.
public struct RiskStateValue: Sendable, Equatable {
    public var value: String
    public var expiresAt: Date

    public init(_ value: String, expiresAt: Date) {
        self.value = value
        self.expiresAt = expiresAt
    }
}

/// What a risk-state update writes: values by key, and events.
public struct RiskStateWrite: Sendable {
    public var values: [String: RiskStateValue] = [:]
    public var events: [Event] = []
    /// Grants handed out by this step (e.g. after a recovery code), stored in the same unit.
    public var grants: [Grant] = []

    public init(values: [String: RiskStateValue] = [:], events: [Event] = [], grants: [Grant] = []) {
        self.values = values
        self.events = events
        self.grants = grants
    }
}

/// A rate limit that was reached.
public struct LimitHit: Sendable, Equatable {
    /// The limit's name, e.g. `destination_5_per_600s` or `failed_checks_per_user`.
    public var name: String
    public var retryAfter: Int
}

/// How a stepped-up start is sent: a stronger plan and tighter limits.
public struct StepUp: Sendable, Equatable {
    /// Channels the plan must not use (SMS after a SIM swap).
    public var avoidChannels: Set<Channel>
    public var maxSends: Int
    public var cooldownFactor: Int
}

/// The risk decision on a start.
public struct StartDecision: Sendable, Equatable {
    /// An enforced limit that refuses the start (nothing is created).
    public var limited: LimitHit?
    public var assessment: RiskAssessment
    /// Set when the action is `step_up`.
    public var stepUp: StepUp?
    /// Whether the destination or IP is on the tenant's safe list (no automatic rule applied).
    public var safeListed: Bool
    /// The user's account, when the tenant registered one.
    public var account: UserAccount?
    /// The group whose policy applies to this start.
    public var groupName: String?
    public var groupPolicy: GroupPolicy?
}

extension StartDecision {
    init(limited: LimitHit?, assessment: RiskAssessment, stepUp: StepUp?, safeListed: Bool) {
        self.init(limited: limited, assessment: assessment, stepUp: stepUp, safeListed: safeListed, account: nil, groupName: nil, groupPolicy: nil)
    }
}

/// An active (or recorded) block of a number prefix by the pumping guard.
public struct PrefixBlock: Sendable, Equatable, Codable {
    public var prefix: String
    public var blockedAt: Date
    public var until: Date
    public var enforced: Bool
    /// Starts in the window, settled starts, approvals, and the conversion that triggered it.
    public var started: Int
    public var settled: Int
    public var approved: Int
    public var conversion: Double
    public var baseline: Int

    enum CodingKeys: String, CodingKey {
        case prefix, blockedAt = "blocked_at", until, enforced, started, settled, approved, conversion, baseline
    }
}

/// What a user has proven before (updated only by approved verifications, so that an attacker's
/// requests cannot teach it): devices, numbers, countries and hours of day.
public struct UserProfile: Sendable, Equatable, Codable {
    public var approvals: Int = 0
    /// Device id hash → last approval (ms).
    public var devices: [String: Int64] = [:]
    /// Number hash → first approval (ms).
    public var numbers: [String: Int64] = [:]
    public var numberCountries: Set<String> = []
    public var ipCountries: Set<String> = []
    /// Approvals per UTC hour of day.
    public var hours: [Int] = Array(repeating: 0, count: 24)

    public init() {}

    enum CodingKeys: String, CodingKey {
        case approvals, devices, numbers, numberCountries = "number_countries", ipCountries = "ip_countries", hours
    }
}

/// The pure risk and abuse logic: rate limits, risk signals and scoring, the SMS-pumping detector.
/// It reads the state it needs by key and says what to write; storage applies both atomically.
public struct RiskEngine: Sendable {
    public init() {}

    // MARK: keys

    static func digest(_ value: String) -> String { String(SecretHash.hex(value).prefix(24)) }

    static func profileKey(tenantID: String, userRef: String) -> String { "prof|\(tenantID)|\(digest(userRef))" }
    static func failedChecksKey(tenantID: String, userRef: String) -> String { "fail|\(tenantID)|\(digest(userRef))" }
    static func ipKey(tenantID: String, ip: IPAddress) -> String { "ipv|\(tenantID)|\(digest(ip.description))" }
    static func pumpStartsKey(tenantID: String, prefix: String) -> String { "pump.s|\(tenantID)|\(prefix)" }
    static func pumpApprovalsKey(tenantID: String, prefix: String) -> String { "pump.a|\(tenantID)|\(prefix)" }
    /// Prefix blocks of a tenant live under this key prefix.
    public static func blockKeyPrefix(tenantID: String) -> String { "block|\(tenantID)|" }
    static func blockKey(tenantID: String, prefix: String) -> String { blockKeyPrefix(tenantID: tenantID) + prefix }


    /// The number prefix the pumping guard watches.
    public static func prefix(of number: PhoneNumber, digits: Int) -> String { prefix(of: number.e164, digits: digits) }

    static func prefix(of e164: String, digits: Int) -> String { String(e164.dropFirst().prefix(digits)) }

    /// The value a limit rule counts by for this request (nil: the rule does not apply).
    func limitValue(_ rule: LimitRule, _ facts: StartFacts) -> String? {
        if let purposes = rule.purposes, !purposes.contains(facts.purpose) { return nil }
        switch rule.key {
        case .destination: return facts.number.e164
        case .userRef: return facts.userRef
        case .ip: return facts.context.ip.flatMap(IPAddress.init).map(\.description)
        case .ipNetwork: return facts.context.ip.flatMap(IPAddress.init).map { $0.clientNetwork.description }
        case .device: return facts.context.deviceID
        case .numberPrefix: return Self.prefix(of: facts.number, digits: rule.prefixDigits ?? 8)
        case .country: return facts.number.country
        case .tenant: return "all"
        }
    }

    /// The state key of each of the tenant's limit rules for this request, in the rules' order
    /// (nil where a rule does not apply). Rules counting by the same value share its digest, and
    /// the digest comes before the rule (`lim|tenant|digest|rule[|purpose]`), so the counters of
    /// one number (or address, or device) sit side by side: a start writes one page for the
    /// number's two destination rules, not one page each (schema 5 moved the older keys).
    public func limitKeys(_ facts: StartFacts, _ settings: RiskSettings) -> [String?] {
        var digests: [String: String] = [:]
        return settings.limits.map { rule in
            guard let value = limitValue(rule, facts) else { return nil }
            let purpose = rule.purposes == nil ? "" : "|" + facts.purpose.rawValue
            let digest = digests[value] ?? Self.digest(value)
            digests[value] = digest
            return "lim|\(facts.tenantID)|\(digest)|\(rule.name)\(purpose)"
        }
    }

    /// Every key `assessStart` reads; `limitKeys` when already known.
    public func stateKeys(_ facts: StartFacts, _ settings: RiskSettings, limitKeys known: [String?]? = nil) -> [String] {
        var keys = (known ?? limitKeys(facts, settings)).compactMap { $0 }
        if let user = facts.userRef {
            keys += [Self.profileKey(tenantID: facts.tenantID, userRef: user), Self.failedChecksKey(tenantID: facts.tenantID, userRef: user),
                     UserAccount.key(tenantID: facts.tenantID, userRef: user)]
        }
        if let ip = facts.context.ip.flatMap(IPAddress.init) { keys.append(Self.ipKey(tenantID: facts.tenantID, ip: ip)) }
        let prefix = Self.prefix(of: facts.number, digits: settings.pumping.prefixDigits)
        keys += [Self.pumpStartsKey(tenantID: facts.tenantID, prefix: prefix),
                 Self.pumpApprovalsKey(tenantID: facts.tenantID, prefix: prefix),
                 Self.blockKey(tenantID: facts.tenantID, prefix: prefix)]
        return Array(Set(keys)).sorted()
    }

    // MARK: start

    /// Judges a start: limits first (an enforced hit refuses it and counts nothing), then risk
    /// signals and the pumping guard. Returns the decision and what to write. `limitKeys`: those
    /// of ``limitKeys(_:_:)`` when the caller already has them.
    public func assessStart(_ facts: StartFacts, _ settings: RiskSettings, limitKeys known: [String?]? = nil,
                            state: [String: String]) -> (StartDecision, RiskStateWrite) {
        let nowMs = Timestamp.millis(facts.now)
        var write = RiskStateWrite()
        let account = facts.userRef.flatMap { UserAccount.decode(state[UserAccount.key(tenantID: facts.tenantID, userRef: $0)]) }
        let group = facts.groups.policy(for: account?.group)
        func decided(_ d: StartDecision) -> StartDecision {
            var d = d
            d.account = account
            d.groupName = group?.name
            d.groupPolicy = group?.policy
            return d
        }
        let safe = settings.safeList.contains(number: facts.number.e164, ip: facts.context.ip)
        if safe {
            return (decided(StartDecision(limited: nil, assessment: RiskAssessment(reasons: ["safe_listed"]), stepUp: nil, safeListed: true)), write)
        }
        func event(_ type: String, _ data: [String: JSONValue]) {
            var data = data
            data["purpose"] = .string(facts.purpose.rawValue)
            data["to"] = .string(facts.number.masked)
            write.events.append(Event(tenantID: facts.tenantID, verificationID: nil, type: type, createdAt: facts.now, data: data))
        }

        // Rate limits.
        var hits: [(rule: LimitRule, hit: LimitHit)] = []
        var counters: [(key: String, rule: LimitRule, counter: WindowCounter)] = []
        let limitKeys = known ?? limitKeys(facts, settings)
        assert(limitKeys.count == settings.limits.count, "limit keys of other settings")
        for (rule, key) in zip(settings.limits, limitKeys) {
            guard let key else { continue }
            let counter = WindowCounter(encoded: state[key])
            if counter.count(now: nowMs, windowSeconds: rule.windowSeconds) >= rule.max {
                hits.append((rule, LimitHit(name: rule.name, retryAfter: counter.retryAfter(now: nowMs, windowSeconds: rule.windowSeconds, max: rule.max))))
            }
            counters.append((key, rule, counter))
        }
        // Consecutive wrong codes of this user, across verifications and purposes.
        if let user = facts.userRef, let cap = facts.failedCheckCap,
           let (count, last) = state[Self.failedChecksKey(tenantID: facts.tenantID, userRef: user)].flatMap(Self.decodeFailures),
           count >= cap.max {
            let until = last + Int64(cap.windowSeconds) * 1000
            if until > nowMs {
                let rule = LimitRule(key: .userRef, max: cap.max, windowSeconds: cap.windowSeconds)
                hits.append((rule, LimitHit(name: "failed_checks_per_user", retryAfter: max(1, Int((until - nowMs + 999) / 1000)))))
            }
        }
        for (rule, hit) in hits {
            event("rate_limit.hit", ["limit": .string(hit.name), "key": .string(rule.key.rawValue),
                                     "retry_after_s": .number(Double(hit.retryAfter)), "enforced": .bool(rule.mode == .enforce)])
        }
        if let refusing = hits.filter({ $0.rule.mode == .enforce }).map(\.hit).max(by: { $0.retryAfter < $1.retryAfter }) {
            return (decided(StartDecision(limited: refusing, assessment: RiskAssessment(), stepUp: nil, safeListed: false)), write)
        }
        for (key, rule, counter) in counters {
            var counter = counter
            counter.add(now: nowMs, windowSeconds: rule.windowSeconds)
            write.values[key] = RiskStateValue(counter.encoded, expiresAt: facts.now.addingTimeInterval(Double(rule.windowSeconds)))
        }

        // Risk signals.
        let policy = settings.risk
        var signals: [RiskSignal] = []
        let numberHash = Self.digest(facts.number.e164)
        if let user = facts.userRef,
           let profile = state[Self.profileKey(tenantID: facts.tenantID, userRef: user)].flatMap(Self.decodeProfile),
           profile.approvals > 0 {
            if let device = facts.context.deviceID, profile.devices[Self.digest(device)] == nil { signals.append(.newDevice) }
            let ipCountry = facts.context.ipCountry?.uppercased()
            if !profile.numberCountries.contains(facts.number.country)
                || (ipCountry.map { !profile.ipCountries.isEmpty && !profile.ipCountries.contains($0) } ?? false) {
                signals.append(.newCountry)
            }
            if let first = profile.numbers[numberHash] {
                let recent = nowMs - first < Int64(policy.numberChangeDays) * 86_400_000
                if recent && profile.numbers.count > 1 { signals.append(.numberChangedRecently) }
            } else {
                signals.append(.newNumber)
            }
            if profile.approvals >= policy.unusualHourMinHistory {
                let hour = Self.hour(of: nowMs)
                if [23, 0, 1].allSatisfy({ profile.hours[(hour + $0) % 24] == 0 }) { signals.append(.unusualHour) }
            }
        }
        if let ip = facts.context.ip.flatMap(IPAddress.init) {
            let key = Self.ipKey(tenantID: facts.tenantID, ip: ip)
            var recent = RecentSet(encoded: state[key])
            let since = nowMs - Int64(policy.ipVelocityWindowSeconds) * 1000
            recent.add(numberHash, now: nowMs, since: since, capacity: max(64, policy.ipVelocityMax + 1))
            if recent.distinct(since: since) > policy.ipVelocityMax { signals.append(.ipVelocity) }
            write.values[key] = RiskStateValue(recent.encoded, expiresAt: facts.now.addingTimeInterval(Double(policy.ipVelocityWindowSeconds)))
        }
        // What the tenant's account of the user says: a recent number change, the cooling-off
        // period after it, a number other than the registered one, the group's own step-ups.
        var forcedStepUp = false
        if let account {
            if account.changedNumber(withinDays: policy.numberChangeDays, at: facts.now), !signals.contains(.numberChangedRecently) {
                signals.append(.numberChangedRecently)
            }
            if account.coolingOff(at: facts.now), Self.sensitivePurposes.contains(facts.purpose) {
                signals.append(.coolingOff)
                forcedStepUp = true
            }
            if let phone = account.phone, phone != facts.number.e164, facts.purpose != .phoneChange { signals.append(.unregisteredNumber) }
        }
        if let group, group.policy.stepUpPurposes.contains(facts.purpose) {
            signals.append(.groupRule)
            forcedStepUp = true
        }
        if facts.simSwapped == true { signals.append(.simSwap) }
        switch facts.lineType {
        case .premiumRate?, .sharedCost?: signals.append(.premiumRateNumber)
        case .unallocated?: signals.append(.unallocatedNumber)
        case .voip?: signals.append(.virtualNumber)
        default: break
        }

        // The pumping guard: count this start, then judge the prefix.
        let pumping = settings.pumping
        let prefix = Self.prefix(of: facts.number, digits: pumping.prefixDigits)
        let startsKey = Self.pumpStartsKey(tenantID: facts.tenantID, prefix: prefix)
        var starts = WindowCounter(encoded: state[startsKey])
        starts.add(now: nowMs, windowSeconds: pumping.windowSeconds, keepSeconds: 2 * pumping.windowSeconds)
        write.values[startsKey] = RiskStateValue(starts.encoded, expiresAt: facts.now.addingTimeInterval(Double(2 * pumping.windowSeconds)))
        let blockKey = Self.blockKey(tenantID: facts.tenantID, prefix: prefix)
        var block = state[blockKey].flatMap(Self.decodeBlock).flatMap { $0.until > facts.now ? $0 : nil }
        if block == nil {
            let approvals = WindowCounter(encoded: state[Self.pumpApprovalsKey(tenantID: facts.tenantID, prefix: prefix)])
            if let found = judgePrefix(prefix, starts: starts, approvals: approvals, pumping, now: facts.now) {
                block = found
                write.values[blockKey] = RiskStateValue((try? Self.encode(found)) ?? "", expiresAt: found.until)
                event(found.enforced ? "fraud.prefix_blocked" : "fraud.prefix_suspected", [
                    "prefix": .string(prefix), "until": .string(Timestamp.format(found.until)), "enforced": .bool(found.enforced),
                    "started": .number(Double(found.started)), "settled": .number(Double(found.settled)),
                    "approved": .number(Double(found.approved)), "conversion": .number(found.conversion),
                    "baseline": .number(Double(found.baseline)),
                ])
            }
        }
        if block?.enforced == true { signals.append(.prefixBlocked) }

        // Score → action.
        let score = signals.reduce(0) { $0 + policy.weight($1) }
        let stepUpAt = group?.policy.stepUpAt ?? policy.stepUpAt
        let denyAt = group?.policy.denyAt ?? policy.denyAt
        let level = score >= denyAt ? "high" : score >= stepUpAt || forcedStepUp ? "medium" : "low"
        var action: RiskAssessment.Action = score >= denyAt ? .deny : score >= stepUpAt || forcedStepUp ? .stepUp : .allow
        var assessment = RiskAssessment(level: level, score: score, action: action, reasons: signals.map(\.rawValue))
        if policy.mode == .record, !signals.contains(.prefixBlocked) {
            assessment.recordedAction = action == .allow ? nil : action
            action = .allow
            assessment.action = .allow
        }
        let stepUp = action == .stepUp
            ? StepUp(avoidChannels: Self.avoidedChannels(assessment), maxSends: policy.stepUpMaxSends, cooldownFactor: policy.stepUpCooldownFactor)
            : nil
        return (decided(StartDecision(limited: nil, assessment: assessment, stepUp: stepUp, safeListed: false)), write)
    }

    /// Purposes that step up while a cooling-off period runs.
    public static let sensitivePurposes: Set<Purpose> = [.passwordReset, .phoneChange, .sensitiveAction, .newDevice]

    /// Channels a stepped-up verification must not use: after a SIM swap, SMS (the new SIM may be
    /// the attacker's), for its first send and every resend.
    public static func avoidedChannels(_ assessment: RiskAssessment) -> Set<Channel> {
        assessment.action == .stepUp && assessment.reasons.contains(RiskSignal.simSwap.rawValue) ? [.sms] : []
    }

    /// The pumping detector: a prefix is suspect when enough starts have settled, few of them were
    /// approved, and the window's volume rose against the window before it.
    public func judgePrefix(_ prefix: String, starts: WindowCounter, approvals: WindowCounter, _ pumping: PumpingPolicy, now: Date) -> PrefixBlock? {
        let nowMs = Timestamp.millis(now)
        let window = Int64(pumping.windowSeconds) * 1000
        let started = starts.count(from: nowMs - window, to: nowMs + 1)
        let baseline = starts.count(from: nowMs - 2 * window, to: nowMs - window)
        let settled = starts.count(from: nowMs - window, to: nowMs - Int64(pumping.graceSeconds) * 1000)
        let approved = approvals.count(from: nowMs - window, to: nowMs + 1)
        guard settled >= pumping.minVolume else { return nil }
        let conversion = Double(approved) / Double(settled)
        guard conversion < pumping.minConversion, Double(started) >= pumping.riseFactor * Double(max(baseline, 1)) else { return nil }
        return PrefixBlock(prefix: prefix, blockedAt: now, until: now.addingTimeInterval(Double(pumping.blockSeconds)),
                           enforced: pumping.mode == .enforce, started: started, settled: settled, approved: approved,
                           conversion: (conversion * 1000).rounded() / 1000, baseline: baseline)
    }

    // MARK: approval

    /// Keys `recordApproval` reads.
    public func approvalKeys(tenantID: String, userRef: String?, e164: String, _ settings: RiskSettings) -> [String] {
        var keys = [Self.pumpApprovalsKey(tenantID: tenantID, prefix: Self.prefix(of: e164, digits: settings.pumping.prefixDigits))]
        if let userRef { keys.append(Self.profileKey(tenantID: tenantID, userRef: userRef)) }
        return keys
    }

    /// What an approved verification teaches: the user's profile, and the prefix's conversion.
    /// `e164` and `country` are the verification's own (already analysed at start).
    public func recordApproval(tenantID: String, userRef: String?, e164: String, country: String?, context: ClientContext, _ settings: RiskSettings, now: Date, state: [String: String]) -> RiskStateWrite {
        let nowMs = Timestamp.millis(now)
        var write = RiskStateWrite()
        let pumping = settings.pumping
        let approvalsKey = Self.pumpApprovalsKey(tenantID: tenantID, prefix: Self.prefix(of: e164, digits: pumping.prefixDigits))
        var approvals = WindowCounter(encoded: state[approvalsKey])
        approvals.add(now: nowMs, windowSeconds: pumping.windowSeconds, keepSeconds: 2 * pumping.windowSeconds)
        write.values[approvalsKey] = RiskStateValue(approvals.encoded, expiresAt: now.addingTimeInterval(Double(2 * pumping.windowSeconds)))
        if let userRef {
            // An approval ends the user's run of wrong codes.
            write.values[Self.failedChecksKey(tenantID: tenantID, userRef: userRef)] = RiskStateValue("", expiresAt: now)
            let key = Self.profileKey(tenantID: tenantID, userRef: userRef)
            var profile = state[key].flatMap(Self.decodeProfile) ?? UserProfile()
            profile.approvals += 1
            if let device = context.deviceID {
                profile.devices[Self.digest(device)] = nowMs
                if profile.devices.count > 20, let oldest = profile.devices.min(by: { $0.value < $1.value }) { profile.devices[oldest.key] = nil }
            }
            let numberHash = Self.digest(e164)
            if profile.numbers[numberHash] == nil { profile.numbers[numberHash] = nowMs }
            if profile.numbers.count > 10, let oldest = profile.numbers.min(by: { $0.value < $1.value }) { profile.numbers[oldest.key] = nil }
            if let country { profile.numberCountries.insert(country) }
            if let country = context.ipCountry?.uppercased() { profile.ipCountries.insert(country) }
            profile.hours[Self.hour(of: nowMs)] += 1
            write.values[key] = RiskStateValue((try? Self.encode(profile)) ?? "", expiresAt: now.addingTimeInterval(400 * 86_400))
        }
        return write
    }

    /// Keys `recordFailedCheck` reads.
    public func failedCheckKeys(tenantID: String, userRef: String) -> [String] {
        [Self.failedChecksKey(tenantID: tenantID, userRef: userRef)]
    }

    /// One more wrong code for a user (the count starts again `windowSeconds` after the last one).
    public func recordFailedCheck(tenantID: String, userRef: String, windowSeconds: Int, now: Date, state: [String: String]) -> RiskStateWrite {
        let key = Self.failedChecksKey(tenantID: tenantID, userRef: userRef)
        let nowMs = Timestamp.millis(now)
        let previous = state[key].flatMap(Self.decodeFailures).flatMap { $0.last + Int64(windowSeconds) * 1000 > nowMs ? $0.count : nil } ?? 0
        return RiskStateWrite(values: [key: RiskStateValue("\(previous + 1):\(nowMs)", expiresAt: now.addingTimeInterval(Double(windowSeconds)))])
    }

    static func decodeFailures(_ text: String) -> (count: Int, last: Int64)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let count = Int(parts[0]), let last = Int64(parts[1]) else { return nil }
        return (count, last)
    }

    // MARK: coding

    static func hour(of ms: Int64) -> Int { Int((ms / 3_600_000) % 24) }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .custom { date, e in
            var c = e.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { d in
            let c = try d.singleValueContainer()
            guard let date = Timestamp.parse(try c.decode(String.self)) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad timestamp")
            }
            return date
        }
        return decoder
    }

    static func decodeProfile(_ text: String) -> UserProfile? {
        guard var profile = try? decoder().decode(UserProfile.self, from: Data(text.utf8)) else { return nil }
        if profile.hours.count != 24 { profile.hours = Array(repeating: 0, count: 24) }
        return profile
    }

    public static func decodeBlock(_ text: String) -> PrefixBlock? {
        try? decoder().decode(PrefixBlock.self, from: Data(text.utf8))
    }
}
