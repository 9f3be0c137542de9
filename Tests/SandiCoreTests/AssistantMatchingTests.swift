import Foundation
import SandiCore
import Testing

/// The assistant's keyword data against test phrases per language and intent (the phrases live in
/// a data file beside the test, so translators extend both together).
@Suite("Assistant: intents in every language")
struct AssistantMatchingTests {
    static let languages = ["id", "en", "ms", "vi", "fil", "th", "my", "km", "ne", "bn", "hi", "zh"]

    static func phrases() throws -> [String: [String: [String]]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/assistant-phrases.json")
        return try JSONDecoder().decode([String: [String: [String]]].self, from: Data(contentsOf: url))
    }

    @Test("every language has every intent and every reply, with exactly its placeholders")
    func completeness() {
        let catalog = AssistantCatalog.bundled
        #expect(Set(catalog.languages.keys) == Set(Self.languages))
        let placeholders: [String: Set<String>] = [
            "where_sent": ["channel"], "where_delivered": ["channel"], "where_failed": ["channel"], "next_step": ["next_channel", "seconds"],
            "resent": ["channel"], "resend_wait": ["seconds"], "channel_unavailable": ["channel"], "ticket_opened": ["ticket"],
        ]
        let replyKeys = ["where_queued", "where_sent", "where_delivered", "where_failed", "next_step", "next_none", "resent", "resend_wait",
                         "resend_limit", "channel_unavailable", "not_me_done", "ticket_opened", "finished", "no_verification", "help", "refused", "slow_down", "text_only"]
        for (code, language) in catalog.languages {
            for intent in AssistantIntent.allCases {
                #expect(!(language.intents[intent.rawValue] ?? []).isEmpty, "\(code) has keywords for \(intent.rawValue)")
            }
            for key in replyKeys {
                let text = language.replies[key] ?? ""
                #expect(!text.isEmpty, "\(code) has reply \(key)")
                let found = Set(text.matches(of: /\{([a-z_]+)\}/).map { String($0.output.1) })
                #expect(found == (placeholders[key] ?? []), "\(code).\(key) placeholders \(found)")
            }
            #expect(Set(language.channels.keys) == ["sms", "whatsapp", "voice"], "\(code) names every channel")
        }
    }

    @Test("each test phrase selects its intent, in its own language; small talk, abuse and requests for the code select none", arguments: languages)
    func phrases(language: String) throws {
        let catalog = AssistantCatalog.bundled
        let table = try #require(try Self.phrases()[language], "phrases for \(language)")
        for intent in AssistantIntent.allCases {
            let list = table[intent.rawValue] ?? []
            #expect(list.count >= 2, "\(language) has test phrases for \(intent.rawValue)")
            for phrase in list {
                #expect(catalog.match(phrase, preferring: language)?.intent == intent, "\(language): \(phrase)")
            }
        }
        let none = table["none"] ?? []
        #expect(none.count >= 3)
        for phrase in none {
            #expect(catalog.match(phrase, preferring: language) == nil, "\(language) must not match: \(phrase)")
        }
    }
}
