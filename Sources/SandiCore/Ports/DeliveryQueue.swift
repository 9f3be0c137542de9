public import Foundation

/// What a durable job does when it comes due.
public enum JobKind: String, Sendable, Codable {
    /// Hand the delivery to its provider.
    case send
    /// The delivery's step timed out: unless it reached the phone meanwhile, fall back to the next step.
    case fallback
}

/// A durable job: send one delivery, or check one delivery's receipt, when due. Jobs live in
/// storage, are claimed with leases, and so survive crashes and restarts.
public struct DeliveryJobRecord: Sendable, Equatable {
    public var id: String
    public var kind: JobKind
    /// The delivery to send, or the one whose receipt is awaited.
    public var deliveryID: String
    public var verificationID: String
    public var tenantID: String
    public var dueAt: Date

    public init(id: String = Identifier.make(.job), kind: JobKind = .send, deliveryID: String, verificationID: String, tenantID: String, dueAt: Date) {
        self.id = id
        self.kind = kind
        self.deliveryID = deliveryID
        self.verificationID = verificationID
        self.tenantID = tenantID
        self.dueAt = dueAt
    }
}

/// A job a worker holds a lease on, with what it needs to send.
public struct ClaimedJob: Sendable, Equatable {
    public var job: DeliveryJobRecord
    public var delivery: Delivery
    public var verification: Verification
    /// How many times this job was claimed (1 on the first claim).
    public var attempt: Int

    public init(job: DeliveryJobRecord, delivery: Delivery, verification: Verification, attempt: Int) {
        self.job = job
        self.delivery = delivery
        self.verification = verification
        self.attempt = attempt
    }
}

/// The next send after a failure, created in the same step as the outcome.
public struct FallbackRecord: Sendable {
    public var delivery: Delivery
    public var job: DeliveryJobRecord
    public var events: [Event]

    public init(delivery: Delivery, job: DeliveryJobRecord, events: [Event]) {
        self.delivery = delivery
        self.job = job
        self.events = events
    }
}

/// What became of a claimed job's send.
public struct SendOutcome: Sendable {
    public var jobID: String
    public var leaseOwner: String
    public var deliveryID: String
    public var verificationID: String
    public var tenantID: String
    /// sent, delivered, failed or undeliverable.
    public var status: DeliveryStatus
    public var providerMessageID: String?
    public var error: String?
    public var at: Date
    public var events: [Event]
    /// The next step when this send failed and the plan has one (applied only if the verification is
    /// still pending, unexpired and has sends left).
    public var fallback: FallbackRecord?
    /// The step's receipt timer, when the send left without a receipt and the plan has a next step.
    public var timer: DeliveryJobRecord?
    /// Until when to remember that the destination cannot use the delivery's channel (set when a
    /// provider answered "undeliverable", e.g. not on WhatsApp). A message that reached the phone
    /// clears what was remembered about its channel.
    public var unusableUntil: Date?

    public init(jobID: String, leaseOwner: String, deliveryID: String, verificationID: String, tenantID: String, status: DeliveryStatus, providerMessageID: String?, error: String?, at: Date, events: [Event], fallback: FallbackRecord?, timer: DeliveryJobRecord? = nil, unusableUntil: Date? = nil) {
        self.jobID = jobID
        self.leaseOwner = leaseOwner
        self.deliveryID = deliveryID
        self.verificationID = verificationID
        self.tenantID = tenantID
        self.status = status
        self.providerMessageID = providerMessageID
        self.error = error
        self.at = at
        self.events = events
        self.fallback = fallback
        self.timer = timer
        self.unusableUntil = unusableUntil
    }
}

/// The durable outbox of sends, shared by every worker through leases.
public protocol DeliveryQueue: Sendable {
    /// Leases up to `limit` due jobs to `owner` until `now + leaseSeconds`. Jobs whose verification is
    /// no longer pending or has expired are withdrawn (a queued delivery `canceled`) instead of
    /// returned; a send job is returned only while its delivery is queued.
    func claimDue(now: Date, owner: String, leaseSeconds: Double, limit: Int) async throws -> [ClaimedJob]

    /// Records a job's outcome and closes the job, if `owner` still holds its lease; returns false
    /// (changing nothing) when the lease was lost. The delivery's status changes only while it is
    /// queued (a timer's outcome leaves a sent delivery as it is); the fallback and the timer, if
    /// any, are stored in the same step.
    func complete(_ outcome: SendOutcome) async throws -> Bool

    /// Returns a job to the queue, due at `dueAt` (a transient failure, or shutdown).
    func release(jobID: String, owner: String, dueAt: Date) async throws

    /// Applies a delivery receipt if it moves the delivery forward, with `events` (kept only then);
    /// a failed or undeliverable receipt makes the delivery's pending receipt timer due at once, so
    /// the plan moves on now. Returns the delivery after it (unchanged when the receipt was stale).
    /// An `undeliverable` receipt with `unusableUntil` also remembers that the destination cannot
    /// use the channel (as a synchronous "undeliverable" answer does).
    func applyReceipt(deliveryID: String, status: DeliveryStatus, at: Date, error: String?, events: [Event], unusableUntil: Date?) async throws -> Delivery?

    /// A delivery by id (any tenant: receipts name deliveries, not tenants).
    func delivery(id: String) async throws -> Delivery?

    /// A delivery by the id its provider gave the message (receipts of protocols such as SMPP
    /// name only that).
    func delivery(provider: String, providerMessageID: String) async throws -> Delivery?

    /// When the earliest pending job is due (nil when none is pending).
    func nextDueAt() async throws -> Date?

    /// How many jobs are pending.
    func pendingJobCount() async throws -> Int

    /// What the tenant's past sends taught about a destination: channels it cannot use (from
    /// providers' "undeliverable" answers, not yet expired) and the channel that last worked.
    func channelMemory(tenantID: String, to: String, now: Date) async throws -> ChannelMemory
}

/// What a tenant's past sends taught about a destination's channels.
public struct ChannelMemory: Sendable, Equatable {
    /// Channels a provider said this destination cannot use, not yet expired.
    public var unusable: Set<Channel>
    /// The channel that last got a code to the phone (a delivered or read receipt), and when.
    public var lastWorked: (channel: Channel, at: Date)?

    public init(unusable: Set<Channel> = [], lastWorked: (channel: Channel, at: Date)? = nil) {
        self.unusable = unusable
        self.lastWorked = lastWorked
    }

    public static func == (a: ChannelMemory, b: ChannelMemory) -> Bool {
        a.unusable == b.unusable && a.lastWorked?.channel == b.lastWorked?.channel && a.lastWorked?.at == b.lastWorked?.at
    }
}

extension DeliveryQueue {
    /// Channels a destination is known not to use.
    public func unusableChannels(tenantID: String, to: String, now: Date) async throws -> Set<Channel> {
        try await channelMemory(tenantID: tenantID, to: to, now: now).unusable
    }

    /// Applies a receipt without events.
    public func applyReceipt(deliveryID: String, status: DeliveryStatus, at: Date, error: String?) async throws -> Delivery? {
        try await applyReceipt(deliveryID: deliveryID, status: status, at: at, error: error, events: [], unusableUntil: nil)
    }
}
