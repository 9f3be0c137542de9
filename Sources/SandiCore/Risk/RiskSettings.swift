/// Whether a rule acts on what it decides, or only records it (events and metrics) so that a
/// tenant can tune thresholds on real traffic first.
public enum RuleMode: String, Sendable, Codable, Equatable {
    case enforce, record
}

/// What a rate limit counts by.
public enum LimitKey: String, Sendable, Codable, CaseIterable {
    /// The destination number.
    case destination
    /// The app's user reference.
    case userRef = "user_ref"
    /// The end user's IP address (`context.ip`).
    case ip
    /// The end user's network: /24 for IPv4, /64 for IPv6.
    case ipNetwork = "ip_network"
    /// The device id the app reported.
    case device
    /// The first `prefix_digits` digits of the E.164 number.
    case numberPrefix = "number_prefix"
    /// The destination's country.
    case country
    /// The whole tenant (a global budget).
    case tenant
}

/// One rate limit: at most `max` starts per `windowSeconds` for each value of `key`.
public struct LimitRule: Sendable, Equatable, Codable {
    public var key: LimitKey
    public var max: Int
    public var windowSeconds: Int
    /// When set, the rule applies only to these purposes, counting each purpose apart.
    public var purposes: [Purpose]?
    /// Digits of the E.164 number (without `+`) that make a prefix (for `number_prefix`).
    public var prefixDigits: Int?
    public var mode: RuleMode

    public init(key: LimitKey, max: Int, windowSeconds: Int, purposes: [Purpose]? = nil, prefixDigits: Int? = nil, mode: RuleMode = .enforce) {
        self.key = key
        self.max = max
        self.windowSeconds = windowSeconds
        self.purposes = purposes
        self.prefixDigits = prefixDigits
        self.mode = mode
    }

    /// The name shown in 429 answers and events, e.g. `destination_5_per_600s`.
    public var name: String {
        let scope = purposes.map { "_" + $0.map(\.rawValue).sorted().joined(separator: "+") } ?? ""
        return "\(key.rawValue)\(scope)_\(max)_per_\(windowSeconds)s"
    }

    enum CodingKeys: String, CodingKey {
        case key, max, windowSeconds = "window_s", purposes, prefixDigits = "prefix_digits", mode
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(LimitKey.self, forKey: .key)
        max = try c.decode(Int.self, forKey: .max)
        windowSeconds = try c.decode(Int.self, forKey: .windowSeconds)
        purposes = try c.decodeIfPresent([Purpose].self, forKey: .purposes)
        prefixDigits = try c.decodeIfPresent(Int.self, forKey: .prefixDigits)
        mode = try c.decodeIfPresent(RuleMode.self, forKey: .mode) ?? .enforce
    }
}

/// The risk signals, each with a weight; the score is the sum of the weights of the signals seen.
public enum RiskSignal: String, Sendable, Codable, CaseIterable {
    case newDevice = "new_device"
    case newCountry = "new_country"
    case ipVelocity = "ip_velocity"
    case unusualHour = "unusual_hour"
    case newNumber = "new_number"
    case numberChangedRecently = "number_changed_recently"
    case simSwap = "sim_swap"
    case premiumRateNumber = "premium_rate_number"
    case unallocatedNumber = "unallocated_number"
    case virtualNumber = "virtual_number"
    case prefixBlocked = "prefix_blocked"
    /// The user's number changed (or the account was recovered) and the cooling-off period runs;
    /// sensitive purposes step up whatever the score.
    case coolingOff = "cooling_off"
    /// The code goes to a number other than the one the tenant registered for the user.
    case unregisteredNumber = "unregistered_number"
    /// The user's group steps this purpose up.
    case groupRule = "group_rule"
}

/// How risk is scored and what the score leads to.
public struct RiskPolicy: Sendable, Equatable, Codable {
    public var mode: RuleMode
    /// Score from which a start is stepped up.
    public var stepUpAt: Int
    /// Score from which a start is denied (status `blocked`, nothing sent).
    public var denyAt: Int
    public var weights: [RiskSignal: Int]
    /// Distinct numbers (or user refs) one IP may ask codes for within `ipVelocityWindowSeconds`
    /// before `ip_velocity` is raised.
    public var ipVelocityMax: Int
    public var ipVelocityWindowSeconds: Int
    /// Approvals a user needs before an unusual hour of day counts.
    public var unusualHourMinHistory: Int
    /// A number first approved for a user less than this many days ago counts as a recent change.
    public var numberChangeDays: Int
    /// SIM swap checks (when a SIM swap provider is configured): purposes and how recent a swap counts.
    public var simSwapPurposes: [Purpose]
    public var simSwapMaxAgeHours: Int
    /// What a step-up does: at most this many sends, cooldowns multiplied by this factor.
    public var stepUpMaxSends: Int
    public var stepUpCooldownFactor: Int

