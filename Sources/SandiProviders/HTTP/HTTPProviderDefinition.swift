public import Foundation
public import SandiCore
import Mustache

/// A provider described by configuration alone: how to send (URL, method, headers and body as
/// Mustache templates), how to read the answer (message id, success, error codes) and how to
/// read its delivery receipts. A local aggregator (an Indonesian SMS masking provider, say) is
/// added this way without code.
///
/// Templates see: `to` (E.164 with `+`), `to_digits`, `sender`, `text`, `code`, `reference` (the
/// delivery id), `ttl_seconds`, `ttl_minutes`, `locale`, `country`, `operator`, `channel`,
/// `unicode` (true when the text needs UCS-2), `callback_url`, and `secrets.<name>`. Values are
/// escaped for where they go: percent-encoded in the URL and form bodies, JSON-string-escaped in
/// JSON bodies, as they are in headers and text bodies.
public struct HTTPProviderDefinition: Sendable, Decodable, Equatable {
    public enum BodyFormat: String, Sendable, Decodable { case json, form, text, none }

    /// How to read the provider's answer to a send.
    public struct Response: Sendable, Decodable, Equatable {
        /// Dotted path to the message id in a JSON answer (`messages.0.id`), or `$body` for an
        /// answer that is the id alone.
        public var messageID: String
        /// Dotted path whose value must be one of `successValues` (nil: any 2xx is success).
        public var successPath: String?
        public var successValues: [String]?
        /// Dotted path of the provider's error code in a refusal.
        public var errorCodePath: String?
        /// Error codes meaning this channel cannot reach the number (moves on, remembered).
        public var undeliverableCodes: [String]?
        /// Error codes meaning "try again later" (the send surely did not go).
        public var transientCodes: [String]?
        /// HTTP statuses meaning "try again later" (default 429 and 503).
        public var transientStatuses: [Int]?

        enum CodingKeys: String, CodingKey {
            case messageID = "message_id", successPath = "success_path", successValues = "success_values", errorCodePath = "error_code_path"
            case undeliverableCodes = "undeliverable_codes", transientCodes = "transient_codes", transientStatuses = "transient_statuses"
        }
    }

    /// How to read and authenticate the provider's delivery receipts at
    /// `/v1/callbacks/http/<name>` (query, form or JSON body).
    public struct Receipt: Sendable, Decodable, Equatable {
        /// Field (dotted path for JSON) naming the message id the send's answer gave.
        public var messageID: String
        public var status: String
        public var errorCode: String?
        /// Provider status → `sent` | `delivered` | `read` | `failed` | `undeliverable`; others are ignored.
        public var statuses: [String: String]
        /// A shared token the provider sends in `tokenParameter` (query/form field) or `tokenHeader`.
        public var token: String?
        public var tokenParameter: String?
        public var tokenHeader: String?
        /// Or: hex HMAC-SHA256 of the raw body with `hmacSecret`, in header `hmacHeader`.
        public var hmacHeader: String?
        public var hmacSecret: String?
        /// What to answer (default 200 with an empty body).
        public var answer: String?

        enum CodingKeys: String, CodingKey {
            case messageID = "message_id", status, errorCode = "error_code", statuses, token, tokenParameter = "token_parameter"
            case tokenHeader = "token_header", hmacHeader = "hmac_header", hmacSecret = "hmac_secret", answer
        }
    }

    public var name: String
    public var channels: [SandiCore.Channel]
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var bodyFormat: BodyFormat
    public var body: String?
    public var sender: String?
    public var secrets: [String: String]
    public var timeoutMs: Int
    public var response: Response
    public var receipt: Receipt?

    enum CodingKeys: String, CodingKey {
        case name, channels, method, url, headers, bodyFormat = "body_format", body, sender, secrets, timeoutMs = "timeout_ms", response, receipt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        channels = try c.decodeIfPresent([SandiCore.Channel].self, forKey: .channels) ?? [.sms]
        method = (try c.decodeIfPresent(String.self, forKey: .method) ?? "POST").uppercased()
        url = try c.decode(String.self, forKey: .url)
        headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        bodyFormat = try c.decodeIfPresent(BodyFormat.self, forKey: .bodyFormat) ?? .json
        body = try c.decodeIfPresent(String.self, forKey: .body)
        sender = try c.decodeIfPresent(String.self, forKey: .sender)
        secrets = try c.decodeIfPresent([String: String].self, forKey: .secrets) ?? [:]
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? 4000
        response = try c.decode(Response.self, forKey: .response)
        receipt = try c.decodeIfPresent(Receipt.self, forKey: .receipt)
    }

