public import AsyncHTTPClient
public import Foundation
public import Logging
public import SandiCore
import NIOCore
import NIOFoundationCompat
import Synchronization

/// WhatsApp through Meta's Cloud API: each code goes out as the account's approved
/// authentication template (`POST {api_base}/{version}/{phone_number_id}/messages`, bearer token),
/// with the code as the body parameter and again as the copy-code button's parameter, in the
/// template language that matches the user's locale, and our delivery id as
/// `biz_opaque_callback_data`. Meta's answer carries the message id (`wamid.…`) that its status
/// webhooks (``WhatsAppWebhook``) name later.
///
/// A 200 does not mean the number is on WhatsApp: "not on WhatsApp" (131026) normally arrives as a
/// `failed` status webhook. Refusals are classified by Meta's `error.code`, never by HTTP status
/// alone (see ``outcome(code:)``). There is no idempotency key, so a send without an answer may
/// have gone: it moves the plan on rather than being repeated.
public struct WhatsAppCloudProvider: ChannelProvider {
    /// What a WhatsApp Business account sends with.
    public struct Account: Sendable, Equatable {
        /// The business phone number's id at Meta (not the number itself).
        public var phoneNumberID: String
        /// A system-user access token with `whatsapp_business_messaging` on that number.
        public var token: String
        /// The approved authentication template's name.
        public var template: String
        /// Template language codes by Sandi locale (`en` → `en_US`); locales not in it get
        /// ``WhatsAppLanguages/fallback``.
        public var languages: [String: String]

        public init(phoneNumberID: String, token: String, template: String, languages: [String: String] = WhatsAppLanguages.defaults) {
            self.phoneNumberID = phoneNumberID
            self.token = token
            self.template = template
            self.languages = languages
        }
    }

    /// What a tenant's own account changes of the default one (unset fields are the default's).
    public struct AccountOverride: Sendable, Equatable, Codable {
        public var phoneNumberID: String?
        public var token: String?
        public var template: String?
        /// Merged over the default account's map.
        public var languages: [String: String]?

        enum CodingKeys: String, CodingKey {
            case phoneNumberID = "phone_number_id", token, template, languages
        }

        public init(phoneNumberID: String? = nil, token: String? = nil, template: String? = nil, languages: [String: String]? = nil) {
            self.phoneNumberID = phoneNumberID
            self.token = token
            self.template = template
            self.languages = languages
        }

        /// `base` with this override applied.
        public func applied(to base: Account) -> Account {
            Account(phoneNumberID: phoneNumberID ?? base.phoneNumberID, token: token ?? base.token, template: template ?? base.template,
                    languages: base.languages.merging(languages ?? [:]) { $1 })
        }
    }

    public struct Options: Sendable {
        /// The account every tenant sends with unless it has one of its own.
        public var account: Account
        /// Tenants' own accounts, by tenant id or tenant name.
        public var tenantAccounts: [String: AccountOverride]
        /// The Graph API's root (tests point it at a fake).
        public var apiBase: String
        /// The Graph API version in the path (`v22.0`).
        public var apiVersion: String
        public var timeoutMs: Int
        public var name: String

        public init(account: Account, tenantAccounts: [String: AccountOverride] = [:], apiBase: String = "https://graph.facebook.com",
                    apiVersion: String = "v22.0", timeoutMs: Int = 5000, name: String = "whatsapp") {
            self.account = account
            self.tenantAccounts = tenantAccounts
            self.apiBase = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
            self.apiVersion = apiVersion
            self.timeoutMs = timeoutMs
            self.name = name
        }

        /// The account that sends from `phoneNumberID`: the default one, or a tenant's own.
        public func account(phoneNumberID: String) -> Account? {
            if phoneNumberID == account.phoneNumberID { return account }
            return tenantAccounts.sorted { $0.key < $1.key }.first { $0.value.phoneNumberID == phoneNumberID }?.value.applied(to: account)
        }

        /// The tenants (ids or names, as the accounts file keys them) whose own account has the
        /// number `phoneNumberID`; never the default account's number.
        public func owners(of phoneNumberID: String) -> [String] {
            guard phoneNumberID != account.phoneNumberID else { return [] }
            return tenantAccounts.filter { $0.value.phoneNumberID == phoneNumberID }.map(\.key).sorted()
        }
    }

    public let options: Options
    public var name: String { options.name }
    public let channels: Set<SandiCore.Channel> = [.whatsapp]
    let client: HTTPClient
    let logger: Logger
    /// Finds a tenant's name by its id (for accounts keyed by name); nil: accounts by id only.
    let tenantName: (@Sendable (String) async throws -> String?)?
    private let names = NameCache()

    public init(options: Options, client: HTTPClient = .shared, logger: Logger = Logger(label: "sandi.whatsapp"),
                tenantName: (@Sendable (String) async throws -> String?)? = nil) {
        self.options = options
        self.client = client
        self.logger = logger
        self.tenantName = tenantName
    }

