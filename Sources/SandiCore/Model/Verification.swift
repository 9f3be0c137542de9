public import Foundation

/// The request context the app backend reports for its end user.
public struct ClientContext: Sendable, Hashable, Codable {
    public var ip: String?
    public var deviceID: String?
    public var userAgent: String?
    /// Android SMS Retriever app hash (11 characters).
    public var appHash: String?
    /// The country of the end user's IP address as the app backend knows it (ISO 3166-1 alpha-2).
    public var ipCountry: String?

    public init(ip: String? = nil, deviceID: String? = nil, userAgent: String? = nil, appHash: String? = nil, ipCountry: String? = nil) {
        self.ip = ip
        self.deviceID = deviceID
        self.userAgent = userAgent
        self.appHash = appHash
        self.ipCountry = ipCountry
    }
}

/// A transaction a code is bound to (PSD2 dynamic linking): amount, currency and payee.
public struct TransactionDetails: Sendable, Equatable, Codable {
    /// A decimal amount as the app wrote it (`1500000` or `12.50`); the check must present the same.
    public var amount: String
    /// ISO 4217 code, upper case.
    public var currency: String
    public var payee: String

    public init(amount: String, currency: String, payee: String) {
        self.amount = amount
        self.currency = currency
        self.payee = payee
    }

    /// What the code's HMAC is bound to.
    public var binding: String { "txn|\(currency)|\(amount)|\(payee)" }

    /// The amount as shown in messages.
    public var displayAmount: String { "\(currency) \(amount)" }

    /// Whether the fields are acceptable: amount 1–15 digits with up to 4 decimals, a 3-letter
    /// currency, a printable payee of 1–64 characters.
    public var problems: [FieldError] {
        var out: [FieldError] = []
        let parts = amount.split(separator: ".", omittingEmptySubsequences: false)
        let digits = { (s: Substring) in s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
        if !(parts.count == 1 || parts.count == 2) || !(1...15).contains(parts[0].count) || !parts.allSatisfy(digits)
            || (parts.count == 2 && !(1...4).contains(parts[1].count)) {
            out.append(FieldError(field: "transaction.amount", reason: "must be a decimal amount such as 1500000 or 12.50"))
        }
        if currency.utf8.count != 3 || !currency.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) {
            out.append(FieldError(field: "transaction.currency", reason: "must be an ISO 4217 code such as IDR"))
        }
        if !(1...64).contains(payee.count) || payee.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) || payee.contains("|") {
            out.append(FieldError(field: "transaction.payee", reason: "must be 1–64 printable characters without |"))
        }
        return out
    }
}

/// The risk assessment attached to a verification.
public struct RiskAssessment: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable { case allow, stepUp = "step_up", deny }
    public var level: String
    public var score: Int
    public var action: Action
    public var reasons: [String]
    /// In record-only mode: the action the policy decided but did not take.
    public var recordedAction: Action?

    public init(level: String = "low", score: Int = 0, action: Action = .allow, reasons: [String] = [], recordedAction: Action? = nil) {
        self.level = level
        self.score = score
        self.action = action
        self.reasons = reasons
        self.recordedAction = recordedAction
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
    /// The transaction a `sensitive_action` code is bound to (its details are in the message and in
    /// the code's HMAC, so the code approves only that transaction).
    public var transaction: TransactionDetails?

    public init(
        id: String, tenantID: String, to: String, country: String?, operator: String?, purpose: Purpose,
        userRef: String?, locale: String, codeLength: Int, digest: CodeDigest, sealed: SealedCode?,
        status: VerificationStatus, channel: Channel?, plan: DeliveryPlan, planIndex: Int, createdAt: Date,
        expiresAt: Date, updatedAt: Date, attemptsUsed: Int, maxAttempts: Int, sendsUsed: Int, maxSends: Int,
        resends: Int, resendAvailableAt: Date, context: ClientContext, risk: RiskAssessment, deliveries: [Delivery],
        transaction: TransactionDetails? = nil
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
        self.transaction = transaction
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
