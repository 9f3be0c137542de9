public import Foundation
public import SandiCore

/// A signed-in dashboard session, carried in a cookie signed under the server's key (so any node
/// accepts it, and rotating the key away ends it). It holds the account, its role and scope, when
/// it ends, and the CSRF token every form must echo.
public struct DashboardSession: Sendable, Equatable, Codable {
    public var name: String
    public var role: AdminRole
    public var tenantID: String?
    public var expires: Int64
    public var csrf: String

    public static let cookie = "sandi_session"
    public static let lifetime: TimeInterval = 8 * 3600
    static let purpose = "dashboard-session"

    enum CodingKeys: String, CodingKey { case name = "n", role = "r", tenantID = "t", expires = "e", csrf = "c" }

    public init(account: AdminAccount, now: Date) {
        name = account.name
        role = account.role
        tenantID = account.tenantID
        expires = Int64(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970)
        csrf = Identifier.randomBase32(bytes: 16)
    }

    /// `<base64url payload>.<tag>`.
    public func encode(_ hasher: CodeHasher) throws -> String {
        let payload = try JSONEncoder().encode(self)
        return Self.base64url(payload) + "." + hasher.tag(payload, purpose: Self.purpose)
    }

    /// The session a cookie value carries, if it is authentic and unexpired.
    public static func decode(_ value: String, hasher: CodeHasher, now: Date) -> DashboardSession? {
        let parts = value.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let payload = fromBase64url(String(parts[0])),
              hasher.isValidTag(String(parts[1]), for: payload, purpose: purpose),
              let session = try? JSONDecoder().decode(DashboardSession.self, from: payload),
              Double(session.expires) > now.timeIntervalSince1970
        else { return nil }
        return session
    }

    /// Whether `token` is this session's CSRF token (constant time).
    public func acceptsCSRF(_ token: String?) -> Bool {
        guard let token else { return false }
        let a = Array(token.utf8), b = Array(csrf.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func fromBase64url(_ text: String) -> Data? {
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base.count % 4 != 0 { base += "=" }
        return Data(base64Encoded: base)
    }
}