    public init(
        mode: RuleMode = .enforce, stepUpAt: Int = 40, denyAt: Int = 80, weights: [RiskSignal: Int] = RiskPolicy.defaultWeights,
        ipVelocityMax: Int = 5, ipVelocityWindowSeconds: Int = 3600, unusualHourMinHistory: Int = 10,
        numberChangeDays: Int = 7, simSwapPurposes: [Purpose] = [.passwordReset, .newDevice, .phoneChange, .sensitiveAction],
        simSwapMaxAgeHours: Int = 72, stepUpMaxSends: Int = 3, stepUpCooldownFactor: Int = 2
    ) {
        self.mode = mode
        self.stepUpAt = stepUpAt
        self.denyAt = denyAt
        self.weights = weights
        self.ipVelocityMax = ipVelocityMax
        self.ipVelocityWindowSeconds = ipVelocityWindowSeconds
        self.unusualHourMinHistory = unusualHourMinHistory
        self.numberChangeDays = numberChangeDays
        self.simSwapPurposes = simSwapPurposes
        self.simSwapMaxAgeHours = simSwapMaxAgeHours
        self.stepUpMaxSends = stepUpMaxSends
        self.stepUpCooldownFactor = stepUpCooldownFactor
    }

    public static let defaultWeights: [RiskSignal: Int] = [
        .newDevice: 20, .newCountry: 25, .ipVelocity: 45, .unusualHour: 10, .newNumber: 15,
        .numberChangedRecently: 30, .simSwap: 50, .premiumRateNumber: 80, .unallocatedNumber: 80,
        .virtualNumber: 20, .prefixBlocked: 100, .coolingOff: 40, .unregisteredNumber: 40, .groupRule: 0,
    ]

    public func weight(_ signal: RiskSignal) -> Int { weights[signal] ?? Self.defaultWeights[signal] ?? 0 }

    enum CodingKeys: String, CodingKey {
        case mode, stepUpAt = "step_up_at", denyAt = "deny_at", weights, ipVelocityMax = "ip_velocity_max"
        case ipVelocityWindowSeconds = "ip_velocity_window_s", unusualHourMinHistory = "unusual_hour_min_history"
        case numberChangeDays = "number_change_days", simSwapPurposes = "sim_swap_purposes"
        case simSwapMaxAgeHours = "sim_swap_max_age_h", stepUpMaxSends = "step_up_max_sends"
        case stepUpCooldownFactor = "step_up_cooldown_factor"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RiskPolicy()
        mode = try c.decodeIfPresent(RuleMode.self, forKey: .mode) ?? d.mode
        stepUpAt = try c.decodeIfPresent(Int.self, forKey: .stepUpAt) ?? d.stepUpAt
        denyAt = try c.decodeIfPresent(Int.self, forKey: .denyAt) ?? d.denyAt
        var weights = d.weights
        for (name, value) in try c.decodeIfPresent([String: Int].self, forKey: .weights) ?? [:] {
            guard let signal = RiskSignal(rawValue: name) else {
                throw DecodingError.dataCorruptedError(forKey: .weights, in: c, debugDescription: "unknown signal \(name.prefix(40))")
            }
            weights[signal] = value
        }
        self.weights = weights
        ipVelocityMax = try c.decodeIfPresent(Int.self, forKey: .ipVelocityMax) ?? d.ipVelocityMax
        ipVelocityWindowSeconds = try c.decodeIfPresent(Int.self, forKey: .ipVelocityWindowSeconds) ?? d.ipVelocityWindowSeconds
        unusualHourMinHistory = try c.decodeIfPresent(Int.self, forKey: .unusualHourMinHistory) ?? d.unusualHourMinHistory
        numberChangeDays = try c.decodeIfPresent(Int.self, forKey: .numberChangeDays) ?? d.numberChangeDays
        simSwapPurposes = try c.decodeIfPresent([Purpose].self, forKey: .simSwapPurposes) ?? d.simSwapPurposes
        simSwapMaxAgeHours = try c.decodeIfPresent(Int.self, forKey: .simSwapMaxAgeHours) ?? d.simSwapMaxAgeHours
        stepUpMaxSends = try c.decodeIfPresent(Int.self, forKey: .stepUpMaxSends) ?? d.stepUpMaxSends
        stepUpCooldownFactor = try c.decodeIfPresent(Int.self, forKey: .stepUpCooldownFactor) ?? d.stepUpCooldownFactor
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(stepUpAt, forKey: .stepUpAt)
        try c.encode(denyAt, forKey: .denyAt)
        try c.encode(Dictionary(uniqueKeysWithValues: RiskSignal.allCases.map { ($0.rawValue, weight($0)) }), forKey: .weights)
        try c.encode(ipVelocityMax, forKey: .ipVelocityMax)
        try c.encode(ipVelocityWindowSeconds, forKey: .ipVelocityWindowSeconds)
        try c.encode(unusualHourMinHistory, forKey: .unusualHourMinHistory)
        try c.encode(numberChangeDays, forKey: .numberChangeDays)
        try c.encode(simSwapPurposes, forKey: .simSwapPurposes)
        try c.encode(simSwapMaxAgeHours, forKey: .simSwapMaxAgeHours)
        try c.encode(stepUpMaxSends, forKey: .stepUpMaxSends)
        try c.encode(stepUpCooldownFactor, forKey: .stepUpCooldownFactor)
    }
}

