import Foundation

/// When a group's users must enter a code at login.
public enum TwoFactorRule: String, Sendable, Codable, CaseIterable {
    /// Every login, even on a trusted device.
    case always
    /// Only on a device that is not trusted (or from a new country).
    case newDevice = "new_device"
}

/// The policy of a group of users (e.g. worker, supervisor, admin): code rules, allowed
/// channels, when a code is mandatory, step-up rules, and what members may do for others.
/// Absent fields leave the purpose's defaults in force.
public struct GroupPolicy: Sendable, Equatable, Codable {
    public var codeLength: Int?
    public var ttlSeconds: Int?
    public var maxAttempts: Int?
    public var maxSends: Int?
    /// Channels codes may go out on (nil: every channel).
    public var channels: [Channel]?
    /// The group's plan, like `sms:45,voice` (a tenant's routing rule for the group wins).
    public var plan: String?
    public var twoFactor: TwoFactorRule
    /// Risk scores at which this group's starts step up and are denied (nil: the tenant's).
    public var stepUpAt: Int?
    public var denyAt: Int?
    /// Purposes that always step up for this group.
    public var stepUpPurposes: [Purpose]
    /// Hours after a number change (or a recovery) during which sensitive purposes step up.
    public var coolingOffHours: Int
    /// Members may approve other users' number changes and receive their suspicious-login alerts.
    public var canApprove: Bool
    /// A member's supervisor is told of the member's suspicious logins.
    public var alertSupervisor: Bool

    public init(codeLength: Int? = nil, ttlSeconds: Int? = nil, maxAttempts: Int? = nil, maxSends: Int? = nil, channels: [Channel]? = nil,
                plan: String? = nil, twoFactor: TwoFactorRule = .newDevice, stepUpAt: Int? = nil, denyAt: Int? = nil,
                stepUpPurposes: [Purpose] = [], coolingOffHours: Int = 72, canApprove: Bool = false, alertSupervisor: Bool = true) {
        self.codeLength = codeLength
        self.ttlSeconds = ttlSeconds
        self.maxAttempts = maxAttempts
        self.maxSends = maxSends
        self.channels = channels
        self.plan = plan
        self.twoFactor = twoFactor
        self.stepUpAt = stepUpAt
        self.denyAt = denyAt
        self.stepUpPurposes = stepUpPurposes
        self.coolingOffHours = coolingOffHours
        self.canApprove = canApprove
        self.alertSupervisor = alertSupervisor
    }

    enum CodingKeys: String, CodingKey {
        case codeLength = "code_length", ttlSeconds = "ttl_s", maxAttempts = "max_attempts", maxSends = "max_sends", channels, plan
        case twoFactor = "two_factor", stepUpAt = "step_up_at", denyAt = "deny_at", stepUpPurposes = "step_up_purposes"
        case coolingOffHours = "cooling_off_hours", canApprove = "can_approve", alertSupervisor = "alert_supervisor"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        codeLength = try c.decodeIfPresent(Int.self, forKey: .codeLength)
        ttlSeconds = try c.decodeIfPresent(Int.self, forKey: .ttlSeconds)
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts)
        maxSends = try c.decodeIfPresent(Int.self, forKey: .maxSends)
        channels = try c.decodeIfPresent([Channel].self, forKey: .channels)
        plan = try c.decodeIfPresent(String.self, forKey: .plan)
        twoFactor = try c.decodeIfPresent(TwoFactorRule.self, forKey: .twoFactor) ?? .newDevice
        stepUpAt = try c.decodeIfPresent(Int.self, forKey: .stepUpAt)
        denyAt = try c.decodeIfPresent(Int.self, forKey: .denyAt)
        stepUpPurposes = try c.decodeIfPresent([Purpose].self, forKey: .stepUpPurposes) ?? []
        coolingOffHours = try c.decodeIfPresent(Int.self, forKey: .coolingOffHours) ?? 72
        canApprove = try c.decodeIfPresent(Bool.self, forKey: .canApprove) ?? false
        alertSupervisor = try c.decodeIfPresent(Bool.self, forKey: .alertSupervisor) ?? true
    }

    /// A purpose's policy with this group's rules laid over it.
    public func applied(to policy: PurposePolicy) -> PurposePolicy {
        var out = policy
        if let codeLength { out.codeLength = codeLength }
        if let ttlSeconds { out.ttlSeconds = ttlSeconds }
        if let maxAttempts { out.maxAttempts = maxAttempts }
        if let maxSends { out.maxSends = maxSends }
        return out
    }

    func problems(prefix: String) -> [FieldError] {
        var out: [FieldError] = []
        func check(_ ok: Bool, _ field: String, _ reason: String) { if !ok { out.append(FieldError(field: prefix + field, reason: reason)) } }
        if let codeLength { check((OTPCode.minimumLength...OTPCode.maximumLength).contains(codeLength), "code_length", "must be 6–10") }
        if let ttlSeconds { check((30...86_400).contains(ttlSeconds), "ttl_s", "must be 30 s – 24 h") }
        if let maxAttempts { check((1...100).contains(maxAttempts), "max_attempts", "must be 1–100") }
        if let maxSends { check((1...20).contains(maxSends), "max_sends", "must be 1–20") }
        if let channels { check(!channels.isEmpty && Set(channels).count == channels.count, "channels", "must name at least one channel, each once") }
        if let plan { check(DeliveryPlan(parsing: plan) != nil, "plan", "must be steps like whatsapp:40,sms:45,voice (each channel once, timeouts 1–600 s)") }
        if let stepUpAt { check((1...1000).contains(stepUpAt), "step_up_at", "must be 1–1000") }
        if let denyAt { check((1...1000).contains(denyAt), "deny_at", "must be 1–1000") }
        if let stepUpAt, let denyAt { check(stepUpAt <= denyAt, "step_up_at", "must not be above deny_at") }
        check((0...2_160).contains(coolingOffHours), "cooling_off_hours", "must be 0–2160 (90 days)")
        return out
    }
}

