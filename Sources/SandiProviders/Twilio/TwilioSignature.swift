import Crypto
import Foundation

/// `X-Twilio-Signature`: Base64 of HMAC-SHA1, keyed with the account's auth token, over the URL
/// Twilio requested followed by every form parameter's name and value in sorted order. Twilio is
/// inconsistent about default ports, so a signature over the URL with or without `:443`/`:80`
/// is accepted.
public enum TwilioSignature {
    /// The signature of a form POST to `url`.
    public static func compute(url: String, params: [(String, String)], authToken: String) -> String {
        var text = url
        for (name, value) in params.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) { text += name + value }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Whether `signature` signs this request (compared in constant time).
    public static func isValid(_ signature: String, url: String, params: [(String, String)], authToken: String) -> Bool {
        guard let given = Data(base64Encoded: signature) else { return false }
        var valid = false
        for candidate in urlVariants(url) {
            guard let expected = Data(base64Encoded: compute(url: candidate, params: params, authToken: authToken)) else { continue }
            // Every variant is checked, so timing does not tell which one matched.
            valid = constantTimeEqual(given, expected) || valid
        }
        return valid
    }

    /// The URL as given, and with its scheme's default port added or removed.
    static func urlVariants(_ url: String) -> [String] {
        guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else { return [url] }
        let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
        guard let defaultPort else { return [url] }
        if components.port == defaultPort {
            components.port = nil
        } else if components.port == nil {
            components.port = defaultPort
        } else {
            return [url]
        }
        return [url, components.string ?? url]
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// `application/x-www-form-urlencoded` bodies as ordered name/value pairs (repeated names kept).
public enum FormBody {
    /// The pairs of a form body (`+` is a space, percent-escapes decoded).
    public static func parse(_ body: String) -> [(String, String)] {
        body.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// A form body from pairs.
    public static func encode(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name) + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }.joined(separator: "&")
    }
}
