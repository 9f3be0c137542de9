public import Foundation

/// Moving a user from one number to another. It completes when a code sent to the new number
/// was approved and either a code sent to the old number was approved too (`old_number`) or,
/// when the old number is gone, a supervisor or admin of the tenant approved (`approval`).
public struct PhoneChange: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case pending, completed, rejected, expired, blocked
    }

    public enum Method: String, Sendable, Codable {
        case oldNumber = "old_number"
        case approval
    }

    public var id: String
    public var userRef: String
    public var oldNumber: String
    public var newNumber: String
    public var method: Method
    public var status: Status
    public var newVerificationID: String
    public var oldVerificationID: String?
    public var approvedBy: String?
    public var approvedAt: Date?
    public var decidedNote: String?
    public var rejectedBy: String?
    public var createdAt: Date
    public var expiresAt: Date
    public var completedAt: Date?

    public init(id: String, userRef: String, oldNumber: String, newNumber: String, method: Method, status: Status, newVerificationID: String,
                oldVerificationID: String?, createdAt: Date, expiresAt: Date) {
        self.id = id
        self.userRef = userRef
        self.oldNumber = oldNumber
        self.newNumber = newNumber
        self.method = method
        self.status = status
        self.newVerificationID = newVerificationID
        self.oldVerificationID = oldVerificationID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case id, userRef = "user_ref", oldNumber = "old_number", newNumber = "new_number", method, status
        case newVerificationID = "new_verification_id", oldVerificationID = "old_verification_id", approvedBy = "approved_by"
        case approvedAt = "approved_at", decidedNote = "note", rejectedBy = "rejected_by", createdAt = "created_at"
        case expiresAt = "expires_at", completedAt = "completed_at"
    }

    /// The status as of `now` (a pending change past its expiry is expired).
    public func effectiveStatus(at now: Date) -> Status { status == .pending && now >= expiresAt ? .expired : status }

    /// How long an ended change stays readable (its history is in the audit trail for good):
    /// kept short so the list of pending changes stays small.
    public static let keptAfterEnd: TimeInterval = 7 * 86_400
    /// A pending change is kept until a week after it expires.
    public var keptUntil: Date { expiresAt.addingTimeInterval(Self.keptAfterEnd) }

    public static func key(tenantID: String, id: String) -> String { keyPrefix(tenantID: tenantID) + id }
    public static func keyPrefix(tenantID: String) -> String { "pchg|\(tenantID)|" }

    public func encoded() -> String { (try? String(decoding: UserAccount.encoder.encode(self), as: UTF8.self)) ?? "" }

    public static func decode(_ text: String?) -> PhoneChange? {
        guard let text, !text.isEmpty else { return nil }
        let d = JSONDecoder()
        d.dateDecodingStrategy = .millisecondsSince1970
        return try? d.decode(PhoneChange.self, from: Data(text.utf8))
    }
}

/// Why an account operation was refused; the HTTP adapter maps each to problem+json.
public enum AccountError: Error, Equatable, Sendable {
    /// No such user or phone change (404 `not_found`).
    case notFound(String)
    /// The request conflicts with the state (409, with its own code).
    case conflict(code: String, detail: String)
    /// The actor may not do this (403, with its own code).
    case forbidden(code: String, detail: String)
}
