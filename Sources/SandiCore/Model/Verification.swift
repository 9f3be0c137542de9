public import Foundation

/// The request context the app backend reports for its end user.
public struct ClientContext: Sendable, Equatable, Codable {
    public var ip: String?
    public var deviceID: String?
    public var userAgent: String?
    /// Android SMS Retriever app hash (11 characters).
    public var appHash: String?

    public init(ip: String? = nil, deviceID: String? = nil, userAgent: String? = nil, appHash: String? = nil) {
        self.ip = ip
        self.deviceID = deviceID
        self.userAgent = userAgent
        self.appHash = appHash
    }
}

/// The risk assessment attached to a verification.
public struct RiskAssessment: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Codable { case allow, stepUp = "step_up", deny }
    public var level: String
    public var score: Int
    public var action: Action
    public var reasons: [String]

    public init(level: String = "low", score: Int = 0, action: Action = .allow, reasons: [String] = []) {
        self.level = level
        self.score = score
        self.action = action
        self.reasons = reasons
    }
}

/// A verification: one code, for one purpose, to one destination, with its plan and deliveries.
public struct Verification: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var to: String
    public var country: String?
    public var `operator`: String?
    public var purpose: Purpose
    public var userRef: String?
    public var locale: String
    public var codeLength: Int
    public var digest: CodeDigest
    /// The sealed code while pending; nil once the verification is final.
    public var sealed: SealedCode?
    public var status: VerificationStatus
    public var channel: Channel?
    public var plan: DeliveryPlan
    /// Index in `plan` of the step now carrying the code.
    public var planIndex: Int
    public var createdAt: Date
    public var expiresAt: Date
    public var updatedAt: Date
    public var attemptsUsed: Int
    public var maxAttempts: Int
    public var sendsUsed: Int
    public var maxSends: Int
    /// Resends made at the user's request (drives the growing cooldown).
    public var resends: Int
    public var resendAvailableAt: Date
    public var context: ClientContext
    public var risk: RiskAssessment
    public var deliveries: [Delivery]

    public init(
        id: String, tenantID: String, to: String, country: String?, operator: String?, purpose: Purpose,
        userRef: String?, locale: String, codeLength: Int, digest: CodeDigest, sealed: SealedCode?,
        status: VerificationStatus, channel: Channel?, plan: DeliveryPlan, planIndex: Int, createdAt: Date,
        expiresAt: Date, updatedAt: Date, attemptsUsed: Int, maxAttempts: Int, sendsUsed: Int, maxSends: Int,
        resends: Int, resendAvailableAt: Date, context: ClientContext, risk: RiskAssessment, deliveries: [Delivery]
    ) {
        self.id = id
        self.tenantID = tenantID
        self.to = to
        self.country = country
        self.operator = `operator`
        self.purpose = purpose
        self.userRef = userRef
        self.locale = locale
        self.codeLength = codeLength
        self.digest = digest
        self.sealed = sealed
        self.status = status
        self.channel = channel
        self.plan = plan
        self.planIndex = planIndex
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.updatedAt = updatedAt
        self.attemptsUsed = attemptsUsed
        self.maxAttempts = maxAttempts
        self.sendsUsed = sendsUsed
        self.maxSends = maxSends
        self.resends = resends
        self.resendAvailableAt = resendAvailableAt
        self.context = context
        self.risk = risk
        self.deliveries = deliveries
    }

    /// The status as seen at `now`: a pending verification past its expiry is `expired`.
    public func effectiveStatus(at now: Date) -> VerificationStatus {
        status == .pending && now >= expiresAt ? .expired : status
    }

    public var attemptsRemaining: Int { max(0, maxAttempts - attemptsUsed) }
    public var sendsRemaining: Int { max(0, maxSends - sendsUsed) }
}

/// One send attempt of a verification's code over one channel.
public struct Delivery: Sendable, Equatable {
    public var id: String
    public var verificationID: String
    public var tenantID: String
    public var channel: Channel
    public var provider: String
    public var status: DeliveryStatus
    public var planIndex: Int
    public var queuedAt: Date
    public var sentAt: Date?
    public var deliveredAt: Date?
    public var readAt: Date?
    public var failedAt: Date?
    public var error: String?
    public var providerMessageID: String?

    public init(
        id: String, verificationID: String, tenantID: String, channel: Channel, provider: String,
        status: DeliveryStatus, planIndex: Int, queuedAt: Date, sentAt: Date? = nil, deliveredAt: Date? = nil,
        readAt: Date? = nil, failedAt: Date? = nil, error: String? = nil, providerMessageID: String? = nil
    ) {
        self.id = id
        self.verificationID = verificationID
        self.tenantID = tenantID
        self.channel = channel
        self.provider = provider
        self.status = status
        self.planIndex = planIndex
        self.queuedAt = queuedAt
        self.sentAt = sentAt
        self.deliveredAt = deliveredAt
        self.readAt = readAt
        self.failedAt = failedAt
        self.error = error
        self.providerMessageID = providerMessageID
    }
}

/// One recorded event of a verification's timeline. Never carries a code or a full phone number.
public struct Event: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var verificationID: String?
    public var type: String
    public var createdAt: Date
    public var data: [String: JSONValue]

    public init(id: String = Identifier.make(.event), tenantID: String, verificationID: String?, type: String, createdAt: Date, data: [String: JSONValue] = [:]) {
        self.id = id
        self.tenantID = tenantID
        self.verificationID = verificationID
        self.type = type
        self.createdAt = createdAt
        self.data = data
    }
}

extension Delivery {
    /// Applies a receipt if it moves the delivery forward, stamping the times it implies
    /// (`read` implies delivered and sent). Returns false, changing nothing, otherwise.
    @discardableResult
    public mutating func apply(_ receipt: DeliveryStatus, at: Date, error: String? = nil) -> Bool {
        guard status.canMove(to: receipt) else { return false }
        status = receipt
        if let error { self.error = error }
        switch receipt {
        case .sent: sentAt = sentAt ?? at
        case .delivered: sentAt = sentAt ?? at; deliveredAt = deliveredAt ?? at
        case .read: sentAt = sentAt ?? at; deliveredAt = deliveredAt ?? at; readAt = readAt ?? at
        case .failed, .undeliverable: failedAt = failedAt ?? at
        case .queued, .canceled: break
        }
        return true
    }
}
