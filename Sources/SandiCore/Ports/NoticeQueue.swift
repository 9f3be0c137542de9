public import Foundation

/// Why a security notice is sent.
public enum NoticeKind: String, Sendable, Codable, CaseIterable {
    /// An approved password reset.
    case passwordReset = "password_reset"
    /// An approved phone number change.
    case phoneChange = "phone_change"
    /// A start that risk denied.
    case blocked
    /// A start that risk stepped up.
    case stepUp = "step_up"
    /// To a supervisor: a suspicious login of a user they supervise was stepped up or stopped.
    case supervisorAlert = "supervisor_alert"
    /// The account was recovered (a recovery code or an admin) and its trusted devices signed out.
    case accountRecovered = "account_recovered"
}

/// A security notification to the user, on a channel other than the code's: no code in it, only
/// what happened and what to do if it was not them.
public struct Notice: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var verificationID: String
    public var kind: NoticeKind
    public var channel: Channel
    public var to: String
    public var country: String?
    public var `operator`: String?
    public var locale: String
    public var purpose: Purpose
    public var createdAt: Date
    /// `queued`, then `sent` (or `delivered`) or `failed`.
    public var status: DeliveryStatus
    public var attempts: Int

    public init(id: String = Identifier.make(.notice), tenantID: String, verificationID: String, kind: NoticeKind, channel: Channel, to: String,
                country: String?, operator: String?, locale: String, purpose: Purpose, createdAt: Date, status: DeliveryStatus = .queued, attempts: Int = 0) {
        self.id = id
        self.tenantID = tenantID
        self.verificationID = verificationID
        self.kind = kind
        self.channel = channel
        self.to = to
        self.country = country
        self.operator = `operator`
        self.locale = locale
        self.purpose = purpose
        self.createdAt = createdAt
        self.status = status
        self.attempts = attempts
    }
}

/// The durable queue of security notices, claimed with leases like delivery jobs.
public protocol NoticeQueue: Sendable {
    /// Queues a notice (due at once) with its `notice.queued` event.
    func enqueueNotice(_ notice: Notice, event: Event) async throws
    /// Claims due notices (queued, lease free), counting the attempt.
    func claimDueNotices(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [Notice]
    /// Records a notice's final outcome if `owner` still holds it; false otherwise. A notice left
    /// unfinished is claimed again when its lease ends.
    func completeNotice(id: String, owner: String, status: DeliveryStatus, at: Date, event: Event) async throws -> Bool
    /// The notices of a verification, oldest first.
    func notices(verificationID: String, tenantID: String) async throws -> [Notice]
}
