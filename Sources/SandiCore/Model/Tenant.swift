public import Foundation

/// An app that uses Sandi. Every resource belongs to exactly one tenant.
public struct Tenant: Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Date
    /// Destination countries (ISO 3166-1 alpha-2) this tenant may send codes to; nil allows every country.
    public var allowedCountries: Set<String>?

    public init(id: String, name: String, createdAt: Date, allowedCountries: Set<String>? = nil) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.allowedCountries = allowedCountries
    }

    /// Whether a code may be sent to a number of `country`.
    public func allows(country: String) -> Bool {
        allowedCountries.map { $0.contains(country.uppercased()) } ?? true
    }

    /// Whether `name` is acceptable as a tenant name: 1–64 of `a-z 0-9 - _ .`.
    public static func isValidName(_ name: String) -> Bool {
        let utf8 = name.utf8
        return (1...64).contains(utf8.count) && utf8.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 || $0 == 46
        }
    }
}

/// An API key's stored form: only its hash is kept; the key itself is shown once.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var hash: String
    /// The first characters of the key, to recognise it in listings.
    public var hint: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, tenantID: String, hash: String, hint: String, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.tenantID = tenantID
        self.hash = hash
        self.hint = hint
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// A new high-entropy key (160 random bits) and its stored record.
    public static func generate(tenantID: String, now: Date) -> (key: String, record: APIKeyRecord) {
        let key = "sandi_" + Identifier.randomBase32(bytes: 20)
        let record = APIKeyRecord(
            id: Identifier.make(.apiKey), tenantID: tenantID, hash: SecretHash.hex(key),
            hint: String(key.prefix(10)), createdAt: now)
        return (key, record)
    }
}

/// A single-use token handed out when a grant-issuing verification is approved.
public struct Grant: Sendable, Equatable {
    public var tokenHash: String
    public var tenantID: String
    public var verificationID: String
    public var userRef: String?
    public var to: String
    public var purpose: Purpose
    public var createdAt: Date
    public var expiresAt: Date
    public var redeemedAt: Date?

    public init(tokenHash: String, tenantID: String, verificationID: String, userRef: String?, to: String, purpose: Purpose, createdAt: Date, expiresAt: Date, redeemedAt: Date? = nil) {
        self.tokenHash = tokenHash
        self.tenantID = tenantID
        self.verificationID = verificationID
        self.userRef = userRef
        self.to = to
        self.purpose = purpose
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.redeemedAt = redeemedAt
    }
}
