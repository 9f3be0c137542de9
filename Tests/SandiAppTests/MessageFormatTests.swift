import Foundation
import SandiApp
import SandiCore
import Testing

/// The WICG origin-bound one-time code format, parsed the way browsers do: the last line,
/// `@host`, exactly one space, `#code`, optionally ` @embedded`; nothing before `@`.
func parseOriginBound(_ text: String) -> (host: String, code: String)? {
    guard let last = text.split(separator: "\n", omittingEmptySubsequences: false).last, last.first == "@" else { return nil }
    let tokens = last.split(separator: " ", omittingEmptySubsequences: false)
    guard tokens.count >= 2, tokens[0].count > 1, tokens[1].first == "#", tokens[1].count > 1 else { return nil }
    return (String(tokens[0].dropFirst()), String(tokens[1].dropFirst()))
}

@Suite("SMS formats phones and browsers read: SMS Retriever hash, origin-bound codes, brand")
struct MessageFormatTests {
    @Test("with an app hash and an origin domain the SMS carries the hash on its own line and ends with @domain #code; WhatsApp and voice do not; the brand setting names the tenant")
    func formats() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { client in
            let bad = try await client.request(.put, "/v1/settings/messages", body: #"{"origin_domain":"https://auth.example.com/login"}"#)
            #expect(bad.status == 422 && bad.object["errors"]?.arrayValue?.first?.objectValue?["field"] == "origin_domain")
            let saved = try await client.request(.put, "/v1/settings/messages", body: #"{"origin_domain":"auth.example.com","brand":"ACME Bank"}"#)
            #expect(saved.status == 200, "\(saved.text)")
            #expect(try await client.get("/v1/settings/messages")["settings"]?.objectValue?["origin_domain"] == "auth.example.com")

            let id = try await client.start(purpose: "login", extra: #","channel":"sms","locale":"en","context":{"app_hash":"FA+9qCX9VSu"}"#)
            let code = try await client.code()
            let outbox = try await client.get("/v1/dev/outbox?to=%2B6281234567890")
            let text = try #require(outbox["messages"]?.arrayValue?.first?.objectValue?["text"]?.stringValue)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.contains("FA+9qCX9VSu"), "the Retriever hash on a line of its own: \(text)")
            let bound = try #require(parseOriginBound(text), "the last line is origin-bound: \(text)")
            #expect(bound.host == "auth.example.com" && bound.code == code)
            #expect(text.contains("ACME Bank"), "the tenant's brand: \(text)")
            #expect(text.utf8.count <= 160 && text.allSatisfy(\.isASCII), "one GSM-7 segment, within the Retriever's 140 bytes packed: \(text.utf8.count) characters")
            _ = id

            // The other tenant has no settings: no origin line, the server's brand.
            let other = try await client.post("/v1/verifications", #"{"to":"+6281299990000","purpose":"login","channel":"sms"}"#, key: harness.otherKey)
            #expect(other.status == 201)
            try await client.deliver()
            let plain = try await client.get("/v1/dev/outbox?to=%2B6281299990000", key: harness.otherKey)
            let plainText = try #require(plain["messages"]?.arrayValue?.first?.objectValue?["text"]?.stringValue)
            #expect(parseOriginBound(plainText) == nil && !plainText.contains("ACME Bank"))

            // WhatsApp and voice carry neither line.
            _ = try await client.start("+6281277770000", purpose: "login", extra: #","channel":"voice","context":{"app_hash":"FA+9qCX9VSu"}"#)
            try await client.deliver()
            let voice = try await client.get("/v1/dev/outbox?to=%2B6281277770000")
            let script = try #require(voice["messages"]?.arrayValue?.first?.objectValue?["text"]?.stringValue)
            #expect(!script.contains("FA+9qCX9VSu") && !script.contains("@auth.example.com"))
        }
    }

    @Test("the origin-bound parser itself refuses text before @host and a missing code")
    func parser() {
        #expect(parseOriginBound("Your code 123456\n\n@a.example #123456")?.code == "123456")
        #expect(parseOriginBound("code\nsee @a.example #123456") == nil)
        #expect(parseOriginBound("code\n@a.example 123456") == nil)
        #expect(parseOriginBound("@a.example #1 @embed.example")?.host == "a.example")
    }
}
