import Crypto
import Foundation

/// The `sig` parameter of Vonage's SMS API (signed requests and signed delivery receipts): every
/// parameter but `sig`, sorted by name, each appended as `&name=value` with `&` and `=` inside
/// values replaced by `_`; then either an HMAC of that text keyed with the account's signature
/// secret (MD5, SHA-1, SHA-256 or SHA-512, as the account is set), or, in the legacy `md5hash`
/// mode, the MD5 of the text followed by the secret. Lowercase hex.
public enum VonageSignature {
    /// The account's signature method (Vonage dashboard → Settings).
    public enum Method: String, Sendable, CaseIterable {
        case md5hash, md5, sha1, sha256, sha512
    }

    /// The text that is signed.
    static func signedText(_ params: [String: String]) -> String {
        var text = ""
        for name in params.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where name != "sig" {
            let value = (params[name] ?? "").replacingOccurrences(of: "&", with: "_").replacingOccurrences(of: "=", with: "_")
            text += "&\(name)=\(value)"
        }
        return text
    }

    /// The signature of `params` (`sig` itself left out).
    public static func compute(_ params: [String: String], secret: String, method: Method) -> String {
        let text = Data(signedText(params).utf8)
        let key = SymmetricKey(data: Data(secret.utf8))
        let digest: Data
        switch method {
        case .md5hash: digest = Data(Insecure.MD5.hash(data: text + Data(secret.utf8)))
        case .md5: digest = Data(HMAC<Insecure.MD5>.authenticationCode(for: text, using: key))
        case .sha1: digest = Data(HMAC<Insecure.SHA1>.authenticationCode(for: text, using: key))
        case .sha256: digest = Data(HMAC<SHA256>.authenticationCode(for: text, using: key))
        case .sha512: digest = Data(HMAC<SHA512>.authenticationCode(for: text, using: key))
        }
        return Hex.encode(digest)
    }

    /// Whether `params["sig"]` signs the other parameters (case-insensitive, constant time).
    public static func isValid(_ params: [String: String], secret: String, method: Method) -> Bool {
        guard let given = params["sig"], !given.isEmpty else { return false }
        return constantTimeEqual(Data(given.lowercased().utf8), Data(compute(params, secret: secret, method: method).utf8))
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

enum Hex {
    static func encode(_ data: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in data { out += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        return String(decoding: out, as: UTF8.self)
    }
}