/// The SMS-pumping guard: per number prefix, starts and approvals are counted; a prefix whose
/// volume rises while its conversion collapses is blocked for a cooling period.
public struct PumpingPolicy: Sendable, Equatable, Codable {
    public var mode: RuleMode
    /// Digits of the E.164 number (without `+`) that make a prefix.
    public var prefixDigits: Int
    /// The window volume and conversion are measured over (the window before it is the baseline).
    public var windowSeconds: Int
    /// Settled starts (older than `graceSeconds`) needed before conversion is judged.
    public var minVolume: Int
    /// Conversion (approvals / settled starts) below which the prefix is suspect.
    public var minConversion: Double
    /// The window's volume must be at least this multiple of the previous window's.
    public var riseFactor: Double
    /// Starts younger than this are not yet expected to be approved.
    public var graceSeconds: Int
    /// How long a prefix stays blocked.
    public var blockSeconds: Int

    public init(mode: RuleMode = .enforce, prefixDigits: Int = 7, windowSeconds: Int = 3600, minVolume: Int = 20,
                minConversion: Double = 0.2, riseFactor: Double = 2, graceSeconds: Int = 120, blockSeconds: Int = 3600) {
        self.mode = mode
        self.prefixDigits = prefixDigits
        self.windowSeconds = windowSeconds
        self.minVolume = minVolume
        self.minConversion = minConversion
        self.riseFactor = riseFactor
        self.graceSeconds = graceSeconds
        self.blockSeconds = blockSeconds
    }

    enum CodingKeys: String, CodingKey {
        case mode, prefixDigits = "prefix_digits", windowSeconds = "window_s", minVolume = "min_volume"
        case minConversion = "min_conversion", riseFactor = "rise_factor", graceSeconds = "grace_s", blockSeconds = "block_s"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PumpingPolicy()
        mode = try c.decodeIfPresent(RuleMode.self, forKey: .mode) ?? d.mode
        prefixDigits = try c.decodeIfPresent(Int.self, forKey: .prefixDigits) ?? d.prefixDigits
        windowSeconds = try c.decodeIfPresent(Int.self, forKey: .windowSeconds) ?? d.windowSeconds
        minVolume = try c.decodeIfPresent(Int.self, forKey: .minVolume) ?? d.minVolume
        minConversion = try c.decodeIfPresent(Double.self, forKey: .minConversion) ?? d.minConversion
        riseFactor = try c.decodeIfPresent(Double.self, forKey: .riseFactor) ?? d.riseFactor
        graceSeconds = try c.decodeIfPresent(Int.self, forKey: .graceSeconds) ?? d.graceSeconds
        blockSeconds = try c.decodeIfPresent(Int.self, forKey: .blockSeconds) ?? d.blockSeconds
    }
}

