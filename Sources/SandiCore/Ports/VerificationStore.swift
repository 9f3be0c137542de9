public import Foundation

/// Everything written atomically when a verification starts.
public struct VerificationCreation: Sendable {
    /// The new verification, with its first delivery (queued) in `deliveries` unless it was blocked.
    public var verification: Verification
    /// The send job for the first delivery (nil when nothing is to be sent).
    public var job: DeliveryJobRecord?
    /// Events of the new verification, oldest first.
    public var events: [Event]
    /// Consecutive wrong codes a destination may have (per purpose) before starts are refused; the
    /// new verification's attempts are capped by what is left.
    public var failedCheckCap: Int
    /// Seconds after the last wrong code at which the count starts again.
    public var failedCheckWindowSeconds: Int
    /// Whether the new verification cancels the live one of the same destination and purpose
    /// (false for a blocked start: a denied request must not take the real user's code away).
    public var supersedes: Bool

    public init(verification: Verification, job: DeliveryJobRecord?, events: [Event], failedCheckCap: Int = .max, failedCheckWindowSeconds: Int = 86_400, supersedes: Bool = true) {
        self.verification = verification
        self.job = job
        self.events = events
        self.failedCheckCap = failedCheckCap
        self.failedCheckWindowSeconds = failedCheckWindowSeconds
        self.supersedes = supersedes
    }
}

/// What starting a verification did.
public enum CreationOutcome: Sendable, Equatable {
    /// Stored, with the ids it superseded and the attempts it got (the policy's, capped by the
    /// destination's recent wrong codes).
    case created(superseded: [String], maxAttempts: Int)
    /// Nothing stored: the destination reached the cap of wrong codes; it was last failed then.
    case limited(lastFailedAt: Date)
}

/// A check to apply atomically; the code was already compared by the core.
public struct CheckRecord: Sendable {
    public var verificationID: String
    public var tenantID: String
    public var valid: Bool
    public var now: Date
    /// The grant to store when a valid code approves (nil when the purpose issues none).
    public var grant: Grant?
    /// Window for the per-destination count of wrong codes.
    public var failedCheckWindowSeconds: Int

    public init(verificationID: String, tenantID: String, valid: Bool, now: Date, grant: Grant?, failedCheckWindowSeconds: Int) {
        self.verificationID = verificationID
        self.tenantID = tenantID
        self.valid = valid
        self.now = now
        self.grant = grant
        self.failedCheckWindowSeconds = failedCheckWindowSeconds
    }
}

/// What a check did.
public enum CheckApplied: Sendable, Equatable {
    /// The code was right and this check approved the verification.
    case approved(Verification)
    /// The code was wrong: one attempt fewer (locked at zero).
    case rejected(Verification)
    /// Nothing changed: the verification was no longer pending (or expired) when the check arrived.
    case unchanged(Verification)
    /// No such verification for this tenant.
    case notFound
}

/// A resend (or channel switch) to apply atomically if the verification is still as the core saw it.
public struct ResendRecord: Sendable {
    public var verificationID: String
    public var tenantID: String
    /// `sendsUsed` as read by the core; the resend applies only if nothing changed since.
    public var expectedSendsUsed: Int
    public var channel: Channel
    public var planIndex: Int
    public var delivery: Delivery
    public var job: DeliveryJobRecord
    public var resendAvailableAt: Date
    public var now: Date
    public var events: [Event]

    public init(verificationID: String, tenantID: String, expectedSendsUsed: Int, channel: Channel, planIndex: Int, delivery: Delivery, job: DeliveryJobRecord, resendAvailableAt: Date, now: Date, events: [Event]) {
        self.verificationID = verificationID
        self.tenantID = tenantID
        self.expectedSendsUsed = expectedSendsUsed
        self.channel = channel
        self.planIndex = planIndex
        self.delivery = delivery
        self.job = job
        self.resendAvailableAt = resendAvailableAt
        self.now = now
        self.events = events
    }
}

/// Consecutive wrong codes for a destination and purpose, across verifications.
public struct FailedCheckCount: Sendable, Equatable {
    public var count: Int
    public var lastFailedAt: Date?

    public init(count: Int, lastFailedAt: Date?) {
        self.count = count
        self.lastFailedAt = lastFailedAt
    }
}

