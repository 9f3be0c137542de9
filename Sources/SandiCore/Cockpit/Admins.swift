public import Foundation
import Crypto

/// What a person signed in to the dashboard may do.
public enum AdminRole: String, Sendable, Codable, CaseIterable {
    /// Everything, including settings edits and replaying dead webhook deliveries.
    case admin
    /// Reads everything, changes nothing.
    case analyst
    /// Reads timelines and acts for users who say "the code never came" (resend on another
    /// channel within limits); scoped to one tenant when the account has one.
    case support

    public var canEditSettings: Bool { self == .admin }
    public var canActForUsers: Bool { self == .admin || self == .support }
    public var canReplayWebhooks: Bool { self == .admin }
}

/// A dashboard account of the operator of Sandi. The password is kept only as a scrypt hash, the
/// TOTP secret only sealed under the server's key.
public struct AdminAccount: Sendable, Equatable, Codable {
    public var name: String
    public var role: AdminRole
    /// The one tenant this account sees (nil: all tenants).
    public var tenantID: String?
    public var passwordHash: String
    public var totpKeyID: String
    public var totpBox: String
    public var createdAt: Date
    public var disabled: Bool

    public init(name: String, role: AdminRole, tenantID: String?, passwordHash: String, totp: SealedCode, createdAt: Date, disabled: Bool = false) {
        self.name = name
        self.role = role
        self.tenantID = tenantID
        self.passwordHash = passwordHash
        self.totpKeyID = totp.keyID
        self.totpBox = totp.box
        self.createdAt = createdAt
        self.disabled = disabled
    }

    public var totp: SealedCode { SealedCode(keyID: totpKeyID, box: totpBox) }

    /// Names: 3–32 lowercase letters, digits, `.`, `-`, `_`.
    public static func isValidName(_ name: String) -> Bool {
        (3...32).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }
    }
}

/// Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), as
/// authenticator apps compute them.
public enum TOTP {
    public static let step: Int64 = 30

    /// The code for `secret` at `time`.
    public static func code(secret: [UInt8], at time: Date, digits: Int = 6) -> String {
        code(secret: secret, counter: UInt64(max(0, Int64(time.timeIntervalSince1970.rounded(.down)) / step)), digits: digits)
    }

    static func code(secret: [UInt8], counter: UInt64, digits: Int) -> String {
        var big = counter.bigEndian
        let message = withUnsafeBytes(of: &big) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let value = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(value % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step `candidate` matches within ±1 step of `time` (clock drift), compared in constant
    /// time; nil when none does.
    public static func matchingStep(_ candidate: String, secret: [UInt8], at time: Date) -> Int64? {
        let now = Int64(time.timeIntervalSince1970.rounded(.down)) / step
        var found: Int64?
        for counter in (now - 1)...(now + 1) where counter >= 0 {
            let expected = code(secret: secret, counter: UInt64(counter), digits: 6)
            var difference: UInt8 = candidate.utf8.count == expected.utf8.count ? 0 : 1
            for (a, b) in zip(candidate.utf8, expected.utf8) { difference |= a ^ b }
            if difference == 0 { found = counter }
        }
        return found
    }

    /// The `otpauth://` URI authenticator apps scan.
    public static func uri(secret: [UInt8], account: String, issuer: String) -> String {
        let label = (issuer + ":" + account).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? account
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(issuer.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? issuer)&algorithm=SHA1&digits=6&period=30"
    }
}

/// RFC 4648 base32 without padding (TOTP secrets).
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return out
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = 0
        var bits = 0
        for ch in text.uppercased() where ch != "=" && ch != " " {
            guard let value = alphabet.firstIndex(of: ch) else { return nil }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> (bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return out
    }
}