    /// Meta refuses authentication-template parameters longer than this.
    public static let maxCodeLength = 15

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        guard message.channel == .whatsapp else { throw .undeliverable("whatsapp: \(message.channel.rawValue) not supported") }
        // Security notices carry no code: outside a conversation WhatsApp takes templates only,
        // and only an authentication template is configured.
        guard !message.code.isEmpty else { throw .failed("whatsapp: only codes are sent (no notice template)") }
        guard message.code.count <= Self.maxCodeLength else {
            throw .failed("whatsapp: only codes of 1–\(Self.maxCodeLength) characters fit an authentication template")
        }
        let account = try await account(tenantID: message.tenantID)
        let body = Self.templateBody(to: message.to, code: message.code, template: account.template,
                                     language: WhatsAppLanguages.code(for: message.locale, in: account.languages),
                                     callbackData: message.deliveryID)
        let reply = try await ProviderCall.send(messagesRequest(account: account, body: body), client: client, timeoutMs: options.timeoutMs, provider: "whatsapp")
        let (status, json) = (reply.status, reply.json)
        if (200..<300).contains(status) {
            if let id = json["messages"]?.arrayValue?.first?.objectValue?["id"]?.stringValue, !id.isEmpty {
                return ProviderAcceptance(providerMessageID: id)
            }
            // Taken, but without an id no receipt can ever find it: treat it as possibly sent.
            throw .failed("whatsapp: accepted without a message id")
        }
        let error = json["error"]?.objectValue
        let code = error?["code"]?.intValue
        let outcome = Self.outcome(code: code)
        if let code, Self.accountProblems.contains(code) || (200...299).contains(code) {
            // Sends cannot work until someone fixes the account (token, permissions, a block).
            logger.error("whatsapp: the account was refused", metadata: [
                "code": "\(code)", "http_status": "\(status)", "fbtrace_id": .string(error?["fbtrace_id"]?.stringValue ?? ""),
            ])
        }
        throw outcome
    }

    /// `POST {api_base}/{version}/{phone_number_id}/messages` of `account` with `body`.
    func messagesRequest(account: Account, body: Data) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "\(options.apiBase)/\(options.apiVersion)/\(account.phoneNumberID)/messages")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer " + account.token)
        request.body = .bytes(ByteBuffer(data: body))
        return request
    }

    /// Sends `text` as a free-form text message to the WhatsApp user `waID` (digits, as Meta
    /// names the sender) from `account`: allowed only within 24 hours of the user's last message
    /// to that number (a reply). Waits at most `timeoutMs`; returns the message id, when Meta gave
    /// one. A refusal throws as ``outcome(code:)`` classifies it (131047: the 24 hours are over).
    @discardableResult
    public func sendText(_ text: String, to waID: String, account: Account, timeoutMs: Int) async throws(ProviderError) -> String? {
        let reply = try await ProviderCall.send(messagesRequest(account: account, body: Self.textBody(to: waID, text: text)),
                                                client: client, timeoutMs: timeoutMs, provider: "whatsapp")
        if (200..<300).contains(reply.status) {
            return reply.json["messages"]?.arrayValue?.first?.objectValue?["id"]?.stringValue
        }
        throw Self.outcome(code: reply.json["error"]?.objectValue?["code"]?.intValue)
    }

    /// A free-form text message's JSON (links not previewed).
    public static func textBody(to waID: String, text: String) -> Data {
        let request = TextRequest(messaging_product: "whatsapp", recipient_type: "individual", to: waID, type: "text",
                                  text: .init(preview_url: false, body: text))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(request)) ?? Data()
    }

    struct TextRequest: Encodable {
        struct Text: Encodable {
            var preview_url: Bool
            var body: String
        }
        var messaging_product: String
        var recipient_type: String
        var to: String
        var type: String
        var text: Text
    }

    /// The send request's JSON: an authentication template with the code as its body parameter
    /// and as its copy-code (URL) button's parameter.
    public static func templateBody(to: String, code: String, template: String, language: String, callbackData: String) -> Data {
        let parameter = [TemplateRequest.Parameter(type: "text", text: code)]
        let request = TemplateRequest(
            messaging_product: "whatsapp", recipient_type: "individual", to: to, type: "template",
            template: .init(name: template, language: .init(code: language), components: [
                .init(type: "body", sub_type: nil, index: nil, parameters: parameter),
                .init(type: "button", sub_type: "url", index: "0", parameters: parameter),
            ]),
            biz_opaque_callback_data: callbackData)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(request)) ?? Data()
    }

    struct TemplateRequest: Encodable {
        struct Parameter: Encodable {
            var type: String
            var text: String
        }
        struct Component: Encodable {
            var type: String
            var sub_type: String?
            var index: String?
            var parameters: [Parameter]
        }
        struct Language: Encodable {
            var code: String
        }
        struct Template: Encodable {
            var name: String
            var language: Language
            var components: [Component]
        }
        var messaging_product: String
        var recipient_type: String
        var to: String
        var type: String
        var template: Template
        var biz_opaque_callback_data: String
    }

    /// Codes that mean the account itself cannot send (token, permission, lock, policy block).
    static let accountProblems: Set<Int> = [0, 10, 190, 368, 131031, 33]

    /// What Meta's `error.code` of a refused send means for the plan.
    ///
    /// - `131026` (not on WhatsApp, too old a client, terms not accepted) and `130497` (the
    ///   business may not message that country): this channel cannot reach the number:
    ///   `undeliverable`, which Sandi remembers for the number and falls back from at once.
    /// - Throttles where the message surely did not go and a short wait helps: `130429`
    ///   (throughput), `80007` (account rate limit), `4` (app call limit), `131057` (number in
    ///   maintenance, about a minute), `2` (service temporarily down): `transient`, tried again.
    /// - `131056` (pair limit: too many messages to this user now) and `131048` (spam limit):
    ///   waiting seconds does not help this user: `failed`, the plan moves on.
    /// - `1` (unknown error) and anything else (tokens, permissions, parameters, no code at all):
    ///   `failed`; an unknown error may have sent the message.
    public static func outcome(code: Int?) -> ProviderError {
        switch code {
        case 131026?, 130497?: .undeliverable("whatsapp: error \(code ?? 0)")
        case 130429?, 80007?, 4?, 131057?, 2?: .transient("whatsapp: error \(code ?? 0)")
        case let code?: .failed("whatsapp: error \(code)")
        case nil: .failed("whatsapp: refused without an error code")
        }
    }

    /// The account a tenant sends with: its own (by id, then by name) or the default.
    func account(tenantID: String) async throws(ProviderError) -> Account {
        if let own = options.tenantAccounts[tenantID] { return own.applied(to: options.account) }
        guard let tenantName, !options.tenantAccounts.isEmpty else { return options.account }
        let name: String?
        if let cached = names.name(of: tenantID) {
            name = cached
        } else {
            do {
                name = try await tenantName(tenantID)
            } catch {
                // Nothing was sent: the same step can be tried again.
                throw .transient("whatsapp: tenant lookup failed")
            }
            if let name { names.remember(name, for: tenantID) }
        }
        if let name, let own = options.tenantAccounts[name] { return own.applied(to: options.account) }
        return options.account
    }
}

