import Configuration
import Foundation
public import SandiProviders

/// A WhatsApp Business account on Meta's Cloud API (on when any of `phone_number_id`, `token` or
/// `template` is set): `sandi.whatsapp.phone_number_id` (the business number's id at Meta),
/// `.token` (secret: a system-user access token), `.template` (the approved authentication
/// template's name), `.languages` (`locale:code` pairs over the built-in map, e.g.
/// `en:en_GB,ne:en_US`), `.api_base` (`https://graph.facebook.com`), `.api_version` (`v22.0`),
/// `.timeout_ms` (5000). Webhooks: `.app_secrets` (secret: the Meta app's secret, or several
/// separated by commas, current first, while rotating), `.verify_token` (secret: the token given
/// to Meta with the callback URL). `.accounts`: a JSON file of tenants' own accounts, by tenant id
/// or name, each field optional (unset ones are the default account's):
/// `{"acme": {"phone_number_id": "…", "token": "…", "template": "acme_otp", "languages": {"en": "en_GB"}}}`.
/// The support assistant answers users' messages to a tenant's own number for that tenant, and
/// to the default number for `.assistant_tenant` (a tenant id or name; unset: not answered).
public struct WhatsAppSettings: Sendable, Equatable {
    public var phoneNumberID: String
    public var token: String
    public var template: String
    public var languages: [String: String]
    public var apiBase: String
    public var apiVersion: String
    public var appSecrets: [String]
    public var verifyToken: String
    public var accountsPath: String?
    public var tenantAccounts: [String: WhatsAppCloudProvider.AccountOverride]
    public var timeoutMs: Int
    /// The tenant (id or name) whose assistant answers messages to the default account's number.
    public var assistantTenant: String?
    /// Why the language map or the accounts file could not be read.
    var readProblems: [String] = []

    init?(reader: ConfigReader) {
        func value(_ key: String, secret: Bool = false) -> String {
            // Digits-only values (a phone number id, a numeric token) may arrive typed as numbers.
            let key = ConfigKey("sandi.whatsapp." + key)
            let text = reader.string(forKey: key, isSecret: secret) ?? reader.int(forKey: key, isSecret: secret).map(String.init)
            return (text ?? "").trimmingCharacters(in: .whitespaces)
        }
        phoneNumberID = value("phone_number_id")
        token = value("token", secret: true)
        template = value("template")
        guard !phoneNumberID.isEmpty || !token.isEmpty || !template.isEmpty else { return nil }
        languages = WhatsAppLanguages.defaults
        let languageText = value("languages")
        if !languageText.isEmpty {
            if let parsed = WhatsAppLanguages.parse(languageText) {
                languages.merge(parsed) { $1 }
            } else {
                readProblems.append("sandi.whatsapp.languages must be locale:code pairs separated by commas, e.g. en:en_GB,ne:en_US (Meta's template language codes)")
            }
        }
        apiBase = reader.string(forKey: "sandi.whatsapp.api_base", default: "https://graph.facebook.com")
        apiVersion = reader.string(forKey: "sandi.whatsapp.api_version", default: "v22.0")
        appSecrets = value("app_secrets", secret: true).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        verifyToken = value("verify_token", secret: true)
        timeoutMs = reader.int(forKey: "sandi.whatsapp.timeout_ms", default: 5000)
        let assistantTenant = value("assistant_tenant")
        self.assistantTenant = assistantTenant.isEmpty ? nil : assistantTenant
        tenantAccounts = [:]
        let path = value("accounts")
        accountsPath = path.isEmpty ? nil : path
        if let accountsPath {
            do {
                tenantAccounts = try JSONDecoder().decode([String: WhatsAppCloudProvider.AccountOverride].self,
                                                          from: Data(contentsOf: URL(fileURLWithPath: accountsPath)))
            } catch {
                readProblems.append("sandi.whatsapp.accounts \(accountsPath) could not be read as {\"<tenant id or name>\": {\"phone_number_id\", \"token\", \"template\", \"languages\"}}")
            }
        }
    }

