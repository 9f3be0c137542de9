import Foundation

/// What a user asked the support assistant for.
public enum AssistantIntent: String, Sendable, Codable, CaseIterable {
    case notMe = "not_me"
    case human
    case sendSMS = "send_sms"
    case sendWhatsApp = "send_whatsapp"
    case sendVoice = "send_voice"
    case sendAgain = "send_again"
    case whereIsCode = "where_is_code"

    /// The order in which intents are tried: the most consequential first.
    public static let priority: [AssistantIntent] = [.notMe, .human, .sendSMS, .sendWhatsApp, .sendVoice, .sendAgain, .whereIsCode]

    public var channel: Channel? {
        switch self {
        case .sendSMS: .sms
        case .sendWhatsApp: .whatsapp
        case .sendVoice: .voice
        default: nil
        }
    }
}

/// One language of the assistant: the words that signal each intent and the replies, from
/// `Resources/assistant/<language>.json` (data a translator edits).
public struct AssistantLanguage: Sendable, Decodable {
    public var language: String
    /// Whether the script separates words with spaces (keywords then match whole words).
    public var spaced: Bool
    public var intents: [String: [String]]
    public var replies: [String: String]
    public var channels: [String: String]
}

/// The assistant's languages, and keyword matching over them. No model, no free text out: a
/// message selects an intent by keywords, and every answer is a fixed reply with Sandi's own
/// values filled in, so no input can make it say a code or anything else.
public struct AssistantCatalog: Sendable {
    public let languages: [String: AssistantLanguage]
    /// Normalized keywords per language and intent.
    let keywords: [String: [(AssistantIntent, [String])]]

    public static let bundled: AssistantCatalog = {
        var languages: [String: AssistantLanguage] = [:]
        let directory = Bundle.module.bundleURL.appendingPathComponent("assistant")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() where name.hasSuffix(".json") {
            if let data = try? Data(contentsOf: directory.appendingPathComponent(name)),
               let language = try? JSONDecoder().decode(AssistantLanguage.self, from: data) {
                languages[language.language] = language
            }
        }
        return AssistantCatalog(languages: languages)
    }()

    public init(languages: [String: AssistantLanguage]) {
        self.languages = languages
        var keywords: [String: [(AssistantIntent, [String])]] = [:]
        for (code, language) in languages {
            keywords[code] = AssistantIntent.priority.map { intent in
                (intent, (language.intents[intent.rawValue] ?? []).map { Self.normalize($0, spaced: language.spaced) }.filter { !$0.isEmpty })
            }
        }
        self.keywords = keywords
    }

    /// Lowercased, NFKC, anything but letters, digits and marks as one space (removed entirely
    /// for scripts without spaces), padded with a space on each side when spaced.
    static func normalize(_ text: String, spaced: Bool) -> String {
        var out = ""
        var lastSpace = true
        for scalar in text.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            let p = scalar.properties
            if p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark || p.generalCategory == .enclosingMark {
                out.unicodeScalars.append(scalar)
                lastSpace = false
            } else if !lastSpace {
                out += " "
                lastSpace = true
            }
        }
        let trimmed = out.trimmingCharacters(in: .whitespaces)
        return spaced ? trimmed : trimmed.replacingOccurrences(of: " ", with: "")
    }

    /// The intent of `message` and the language it was recognised in: the preferred language
    /// first, then English, then every other.
    public func match(_ message: String, preferring language: String?) -> (intent: AssistantIntent, language: String)? {
        var order: [String] = []
        if let language, languages[language] != nil { order.append(language) }
        if !order.contains("en"), languages["en"] != nil { order.append("en") }
        order += languages.keys.sorted().filter { !order.contains($0) }
        // Compared as Unicode scalars, not characters: a keyword that ends in the middle of a
        // grapheme cluster of the message (Burmese, Khmer, Thai marks) still matches.
        let spacedText = Array((" " + Self.normalize(message, spaced: true) + " ").unicodeScalars)
        let compact = Array(Self.normalize(message, spaced: false).unicodeScalars)
        for code in order {
            guard let language = languages[code], let table = keywords[code] else { continue }
            for (intent, words) in table {
                let hit = words.contains { word in
                    language.spaced
                        ? Self.contains(spacedText, Array((" " + word + " ").unicodeScalars))
                        : Self.contains(compact, Array(word.replacingOccurrences(of: " ", with: "").unicodeScalars))
                }
                if hit { return (intent, code) }
            }
        }
        return nil
    }

    static func contains(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    /// A reply in `language` (English when it has none), with the values filled in.
    public func reply(_ key: String, language: String, values: [String: String] = [:]) -> String {
        let table = languages[language] ?? languages["en"]
        let text = table?.replies[key] ?? languages["en"]?.replies[key] ?? key
        return MessageTemplate.fill(text, values)
    }

    /// A channel's name in `language`.
    public func channelName(_ channel: Channel, language: String) -> String {
        (languages[language] ?? languages["en"])?.channels[channel.rawValue] ?? channel.rawValue
    }
}