/// Tenant names by id (names do not change), bounded.
private final class NameCache: Sendable {
    private let names = Mutex<[String: String]>([:])

    func name(of id: String) -> String? { names.withLock { $0[id] } }

    func remember(_ name: String, for id: String) {
        names.withLock { names in
            if names.count >= 10_000 { names.removeAll(keepingCapacity: true) }
            names[id] = name
        }
    }
}

/// Template language codes as Meta names them, by Sandi locale.
public enum WhatsAppLanguages {
    /// Sandi's locales that Meta has a template language for. Nepali (`ne`), Burmese (`my`) and
    /// Khmer (`km`) are not in Meta's list of template languages: they get ``fallback`` unless
    /// configured.
    public static let defaults: [String: String] = [
        "id": "id", "en": "en_US", "ms": "ms", "vi": "vi", "fil": "fil", "tl": "fil", "th": "th",
        "zh": "zh_CN", "zh-Hans": "zh_CN", "hi": "hi", "bn": "bn",
    ]

    /// The language of locales without a template language.
    public static let fallback = "en_US"

    /// The template language for `locale` (`id` → `id`, `en-GB` → `en_US` unless mapped).
    public static func code(for locale: String, in map: [String: String] = defaults) -> String {
        if let code = map[locale] { return code }
        let base = String(locale.split(whereSeparator: { $0 == "-" || $0 == "_" }).first ?? Substring(locale))
        return map[base] ?? map["en"] ?? fallback
    }

    /// Parses `locale:code` pairs separated by commas (`en:en_GB,ne:en_US`); nil when malformed.
    public static func parse(_ text: String) -> [String: String]? {
        var map: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, isLocale(parts[0]), isLanguageCode(parts[1]) else { return nil }
            map[parts[0]] = parts[1]
        }
        return map
    }

    /// A Sandi locale as the map keys it (`id`, `zh-Hans`).
    public static func isLocale(_ text: String) -> Bool {
        (1...16).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "-" || $0 == "_") }
    }

    /// A Meta template language code: `id`, `fil`, `en_US`, `prs_AF`.
    public static func isLanguageCode(_ text: String) -> Bool {
        text.wholeMatch(of: /[a-z]{2,3}(_[A-Z]{2})?/) != nil
    }
}
