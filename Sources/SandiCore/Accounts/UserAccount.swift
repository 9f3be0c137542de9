public import Foundation

/// One number a user moved away from: when, how it was proven, and the numbers (masked, with a
/// keyed digest so the risk engine can recognise a number coming back).
public struct NumberChange: Sendable, Equatable, Codable {
    /// How the move was proven: `old_number` (a code to both numbers), `approval` (a code to the
    /// new number and a supervisor's or admin's approval), `admin_recovery`.
    public var method: String
    public var from: String?
    public var fromDigest: String?
    public var to: String
    public var at: Date
    /// Who approved (a supervisor's user_ref, `dashboard:<admin>`), when someone did.
    public var approvedBy: String?

    public init(method: String, from: String?, fromDigest: String?, to: String, at: Date, approvedBy: String? = nil) {
        self.method = method
        self.from = from
        self.fromDigest = fromDigest
        self.to = to
        self.at = at
        self.approvedBy = approvedBy
    }

    enum CodingKeys: String, CodingKey { case method, from, fromDigest = "from_digest", to, at, approvedBy = "approved_by" }
}

/// A user's recovery codes: keyed hashes only, each usable once.
public struct RecoveryCodeSet: Sendable, Equatable, Codable {
    public var keyID: String
    /// Hex HMACs of the unused codes.
    public var unused: [String]
    public var createdAt: Date
    /// Wrong codes in a row and the last one (ms), for the lockout.
    public var failures: Int
    public var lastFailure: Int64

    public init(keyID: String, unused: [String], createdAt: Date, failures: Int = 0, lastFailure: Int64 = 0) {
        self.keyID = keyID
        self.unused = unused
        self.createdAt = createdAt
        self.failures = failures
        self.lastFailure = lastFailure
    }

    enum CodingKeys: String, CodingKey { case keyID = "key_id", unused, createdAt = "created_at", failures, lastFailure = "last_failure" }
}

/// What a tenant told Sandi about one of its users (by the app's own `user_ref`): the number
/// codes go to, the group whose policy applies, language and channel preferences, who
/// supervises them; and what Sandi learnt: the number history, a cooling-off period after a
/// number change, recovery codes.
public struct UserAccount: Sendable, Equatable, Codable {
    public var userRef: String
    public var phone: String?
    public var group: String?
    public var locale: String?
    public var preferredChannel: Channel?
    public var supervisorRef: String?
    /// How supervisors' notices name this user (e.g. "Ahmad R., site B"); the user_ref otherwise.
    public var displayName: String?
    public var numberHistory: [NumberChange]
    /// Until then, sensitive purposes step up (after a number change or a recovery).
    public var coolingOffUntil: Date?
    public var recovery: RecoveryCodeSet?
    public var createdAt: Date
    public var updatedAt: Date

    public init(userRef: String, phone: String? = nil, group: String? = nil, locale: String? = nil, preferredChannel: Channel? = nil,
                supervisorRef: String? = nil, displayName: String? = nil, numberHistory: [NumberChange] = [], coolingOffUntil: Date? = nil,
                recovery: RecoveryCodeSet? = nil, createdAt: Date, updatedAt: Date) {
        self.userRef = userRef
        self.phone = phone
        self.group = group
        self.locale = locale
        self.preferredChannel = preferredChannel
        self.supervisorRef = supervisorRef
        self.displayName = displayName
        self.numberHistory = numberHistory
        self.coolingOffUntil = coolingOffUntil
        self.recovery = recovery
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case userRef = "user_ref", phone, group, locale, preferredChannel = "preferred_channel", supervisorRef = "supervisor_ref"
        case displayName = "display_name", numberHistory = "number_history", coolingOffUntil = "cooling_off_until", recovery
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    /// Where a user's account is kept in the keyed state.
    public static func key(tenantID: String, userRef: String) -> String { "acct|\(tenantID)|\(RiskEngine.digest(userRef))" }
    /// The key prefix of a tenant's accounts.
    public static func keyPrefix(tenantID: String) -> String { "acct|\(tenantID)|" }

    /// Starts the cooling-off period for `hours` from now (a longer one already running stays).
    public mutating func startCoolingOff(hours: Int, at now: Date) {
        coolingOffUntil = max(coolingOffUntil ?? now, now.addingTimeInterval(Double(hours) * 3600))
    }

    /// Moves the account to `e164`, remembering the number it leaves (masked, with the keyed
    /// digest `digest` gives); the history keeps the last 20 moves.
    public mutating func moveNumber(to e164: String, method: String, approvedBy: String?, at now: Date, digest: (String) -> String) {
        numberHistory.append(NumberChange(method: method, from: phone.map(PhoneNumber.mask), fromDigest: phone.map(digest),
                                          to: PhoneNumber.mask(e164), at: now, approvedBy: approvedBy))
        if numberHistory.count > 20 { numberHistory.removeFirst(numberHistory.count - 20) }
        phone = e164
    }

    /// Whether the cooling-off period after a number change is running.
    public func coolingOff(at now: Date) -> Bool { coolingOffUntil.map { $0 > now } ?? false }

    /// The last number change, when it was within `days`.
    public func changedNumber(withinDays days: Int, at now: Date) -> Bool {
        numberHistory.last.map { now.timeIntervalSince($0.at) < Double(days) * 86_400 } ?? false
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .millisecondsSince1970
        e.outputFormatting = .sortedKeys
        return e
    }()

    /// The stored form.
    public func encoded() -> String { (try? String(decoding: Self.encoder.encode(self), as: UTF8.self)) ?? "" }

    /// Reads a stored account (nil when missing or unreadable).
    public static func decode(_ text: String?) -> UserAccount? {
        guard let text, !text.isEmpty else { return nil }
        let d = JSONDecoder()
        d.dateDecodingStrategy = .millisecondsSince1970
        return try? d.decode(UserAccount.self, from: Data(text.utf8))
    }
}