/// Numbers, number prefixes and IP ranges that automatic rules (limits, risk, pumping) never block.
public struct SafeList: Sendable, Equatable, Codable {
    /// E.164 numbers.
    public var numbers: [String]
    /// E.164 prefixes, with `+`.
    public var prefixes: [String]
    /// IP ranges in CIDR notation (or single addresses).
    public var ipRanges: [String]

    public init(numbers: [String] = [], prefixes: [String] = [], ipRanges: [String] = []) {
        self.numbers = numbers
        self.prefixes = prefixes
        self.ipRanges = ipRanges
    }

    enum CodingKeys: String, CodingKey { case numbers, prefixes, ipRanges = "ip_ranges" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numbers = try c.decodeIfPresent([String].self, forKey: .numbers) ?? []
        prefixes = try c.decodeIfPresent([String].self, forKey: .prefixes) ?? []
        ipRanges = try c.decodeIfPresent([String].self, forKey: .ipRanges) ?? []
    }

    public func contains(number e164: String, ip: String?) -> Bool {
        if numbers.contains(e164) || prefixes.contains(where: { e164.hasPrefix($0) }) { return true }
        guard let ip, let address = IPAddress(ip) else { return false }
        return ipRanges.contains { IPRange($0)?.contains(address) ?? false }
    }
}

/// Which security notifications a tenant sends (on a channel other than the code's).
public struct NotificationPolicy: Sendable, Equatable, Codable {
    /// After an approved password_reset or phone_change.
    public var afterApproval: Bool
    /// After a start was denied.
    public var afterBlocked: Bool
    /// After a start was stepped up.
    public var afterStepUp: Bool
    /// After a login or new-device start of a registered user was stepped up or denied: the user
    /// (in their language) and, when their group says so, their supervisor.
    public var suspiciousLogin: Bool

    public init(afterApproval: Bool = true, afterBlocked: Bool = false, afterStepUp: Bool = false, suspiciousLogin: Bool = true) {
        self.afterApproval = afterApproval
        self.afterBlocked = afterBlocked
        self.afterStepUp = afterStepUp
        self.suspiciousLogin = suspiciousLogin
    }

    enum CodingKeys: String, CodingKey {
        case afterApproval = "after_approval", afterBlocked = "after_blocked", afterStepUp = "after_step_up", suspiciousLogin = "suspicious_login"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        afterApproval = try c.decodeIfPresent(Bool.self, forKey: .afterApproval) ?? true
        afterBlocked = try c.decodeIfPresent(Bool.self, forKey: .afterBlocked) ?? false
        afterStepUp = try c.decodeIfPresent(Bool.self, forKey: .afterStepUp) ?? false
        suspiciousLogin = try c.decodeIfPresent(Bool.self, forKey: .suspiciousLogin) ?? true
    }
}

/// A tenant's risk and abuse settings: limits, scoring, pumping guard, safe list, notifications.
/// Missing parts of a document take Sandi's defaults.
public struct RiskSettings: Sendable, Equatable, Codable {
    public var limits: [LimitRule]
    public var risk: RiskPolicy
    public var pumping: PumpingPolicy
    public var safeList: SafeList
    public var notifications: NotificationPolicy

    public init(limits: [LimitRule] = RiskSettings.defaultLimits, risk: RiskPolicy = RiskPolicy(), pumping: PumpingPolicy = PumpingPolicy(),
                safeList: SafeList = SafeList(), notifications: NotificationPolicy = NotificationPolicy()) {
        self.limits = limits
        self.risk = risk
        self.pumping = pumping
        self.safeList = safeList
        self.notifications = notifications
    }

    public static let defaults = RiskSettings()

    /// Sandi's default limits (per start request that passed validation).
    public static let defaultLimits: [LimitRule] = [
        LimitRule(key: .destination, max: 5, windowSeconds: 600),
        LimitRule(key: .destination, max: 10, windowSeconds: 86_400),
        LimitRule(key: .userRef, max: 10, windowSeconds: 3600),
        LimitRule(key: .ip, max: 20, windowSeconds: 3600),
        LimitRule(key: .ipNetwork, max: 100, windowSeconds: 3600),
        LimitRule(key: .device, max: 10, windowSeconds: 3600),
        LimitRule(key: .numberPrefix, max: 300, windowSeconds: 3600, prefixDigits: 8),
        LimitRule(key: .country, max: 50_000, windowSeconds: 3600),
        LimitRule(key: .tenant, max: 500_000, windowSeconds: 86_400),
    ]

