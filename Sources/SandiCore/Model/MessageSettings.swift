/// A tenant's message settings (`PUT /v1/settings/messages`): the sender/brand name its codes
/// name, and the web domain for the origin-bound last line (`@auth.example.com #123456`) that
/// lets browsers (WebOTP, Safari autofill) fill the code only on that site.
public struct MessageSettings: Sendable, Equatable, Codable {
    /// The brand named in texts (nil: the server's `sandi.brand`).
    public var brand: String?
    /// The domain of the origin-bound line on SMS (nil: none).
    public var originDomain: String?

    public init(brand: String? = nil, originDomain: String? = nil) {
        self.brand = brand
        self.originDomain = originDomain
    }

    enum CodingKeys: String, CodingKey { case brand, originDomain = "origin_domain" }

    public var problems: [FieldError] {
        var out: [FieldError] = []
        if let brand, brand.isEmpty || brand.count > 30 || brand.contains(where: { $0.isNewline || $0 == "{" || $0 == "}" }) {
            out.append(FieldError(field: "brand", reason: "must be 1–30 characters on one line, without braces"))
        }
        if let originDomain, !Self.isHostname(originDomain) {
            out.append(FieldError(field: "origin_domain", reason: "must be a host name such as auth.example.com (no scheme, port or path)"))
        }
        return out
    }

    /// A DNS host name: labels of letters, digits and hyphens, at least two, at most 253 characters.
    static func isHostname(_ text: String) -> Bool {
        guard (3...253).contains(text.count) else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}

/// Each tenant's message settings.
public typealias MessageSettingsCache = TenantDocumentCache<MessageSettings>

extension TenantDocumentCache where Document == MessageSettings {
    public convenience init(store: any RiskStateStore, defaults: MessageSettings = MessageSettings(), clock: any TimeSource, ttlSeconds: Double = 5) {
        self.init(store: store, kind: "messages", defaults: defaults, clock: clock, ttlSeconds: ttlSeconds)
    }
}