/// Storage of verifications, their deliveries and their events.
public protocol VerificationStore: Sendable {
    /// In one atomic step: refuses when the destination's wrong codes reached the cap; otherwise
    /// cancels the pending verification of the same tenant, destination and purpose (withdrawing its
    /// queued sends and wiping its sealed code, with a `verification.canceled` event) and inserts the
    /// new verification (attempts capped by what the wrong-code count leaves), its first delivery
    /// and job, and its events.
    func create(_ creation: VerificationCreation) async throws -> CreationOutcome

    /// The verification, with its deliveries when `deliveries` is true, if it belongs to the tenant.
    func verification(id: String, tenantID: String, deliveries: Bool) async throws -> Verification?

    /// The pending, unexpired verification of a destination and purpose.
    func liveVerification(tenantID: String, to: String, purpose: Purpose, now: Date) async throws -> Verification?

    /// Applies a check in one atomic step: approval happens once; a wrong code uses one attempt
    /// (locking at the limit) and counts against the destination; approval resets that count.
    /// The verification returned carries no deliveries.
    func applyCheck(_ check: CheckRecord) async throws -> CheckApplied

    /// Applies a resend if the verification is still pending, unexpired and unchanged; false otherwise.
    func applyResend(_ resend: ResendRecord) async throws -> Bool

    /// Cancels a pending verification (withdrawing queued sends); nil when not found, false when not pending.
    func cancel(id: String, tenantID: String, now: Date) async throws -> Bool?

    /// The events of a verification, oldest first.
    func events(verificationID: String, tenantID: String) async throws -> [Event]

    /// Consecutive wrong codes for a destination and purpose within the window.
    func failedChecks(tenantID: String, to: String, purpose: Purpose, now: Date, windowSeconds: Int) async throws -> FailedCheckCount

    /// Marks pending verifications past expiry as expired (withdrawing queued sends, wiping sealed
    /// codes, with a `verification.expired` event). Returns how many.
    func expireDue(now: Date, limit: Int) async throws -> Int
}

extension VerificationStore {
    /// The verification with its deliveries, if it belongs to the tenant.
    public func verification(id: String, tenantID: String) async throws -> Verification? {
        try await verification(id: id, tenantID: tenantID, deliveries: true)
    }
}

/// What an approving check writes besides the approval: what it teaches the risk state, and
/// the security notice it queues.
public struct ApprovalFollowUp: Sendable {
    /// The risk state keys `learn` reads.
    public var riskKeys: [String]
    /// Says what the approval writes to the risk state, given the values of `riskKeys` unexpired
    /// at the check's `now`.
    public var learn: @Sendable ([String: String]) -> RiskStateWrite
    /// The notice to queue, with its `notice.queued` event; nil for none.
    public var notice: (notice: Notice, event: Event)?

    public init(riskKeys: [String], learn: @escaping @Sendable ([String: String]) -> RiskStateWrite, notice: (notice: Notice, event: Event)?) {
        self.riskKeys = riskKeys
        self.learn = learn
        self.notice = notice
    }
}

/// A check whose approval brings its follow-up writes.
public protocol ApprovalStore: Sendable {
    /// Applies a check as ``VerificationStore/applyCheck(_:)`` does and, when it approves, writes
    /// `approval` (the risk state it teaches, the notice); a check that does not approve writes
    /// none of it. Stores that can do so in the check's atomic step (SQLite: one unit, one commit)
    /// do; the default writes the follow-up right after the approval, both parts at once.
    func applyCheck(_ check: CheckRecord, approval: ApprovalFollowUp) async throws -> CheckApplied
}

extension ApprovalStore where Self: VerificationStore & RiskStateStore & NoticeQueue {
    public func applyCheck(_ check: CheckRecord, approval: ApprovalFollowUp) async throws -> CheckApplied {
        let applied = try await applyCheck(check)
        guard case .approved = applied else { return applied }
        // They touch different state: asked for at once, they can share a commit.
        async let learned: Void = updateRiskState(keys: approval.riskKeys, now: check.now) { state in ((), approval.learn(state)) }
        if let queued = approval.notice { try await enqueueNotice(queued.notice, event: queued.event) }
        try await learned
        return applied
    }
}
