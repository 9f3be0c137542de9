/// Per-purpose rules for codes: lifetime, attempts, sends, cooldowns and grants.
public struct PurposePolicy: Sendable, Equatable, Codable {
    /// How long a code lives, in seconds.
    public var ttlSeconds: Int
    /// Digits in the code (6–10).
    public var codeLength: Int
    /// Wrong codes allowed before the verification locks.
    public var maxAttempts: Int
    /// Send attempts allowed (the first send, resends and automatic fallbacks).
    public var maxSends: Int
    /// Waits before each resend: the n-th resend waits `resendCooldowns[min(n, count) - 1]` seconds.
    public var resendCooldowns: [Int]
    /// Whether approval hands out a single-use grant token.
    public var issuesGrant: Bool
    /// How long a grant token lives, in seconds.
    public var grantTTLSeconds: Int

    public init(
        ttlSeconds: Int, codeLength: Int = 6, maxAttempts: Int = 5, maxSends: Int = 5,
        resendCooldowns: [Int] = [30, 60, 120, 240], issuesGrant: Bool = false, grantTTLSeconds: Int = 600
    ) {
        self.ttlSeconds = ttlSeconds
        self.codeLength = codeLength
        self.maxAttempts = maxAttempts
        self.maxSends = maxSends
        self.resendCooldowns = resendCooldowns
        self.issuesGrant = issuesGrant
        self.grantTTLSeconds = grantTTLSeconds
    }

    /// Seconds to wait after the `sendsSoFar`-th send before the next resend.
    public func cooldown(afterSends sendsSoFar: Int) -> Int {
        guard !resendCooldowns.isEmpty else { return 0 }
        return resendCooldowns[min(max(sendsSoFar, 1), resendCooldowns.count) - 1]
    }

    /// Problems that make this policy unsafe or unusable (empty when valid).
    public var problems: [String] {
        var out: [String] = []
        if !(OTPCode.minimumLength...OTPCode.maximumLength).contains(codeLength) { out.append("code_length must be 6–10") }
        if !(30...86_400).contains(ttlSeconds) { out.append("ttl must be 30 s – 24 h") }
        if !(1...100).contains(maxAttempts) { out.append("max_attempts must be 1–100") }
        if !(1...20).contains(maxSends) { out.append("max_sends must be 1–20") }
        if resendCooldowns.contains(where: { $0 < 0 }) { out.append("cooldowns must not be negative") }
        if !(30...86_400).contains(grantTTLSeconds) { out.append("grant ttl must be 30 s – 24 h") }
        return out
    }
}

/// The policies of every purpose, and the limit on wrong codes across verifications.
public struct PolicySet: Sendable, Equatable {
    public var byPurpose: [Purpose: PurposePolicy]
    /// Consecutive wrong codes allowed per destination and purpose across verifications (NIST: ≤ 100).
    public var maxFailedChecksPerDestination: Int
    /// Seconds after the last wrong code at which that count starts again from zero.
    public var failedCheckWindowSeconds: Int

    public init(byPurpose: [Purpose: PurposePolicy], maxFailedChecksPerDestination: Int = 10, failedCheckWindowSeconds: Int = 86_400) {
        self.byPurpose = byPurpose
        self.maxFailedChecksPerDestination = maxFailedChecksPerDestination
        self.failedCheckWindowSeconds = failedCheckWindowSeconds
    }

    /// The policy for a purpose (every purpose has one).
    public func policy(for purpose: Purpose) -> PurposePolicy {
        byPurpose[purpose] ?? PurposePolicy(ttlSeconds: 300)
    }

    /// Sandi's defaults: password reset 300 s, login 180 s, 5 attempts, 5 sends, cooldowns 30/60/120/240 s;
    /// password_reset and phone_change issue 10-minute grants.
    public static let defaults = PolicySet(byPurpose: [
        .passwordReset: PurposePolicy(ttlSeconds: 300, issuesGrant: true),
        .login: PurposePolicy(ttlSeconds: 180),
        .newDevice: PurposePolicy(ttlSeconds: 300),
        .phoneChange: PurposePolicy(ttlSeconds: 300, issuesGrant: true),
        .sensitiveAction: PurposePolicy(ttlSeconds: 180, maxAttempts: 3),
        .signup: PurposePolicy(ttlSeconds: 600),
    ])
}
