/// A field that failed validation, and why.
public struct FieldError: Sendable, Equatable, Codable {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// Why the verification service refused a request. Each case has a stable machine code; the HTTP
/// adapter maps them to problem+json in one place.
public enum VerificationError: Error, Equatable, Sendable {
    case invalidRequest([FieldError])
    case invalidPhoneNumber(String)
    case unsupportedPurpose(String)
    case notFound
    case notPending(VerificationStatus)
    case channelUnavailable(Channel)
    case maxSendsReached
    case resendTooSoon(retryAfter: Int)
    case rateLimited(limit: String, retryAfter: Int)
    case destinationNotAllowed(String)
    case grantNotFound
    case grantExpired
    case grantAlreadyRedeemed

    /// The stable machine code of the contract.
    public var code: String {
        switch self {
        case .invalidRequest: "invalid_request"
        case .invalidPhoneNumber: "invalid_phone_number"
        case .unsupportedPurpose: "unsupported_purpose"
        case .notFound: "not_found"
        case .notPending: "verification_not_pending"
        case .channelUnavailable: "channel_unavailable"
        case .maxSendsReached: "max_sends_reached"
        case .resendTooSoon: "resend_too_soon"
        case .rateLimited: "rate_limited"
        case .destinationNotAllowed: "destination_not_allowed"
        case .grantNotFound: "grant_not_found"
        case .grantExpired: "grant_expired"
        case .grantAlreadyRedeemed: "grant_already_redeemed"
        }
    }
}

extension PhoneNumberError {
    /// A human explanation, with no digits of the number in it.
    public var explanation: String {
        switch self {
        case .empty: "the number has no digits"
        case .invalidCharacters: "only digits, a leading +, spaces, dashes, dots and brackets are allowed"
        case .unknownCountry(let c): "unknown country '\(c.prefix(8))'"
        case .countryRequired: "a national number needs `country` (ISO 3166-1 alpha-2), or write it in E.164 (+…)"
        case .unknownCallingCode: "no country uses this calling code"
        case .wrongLength: "the number has the wrong length for its country"
        case .notMobile: "the number is not a mobile number of its country"
        }
    }
}
