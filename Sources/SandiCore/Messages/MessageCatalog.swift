import Foundation

/// Localized message templates, one JSON file per language (`Resources/messages/<locale>.json`),
/// so translators edit data, not code. Keys: `message.text`, `message.voice`, `purpose.<purpose>`.
public struct MessageCatalog: Sendable {
    /// Templates by locale, then key.
    public let locales: [String: [String: String]]
    /// The locale used when nothing better matches.
    public let fallbackLocale: String

    public init(locales: [String: [String: String]], fallbackLocale: String = "en") {
        self.locales = locales
        self.fallbackLocale = fallbackLocale
    }

    /// The catalog shipped with Sandi.
    public static let bundled: MessageCatalog = {
        var locales: [String: [String: String]] = [:]
        let directory = Bundle.module.bundleURL.appendingPathComponent("messages")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names.sorted() where name.hasSuffix(".json") {
            let url = directory.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: url),
                  let table = try? JSONDecoder().decode([String: String].self, from: data),
                  let locale = table["locale"]
            else { continue }
            locales[locale] = table
        }
        return MessageCatalog(locales: locales)
    }()

    /// The best supported locale for a request's locale (`id-ID` → `id`), else the country's
    /// language, else the fallback.
    public func resolve(requested: String?, country: String?) -> String {
        if let requested {
            let lower = requested.lowercased().replacingOccurrences(of: "_", with: "-")
            if locales[lower] != nil { return lower }
            if let base = lower.split(separator: "-").first.map(String.init), locales[base] != nil { return base }
        }
        if let country, let language = Self.countryLanguage[country.uppercased()], locales[language] != nil {
            return language
        }
        return fallbackLocale
    }

    /// The main language of the corridor countries.
    static let countryLanguage: [String: String] = [
        "ID": "id", "MY": "ms", "VN": "vi", "PH": "fil", "TH": "th", "MM": "my", "KH": "km",
        "NP": "ne", "BD": "bn", "IN": "hi", "CN": "zh", "SG": "en", "TL": "id",
    ]

    /// A template string, falling back to the fallback locale.
    public func string(_ key: String, locale: String) -> String? {
        locales[locale]?[key] ?? locales[fallbackLocale]?[key]
    }
}

/// Renders the text a person receives: code, purpose, brand, expiry and the never-share warning.
public struct MessageRenderer: Sendable {
    public let catalog: MessageCatalog
    /// The sender or brand name shown in messages.
    public let brand: String

    public init(catalog: MessageCatalog = .bundled, brand: String = "Sandi") {
        self.catalog = catalog
        self.brand = brand
    }

    /// The text for a channel: the SMS/WhatsApp body, or the voice script read digit by digit.
    /// A security notice: what happened (`notice.<kind>`), for which purpose, by which brand. No code.
    /// `worker` names the user a supervisor's alert is about; it goes in last, as text.
    public func renderNotice(_ kind: NoticeKind, purpose: Purpose, locale: String, worker: String? = nil) -> String {
        let template = catalog.string("notice.\(kind.rawValue)", locale: locale) ?? "{brand}"
        let purposeText = catalog.string("purpose.\(purpose.rawValue)", locale: locale) ?? purpose.rawValue
        return MessageTemplate.fill(template, ["brand": brand, "purpose": purposeText, "worker": worker ?? ""])
    }

    /// The text of an SMS with what phones read automatically: the Android SMS Retriever hash
    /// of the requesting app on a line of its own, and the origin-bound line
    /// (`@auth.example.com #123456`, WICG sms-one-time-codes) as the very last line, so the
    /// browser offers the code only on that domain. Other channels get the text as it is.
    public func render(channel: Channel, code: String, purpose: Purpose, locale: String, ttlSeconds: Int, transaction: TransactionDetails? = nil,
                       appHash: String?, settings: MessageSettings) -> String {
        let renderer = settings.brand.map { MessageRenderer(catalog: catalog, brand: $0) } ?? self
        var text = renderer.render(channel: channel, code: code, purpose: purpose, locale: locale, ttlSeconds: ttlSeconds, transaction: transaction)
        guard channel == .sms else { return text }
        if let appHash, !appHash.isEmpty { text += "\n" + appHash }
        if let domain = settings.originDomain { text += "\n\n@" + domain + " #" + code }
        return text
    }

    /// A code bound to a transaction names its amount and payee (`message.*.transaction`).
    public func render(channel: Channel, code: String, purpose: Purpose, locale: String, ttlSeconds: Int, transaction: TransactionDetails? = nil) -> String {
        let minutes = max(1, (ttlSeconds + 59) / 60)
        let key = (channel == .voice ? "message.voice" : "message.text") + (transaction == nil ? "" : ".transaction")
        let template = catalog.string(key, locale: locale) ?? "{code}"
        let purposeText = catalog.string("purpose.\(purpose.rawValue)", locale: locale) ?? purpose.rawValue
        let digits = code.map(String.init).joined(separator: ", ")
        // One pass over the template: a value is never read for placeholders, so a payee or a
        // brand that happens to contain "{code}" stays text.
        return MessageTemplate.fill(template, [
            "code": code, "digits": digits, "brand": brand, "purpose": purposeText, "minutes": String(minutes),
            "amount": transaction?.displayAmount ?? "", "payee": transaction?.payee ?? "",
        ])
    }
}

/// Placeholders (`{name}`) in a message template.
public enum MessageTemplate {
    /// The template with each `{name}` that `values` knows replaced by its value, in one pass:
    /// values are not searched for placeholders, and unknown placeholders stay as written.
    public static func fill(_ template: String, _ values: [String: String]) -> String {
        let utf8 = template.utf8
        var out = ""
        out.reserveCapacity(utf8.count + 32)
        var copied = utf8.startIndex
        var cursor = utf8.startIndex
        while let open = utf8[cursor...].firstIndex(of: UInt8(ascii: "{")) {
            guard let close = utf8[utf8.index(after: open)...].firstIndex(of: UInt8(ascii: "}")) else { break }
            let name = Substring(utf8[utf8.index(after: open)..<close])
            if let value = values[String(name)] {
                out += Substring(utf8[copied..<open])
                out += value
                copied = utf8.index(after: close)
                cursor = copied
            } else {
                // Not a placeholder of ours: the brace is text, and the search goes on after it.
                cursor = utf8.index(after: open)
            }
        }
        out += Substring(utf8[copied...])
        return out
    }
}
