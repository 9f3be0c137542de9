import Crypto
import _CryptoExtras
public import Foundation
public import SandiCore

/// The JSON Web Tokens of Vonage's application APIs: Sandi signs its Voice API requests with the
/// application's RSA key (RS256, claims `application_id`, `iat`, `jti`, `exp`), and Vonage signs
/// the webhooks it sends with the account's signature secret (HS256, claims `iat`, `jti`, `iss`,
/// `api_key`, `application_id`, `payload_hash`: the SHA-256 of the body in hex).
public enum VonageJWT {
    /// An application's private key, read from its PEM (PKCS #8 as Vonage issues it, or PKCS #1).
    public struct ApplicationKey: Sendable {
        let key: _RSA.Signing.PrivateKey

        /// Fails when `pem` is not an RSA private key of at least 2048 bits.
        public init(pem: String) throws {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        }
    }

    /// A token for `applicationID`, issued at `now`, valid `lifetime` seconds.
    public static func applicationToken(applicationID: String, key: ApplicationKey, now: Date, lifetime: Int = 900) throws -> String {
        let iat = Int(now.timeIntervalSince1970)
        let claims: [String: JSONValue] = [
            "application_id": .string(applicationID), "iat": .number(Double(iat)), "exp": .number(Double(iat + lifetime)),
            "jti": .string(UUID().uuidString.lowercased()),
        ]
        let input = try encodedPart(["alg": "RS256", "typ": "JWT"]) + "." + encodedPart(claims)
        let signature = try key.key.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }

    static func encodedPart(_ object: [String: JSONValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Base64URL.encode(try encoder.encode(JSONValue.object(object)))
    }

    /// Why a webhook's token was refused.
    public enum Rejection: Error, Equatable, Sendable {
        case malformed, wrongAlgorithm, badSignature, stale, expired, payloadMismatch
    }

    /// Checks a webhook token signed HS256 with `secret`: the signature (constant time), `iat`
    /// within `window` seconds of `now` (and not later than a minute ahead), `exp` when present,
    /// and `payload_hash` against `body` when present. Returns the claims.
    @discardableResult
    public static func verifyWebhookToken(_ token: String, secret: String, body: Data, now: Date, window: TimeInterval = 300) throws(Rejection) -> [String: JSONValue] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]), let claimsData = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = JSONValue.parseObject(headerData),
              let claims = JSONValue.parseObject(claimsData)
        else { throw .malformed }
        guard header["alg"]?.stringValue == "HS256" else { throw .wrongAlgorithm }
        let input = Data((parts[0] + "." + parts[1]).utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: SymmetricKey(data: Data(secret.utf8))) else {
            throw .badSignature
        }
        let nowSeconds = now.timeIntervalSince1970
        guard let iat = seconds(claims["iat"]), iat >= nowSeconds - window, iat <= nowSeconds + 60 else { throw .stale }
        if claims["exp"] != nil {
            guard let exp = seconds(claims["exp"]), exp > nowSeconds - 30 else { throw .expired }
        }
        if let claimed = claims["payload_hash"] {
            guard let hash = claimed.stringValue,
                  VonageSignature.constantTimeEqual(Data(hash.lowercased().utf8), Data(Hex.encode(SHA256.hash(data: body)).utf8))
            else { throw .payloadMismatch }
        }
        return claims
    }

    static func seconds(_ value: JSONValue?) -> Double? {
        switch value {
        case .number(let n)?: n
        case .string(let s)?: Double(s)
        default: nil
        }
    }
}

/// Base64 with the URL alphabet and no padding (RFC 7515 §2).
enum Base64URL {
    static func encode(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: some StringProtocol) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