    enum CodingKeys: String, CodingKey { case limits, risk, pumping, safeList = "safe_list", notifications }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        limits = try c.decodeIfPresent([LimitRule].self, forKey: .limits) ?? Self.defaultLimits
        risk = try c.decodeIfPresent(RiskPolicy.self, forKey: .risk) ?? RiskPolicy()
        pumping = try c.decodeIfPresent(PumpingPolicy.self, forKey: .pumping) ?? PumpingPolicy()
        safeList = try c.decodeIfPresent(SafeList.self, forKey: .safeList) ?? SafeList()
        notifications = try c.decodeIfPresent(NotificationPolicy.self, forKey: .notifications) ?? NotificationPolicy()
    }

    /// What makes these settings unusable (empty when valid), as `(field, reason)`.
    public var problems: [FieldError] {
        var out: [FieldError] = []
        func check(_ ok: Bool, _ field: String, _ reason: String) { if !ok { out.append(FieldError(field: field, reason: reason)) } }
        check(limits.count <= 50, "limits", "at most 50 rules")
        for (i, rule) in limits.enumerated() {
            check((1...10_000_000).contains(rule.max), "limits[\(i)].max", "must be 1–10000000")
            check((1...30 * 86_400).contains(rule.windowSeconds), "limits[\(i)].window_s", "must be 1 s – 30 days")
            check(rule.prefixDigits.map { (2...15).contains($0) } ?? true, "limits[\(i)].prefix_digits", "must be 2–15")
        }
        check((1...10_000).contains(risk.stepUpAt), "risk.step_up_at", "must be 1–10000")
        check((1...10_000).contains(risk.denyAt), "risk.deny_at", "must be 1–10000")
        check(risk.weights.values.allSatisfy { (0...1000).contains($0) }, "risk.weights", "each weight must be 0–1000")
        check((1...10_000).contains(risk.ipVelocityMax), "risk.ip_velocity_max", "must be 1–10000")
        check((60...7 * 86_400).contains(risk.ipVelocityWindowSeconds), "risk.ip_velocity_window_s", "must be 60 s – 7 days")
        check((1...10_000).contains(risk.unusualHourMinHistory), "risk.unusual_hour_min_history", "must be 1–10000")
        check((1...365).contains(risk.numberChangeDays), "risk.number_change_days", "must be 1–365")
        check((1...2400).contains(risk.simSwapMaxAgeHours), "risk.sim_swap_max_age_h", "must be 1–2400 (CAMARA maxAge)")
        check((1...20).contains(risk.stepUpMaxSends), "risk.step_up_max_sends", "must be 1–20")
        check((1...10).contains(risk.stepUpCooldownFactor), "risk.step_up_cooldown_factor", "must be 1–10")
        check((3...15).contains(pumping.prefixDigits), "pumping.prefix_digits", "must be 3–15")
        check((300...7 * 86_400).contains(pumping.windowSeconds), "pumping.window_s", "must be 5 min – 7 days")
        check((1...1_000_000).contains(pumping.minVolume), "pumping.min_volume", "must be 1–1000000")
        check((0...1).contains(pumping.minConversion), "pumping.min_conversion", "must be 0–1")
        check((1...100).contains(pumping.riseFactor), "pumping.rise_factor", "must be 1–100")
        check((0...3600).contains(pumping.graceSeconds) && pumping.graceSeconds < pumping.windowSeconds, "pumping.grace_s", "must be 0–3600 s and shorter than the window")
        check((60...30 * 86_400).contains(pumping.blockSeconds), "pumping.block_s", "must be 1 min – 30 days")
        check(safeList.numbers.count + safeList.prefixes.count + safeList.ipRanges.count <= 1000, "safe_list", "at most 1000 entries")
        for (i, n) in safeList.numbers.enumerated() { check(Self.isE164(n, prefix: false), "safe_list.numbers[\(i)]", "must be an E.164 number") }
        for (i, p) in safeList.prefixes.enumerated() { check(Self.isE164(p, prefix: true), "safe_list.prefixes[\(i)]", "must be + and 1–15 digits") }
        for (i, r) in safeList.ipRanges.enumerated() { check(IPRange(r) != nil, "safe_list.ip_ranges[\(i)]", "must be an IP address or CIDR range") }
        return out
    }

    private static func isE164(_ s: String, prefix: Bool) -> Bool {
        let digits = s.utf8.dropFirst()
        return s.first == "+" && (prefix ? 1 : 7)...15 ~= digits.count && digits.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
