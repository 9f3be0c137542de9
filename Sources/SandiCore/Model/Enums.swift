/// What a verification is for. A code is valid only for the verification (hence purpose) it was issued for.
public enum Purpose: String, Sendable, Codable, CaseIterable {
    case passwordReset = "password_reset"
    case login
    case newDevice = "new_device"
    case phoneChange = "phone_change"
    case sensitiveAction = "sensitive_action"
    case signup
}

/// A delivery channel.
public enum Channel: String, Sendable, Codable, CaseIterable, Hashable {
    case whatsapp
    case sms
    case voice
}

/// The life of a verification: `pending` → `approved` | `expired` | `canceled` | `locked`;
/// `blocked` when it was denied at creation.
public enum VerificationStatus: String, Sendable, Codable, CaseIterable {
    case pending, approved, expired, canceled, locked, blocked

    /// Whether no further change can happen.
    public var isFinal: Bool { self != .pending }
}

/// The normalized delivery state machine: queued → sent → delivered → read, or failed / undeliverable;
/// canceled when the send was withdrawn before it left.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    case queued, sent, delivered, read, failed, undeliverable, canceled

    /// Rank used to keep transitions monotone: a receipt never moves a delivery backwards.
    public var rank: Int {
        switch self {
        case .queued: 0
        case .sent: 1
        case .delivered: 2
        case .read: 3
        case .failed, .undeliverable, .canceled: 4
        }
    }

    /// Whether the message is known to have reached the phone.
    public var reachedPhone: Bool { self == .delivered || self == .read }

    /// Whether the send failed (the plan should move on).
    public var isFailure: Bool { self == .failed || self == .undeliverable }

    /// Whether `next` may follow `self`: forward only, and nothing after a final state.
    public func canMove(to next: DeliveryStatus) -> Bool {
        switch self {
        case .failed, .undeliverable, .canceled, .read: return false
        case .delivered: return next == .read
        default:
            if next == .canceled { return self == .queued }
            return next.rank > rank
        }
    }
}