    /// Environment variables of its secrets.
    static let secretVariables = ["SANDI_WHATSAPP_TOKEN", "SANDI_WHATSAPP_APP_SECRETS", "SANDI_WHATSAPP_VERIFY_TOKEN"]

    var problems: [String] {
        var problems = readProblems
        if !Self.isPhoneNumberID(phoneNumberID) { problems.append("sandi.whatsapp.phone_number_id must be the business number's id at Meta (digits)") }
        if !Self.isToken(token) { problems.append("sandi.whatsapp.token is required (SANDI_WHATSAPP_TOKEN): a system-user access token") }
        if !Self.isTemplateName(template) {
            problems.append("sandi.whatsapp.template must be the approved authentication template's name (lowercase letters, digits, underscores)")
        }
        if appSecrets.isEmpty {
            problems.append("sandi.whatsapp.app_secrets is required (SANDI_WHATSAPP_APP_SECRETS): the Meta app's secret, to authenticate its webhooks")
        }
        if verifyToken.isEmpty {
            problems.append("sandi.whatsapp.verify_token is required (SANDI_WHATSAPP_VERIFY_TOKEN): the token given to Meta with the callback URL")
        }
        if !(apiBase.hasPrefix("https://") || apiBase.hasPrefix("http://")) || apiBase.contains("?") {
            problems.append("sandi.whatsapp.api_base must be an http(s) URL")
        }
        if apiVersion.wholeMatch(of: /v[0-9]+\.[0-9]+/) == nil { problems.append("sandi.whatsapp.api_version must look like v22.0") }
        if !(200...30_000).contains(timeoutMs) { problems.append("sandi.whatsapp.timeout_ms must be 200–30000") }
        for (tenant, account) in tenantAccounts.sorted(by: { $0.key < $1.key }) {
            let at = "sandi.whatsapp.accounts[\(tenant)]"
            if tenant.isEmpty { problems.append("sandi.whatsapp.accounts: a tenant id or name is empty") }
            if let id = account.phoneNumberID, !Self.isPhoneNumberID(id) { problems.append("\(at).phone_number_id must be digits") }
            if let token = account.token, !Self.isToken(token) { problems.append("\(at).token must not be empty") }
            if let template = account.template, !Self.isTemplateName(template) { problems.append("\(at).template is not a template name") }
            for (locale, code) in account.languages ?? [:] where !WhatsAppLanguages.isLocale(locale) || !WhatsAppLanguages.isLanguageCode(code) {
                problems.append("\(at).languages: \(locale) → \(code) is not a locale and a Meta template language code")
            }
        }
        return problems
    }

    static func isPhoneNumberID(_ text: String) -> Bool { (1...32).contains(text.count) && text.allSatisfy { $0.isASCII && $0.isNumber } }

    static func isToken(_ text: String) -> Bool { !text.isEmpty && !text.contains { $0.isWhitespace || !$0.isASCII } }

    static func isTemplateName(_ text: String) -> Bool { text.wholeMatch(of: /[a-z0-9_]{1,512}/) != nil }

    /// The assistant on WhatsApp: a reply waits for Graph as long as a send, at most 5 s (Meta
    /// gets the webhook's answer after the reply).
    func assistantOptions() -> WhatsAppAssistant.Options {
        WhatsAppAssistant.Options(defaultTenant: assistantTenant, replyTimeoutMs: min(timeoutMs, 5000))
    }

    func options() -> WhatsAppCloudProvider.Options {
        WhatsAppCloudProvider.Options(
            account: .init(phoneNumberID: phoneNumberID, token: token, template: template, languages: languages),
            tenantAccounts: tenantAccounts, apiBase: apiBase, apiVersion: apiVersion, timeoutMs: timeoutMs)
    }
}