    /// Reads definitions (a JSON array) and resolves secrets written as `env:NAME` from
    /// `environment`, so the file itself need not hold them.
    public static func load(_ data: Data, environment: [String: String]) throws -> [HTTPProviderDefinition] {
        var definitions = try JSONDecoder().decode([HTTPProviderDefinition].self, from: data)
        for index in definitions.indices {
            var definition = definitions[index]
            for (key, value) in definition.secrets where value.hasPrefix("env:") {
                definition.secrets[key] = environment[String(value.dropFirst(4))] ?? ""
            }
            let secrets = definition.secrets
            func resolve(_ value: String?) -> String? {
                guard let value, value.hasPrefix("secrets.") else { return value }
                return secrets[String(value.dropFirst(8))]
            }
            if var receipt = definition.receipt {
                receipt.token = resolve(receipt.token)
                receipt.hmacSecret = resolve(receipt.hmacSecret)
                definition.receipt = receipt
            }
            definitions[index] = definition
        }
        return definitions
    }

    /// What is wrong with the definition (startup problems), templates included.
    public var problems: [String] {
        var problems: [String] = []
        let label = "http provider \(name.isEmpty ? "?" : name)"
        if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) || name.count > 40 {
            problems.append("\(label): name must be 1–40 letters, digits, - or _")
        }
        if channels.isEmpty { problems.append("\(label): channels must name at least one channel") }
        if !["GET", "POST", "PUT"].contains(method) { problems.append("\(label): method must be GET, POST or PUT") }
        if !(url.hasPrefix("https://") || url.hasPrefix("http://")) { problems.append("\(label): url must be an http(s) URL template") }
        if !(200...30_000).contains(timeoutMs) { problems.append("\(label): timeout_ms must be 200–30000") }
        if method != "GET", bodyFormat != .none, body == nil { problems.append("\(label): body is required for body_format \(bodyFormat.rawValue)") }
        for (key, value) in secrets where value.isEmpty { problems.append("\(label): secret \(key) is empty (is its environment variable set?)") }
        do { _ = try HTTPProviderTemplates(self) } catch { problems.append("\(label): a template does not parse (\(error))") }
        if let receipt {
            for (key, value) in receipt.statuses where DeliveryStatus(rawValue: value).map({ [.sent, .delivered, .read, .failed, .undeliverable].contains($0) }) != true {
                problems.append("\(label): receipt status \(key) maps to \(value); use sent, delivered, read, failed or undeliverable")
            }
            let hasToken = receipt.token.map { !$0.isEmpty } ?? false
            let hasHMAC = receipt.hmacSecret.map { !$0.isEmpty } ?? false && receipt.hmacHeader != nil
            if !hasToken && !hasHMAC { problems.append("\(label): receipts need a token (token + token_parameter or token_header) or an HMAC (hmac_header + hmac_secret)") }
            if hasToken, receipt.tokenParameter == nil, receipt.tokenHeader == nil { problems.append("\(label): receipt token needs token_parameter or token_header") }
        }
        return problems
    }
}

/// The parsed templates of a definition, each with the escaping of where it goes.
struct HTTPProviderTemplates: Sendable {
    let url: MustacheTemplate
    let headers: [(String, MustacheTemplate)]
    let body: MustacheTemplate?

    static let registered: Bool = {
        MustacheContentTypes.register(URLComponentEscaping(), named: "SANDI_URL")
        MustacheContentTypes.register(JSONStringEscaping(), named: "SANDI_JSON")
        return true
    }()

    init(_ definition: HTTPProviderDefinition) throws {
        _ = Self.registered
        url = try MustacheTemplate(string: "{{% CONTENT_TYPE: SANDI_URL}}" + definition.url)
        headers = try definition.headers.sorted { $0.key < $1.key }.map { ($0.key, try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + $0.value)) }
        switch (definition.bodyFormat, definition.body) {
        case (.json, let body?): self.body = try MustacheTemplate(string: "{{% CONTENT_TYPE: SANDI_JSON}}" + body)
        case (.form, let body?): self.body = try MustacheTemplate(string: "{{% CONTENT_TYPE: SANDI_URL}}" + body)
        case (.text, let body?): self.body = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + body)
        default: self.body = nil
        }
    }
}

/// Percent-encoding for URL query values and form fields (everything but unreserved characters).
struct URLComponentEscaping: MustacheContentType {
    static let allowed: CharacterSet = {
        var set = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        set.insert(charactersIn: "-._~")
        return set
    }()

    func escapeText(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: Self.allowed) ?? "" }
}

/// Escaping for text inside a JSON string literal (the template writes the quotes).
struct JSONStringEscaping: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20: out += String(format: "\\u%04x", s.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Reads dotted paths (`messages.0.id`) in JSON values.
enum JSONPath {
    static func value(_ path: String, in json: JSONValue) -> JSONValue? {
        var current: JSONValue? = json
        for part in path.split(separator: ".") {
            switch current {
            case .object(let object)?: current = object[String(part)]
            case .array(let array)?:
                guard let index = Int(part), array.indices.contains(index) else { return nil }
                current = array[index]
            default: return nil
            }
        }
        return current
    }

    /// The value as text (strings as they are, numbers without a needless `.0`, booleans).
    static func text(_ path: String, in json: JSONValue) -> String? {
        switch value(path, in: json) {
        case .string(let s)?: s
        case .number(let n)?: n.rounded() == n && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .bool(let b)?: String(b)
        default: nil
        }
    }
}