/// A tenant's user groups and their policies; a document like the risk and routing settings
/// (`/v1/settings/groups`, the dashboard's settings page), every change audited.
public struct GroupSettings: Sendable, Equatable, Codable {
    public var groups: [String: GroupPolicy]
    /// The group of users who have none (nil: such users get the purposes' defaults).
    public var defaultGroup: String?

    public init(groups: [String: GroupPolicy] = GroupSettings.defaultGroups, defaultGroup: String? = nil) {
        self.groups = groups
        self.defaultGroup = defaultGroup
    }

    enum CodingKeys: String, CodingKey { case groups, defaultGroup = "default_group" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        groups = try c.decodeIfPresent([String: GroupPolicy].self, forKey: .groups) ?? Self.defaultGroups
        defaultGroup = try c.decodeIfPresent(String.self, forKey: .defaultGroup)
    }

    /// Sandi's groups: workers with the purposes' defaults; supervisors and admins with longer
    /// codes, shorter lives, fewer attempts, a code at every login, earlier step-ups and a
    /// week of cooling-off after a number change.
    public static let defaultGroups: [String: GroupPolicy] = [
        "worker": GroupPolicy(),
        "supervisor": GroupPolicy(codeLength: 8, ttlSeconds: 180, maxAttempts: 3, twoFactor: .always, stepUpAt: 30,
                                  coolingOffHours: 168, canApprove: true),
        "admin": GroupPolicy(codeLength: 8, ttlSeconds: 120, maxAttempts: 3, twoFactor: .always, stepUpAt: 20, denyAt: 60,
                             stepUpPurposes: [.phoneChange], coolingOffHours: 168, canApprove: true),
    ]

    /// The policy that applies to a user in `group` (nil: no group policy).
    public func policy(for group: String?) -> (name: String, policy: GroupPolicy)? {
        guard let name = group ?? defaultGroup, let policy = groups[name] else { return nil }
        return (name, policy)
    }

    /// The cooling-off hours of a user in `group` (a worker's 72 without a group policy).
    public func coolingOffHours(for group: String?) -> Int {
        policy(for: group)?.policy.coolingOffHours ?? GroupPolicy().coolingOffHours
    }

    public static func isValidName(_ name: String) -> Bool {
        (1...40).contains(name.utf8.count) && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
    }

    public var problems: [FieldError] {
        var out: [FieldError] = []
        if groups.count > 50 { out.append(FieldError(field: "groups", reason: "at most 50 groups")) }
        for (name, policy) in groups.sorted(by: { $0.key < $1.key }) {
            if !Self.isValidName(name) { out.append(FieldError(field: "groups.\(name)", reason: "names are 1–40 of a–z, 0–9, _ and -")) }
            out += policy.problems(prefix: "groups.\(name).")
        }
        if let defaultGroup, groups[defaultGroup] == nil { out.append(FieldError(field: "default_group", reason: "must name one of the groups")) }
        return out
    }
}

/// Each tenant's user groups.
public typealias GroupSettingsCache = TenantDocumentCache<GroupSettings>

extension TenantDocumentCache where Document == GroupSettings {
    public convenience init(store: any RiskStateStore, defaults: GroupSettings = GroupSettings(), clock: any TimeSource, ttlSeconds: Double = 5) {
        self.init(store: store, kind: "groups", defaults: defaults, clock: clock, ttlSeconds: ttlSeconds)
    }
}
