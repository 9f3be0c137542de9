import Foundation
import SandiCore
import Testing

@Suite("Phone numbers")
struct NumberTests {
    let parser = PhoneNumberParser()

    @Test("Indonesian operators from the prefix table", arguments: [
        ("+6281234567890", "Telkomsel"), ("+6285712345678", "Indosat Ooredoo Hutchison"), ("+6287812345678", "XL"),
        ("+6283812345678", "AXIS"), ("+6288112345678", "Smartfren"),
    ])
    func operators(_ number: String, _ name: String) throws {
        let parsed = try parser.parse(number)
        #expect(parsed.country == "ID" && parsed.operator == name && parsed.e164 == number)
    }

    @Test("unknown prefixes have no operator")
    func unknownOperator() throws {
        #expect(try parser.parse("+6282812345678").operator == nil)
    }

    @Test("national numbers with a country, punctuation, 00 and missing plus")
    func forms() throws {
        #expect(try parser.parse("081234567890", country: "ID").e164 == "+6281234567890")
        #expect(try parser.parse("0812-3456-7890", country: "id").e164 == "+6281234567890")
        #expect(try parser.parse("+62 812-3456-7890").e164 == "+6281234567890")
        #expect(try parser.parse("006281234567890").e164 == "+6281234567890")
        #expect(try parser.parse("6281234567890", country: "ID").e164 == "+6281234567890")
    }

    @Test("one valid mobile per corridor country", arguments: [
        ("+62812345678", "ID"), ("+639051234567", "PH"), ("+84912345678", "VN"), ("+60123456789", "MY"), ("+66812345678", "TH"),
        ("+9592123456", "MM"), ("+85591234567", "KH"), ("+9779841234567", "NP"), ("+8801812345678", "BD"), ("+918123456789", "IN"),
        ("+94712345678", "LK"), ("+8613123456789", "CN"), ("+67077212345", "TL"),
    ])
    func corridors(_ number: String, _ country: String) throws {
        #expect(try parser.parse(number).country == country)
    }

    @Test("invalid numbers are refused with a reason")
    func invalid() {
        #expect(throws: PhoneNumberError.wrongLength) { try parser.parse("+62812") }
        #expect(throws: PhoneNumberError.wrongLength) { try parser.parse("+628123456789012") }
        #expect(throws: PhoneNumberError.countryRequired) { try parser.parse("081234567890") }
        #expect(throws: PhoneNumberError.unknownCountry("XX")) { try parser.parse("081234567890", country: "XX") }
        #expect(throws: PhoneNumberError.invalidCharacters) { try parser.parse("+62 812 abc") }
        #expect(throws: PhoneNumberError.empty) { try parser.parse("+") }
        #expect(throws: PhoneNumberError.notMobile) { try parser.parse("+62212345678") }
        #expect(throws: PhoneNumberError.invalidCharacters) { try parser.parse(String(repeating: "1", count: 41)) }
    }

    @Test("masking keeps only the country and the last three digits")
    func masking() throws {
        #expect(try parser.parse("+6281234567890").masked == "+62********890")
        #expect(!PhoneNumber.mask("+6281234567890").contains("1234567"))
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test("format: UTC, three fractional digits, Z")
    func format() {
        #expect(Timestamp.format(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(millis: 1_795_000_000_123) == "2026-11-18T11:06:40.123Z")
        #expect(Timestamp.format(millis: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
    }

    @Test("format agrees with Foundation's ISO 8601 formatter from 1601 to 9999")
    func formatAgreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var rng = SeededRandom(seed: 8601)
        let edges: [Int64] = [0, -1, 1, 999, -999, 86_399_999, 253_402_300_799_999, -11_644_473_600_000, 1_795_000_000_123]
        for millis in edges + (0..<2_000).map({ _ in Int64.random(in: -11_644_473_600_000...253_402_300_799_999, using: &rng) }) {
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            #expect(Timestamp.format(millis: millis) == formatter.string(from: date), "\(millis)")
        }
    }

    @Test("parse round-trips and accepts offsets")
    func parse() {
        let date = Timestamp.parse("2026-11-21T10:00:00.123Z")
        #expect(date.map(Timestamp.format) == "2026-11-21T10:00:00.123Z")
        #expect(Timestamp.parse("2026-11-21T17:00:00+07:00").map(Timestamp.format) == "2026-11-21T10:00:00.000Z")
        #expect(Timestamp.parse("2026-13-21T10:00:00Z") == nil)
        #expect(Timestamp.parse("yesterday") == nil)
    }
}

@Suite("Plans and messages")
struct PlanMessageTests {
    @Test("the standard plan, a forced channel, and missing channels")
    func plans() {
        let all = Set(Channel.allCases)
        #expect(DeliveryPlan.standard.arranged(forced: nil, available: all).steps.map(\.channel) == [.whatsapp, .sms, .voice])
        #expect(DeliveryPlan.standard.arranged(forced: .sms, available: all).steps.map(\.channel) == [.sms, .voice])
        let noWhatsApp = DeliveryPlan.standard.arranged(forced: nil, available: [.sms, .voice])
        #expect(noWhatsApp.steps.map(\.channel) == [.sms, .voice] && noWhatsApp.steps.last?.timeoutSeconds == nil)
        #expect(DeliveryPlan.standard.steps.first?.timeoutSeconds == 40)
    }

    @Test("messages carry code, purpose, expiry and the never-share warning, per language")
    func messages() {
        let renderer = MessageRenderer(brand: "Acme")
        let en = renderer.render(channel: .sms, code: "123456", purpose: .passwordReset, locale: "en", ttlSeconds: 300)
        #expect(en == "123456 is your Acme password reset code. It expires in 5 min. Never share this code with anyone, not even our staff.")
        let id = renderer.render(channel: .whatsapp, code: "123456", purpose: .login, locale: "id", ttlSeconds: 170)
        #expect(id.contains("123456") && id.contains("masuk") && id.contains("3 menit") && id.contains("Jangan berikan kode ini"))
        let voice = renderer.render(channel: .voice, code: "123456", purpose: .login, locale: "en", ttlSeconds: 60)
        #expect(voice.contains("1, 2, 3, 4, 5, 6") && voice.components(separatedBy: "1, 2, 3, 4, 5, 6").count == 3, "read digit by digit, twice")
    }

    @Test("locale resolution: requested, base language, country, fallback")
    func locales() {
        let catalog = MessageCatalog.bundled
        #expect(catalog.resolve(requested: "id-ID", country: nil) == "id")
        #expect(catalog.resolve(requested: nil, country: "ID") == "id")
        #expect(catalog.resolve(requested: "xx", country: "US") == "en")
        #expect(Set(catalog.locales.keys).isSuperset(of: ["en", "id"]))
    }

    @Test("every language's messages carry the code, the expiry and the digits read twice")
    func everyLanguageRenders() {
        let catalog = MessageCatalog.bundled
        for locale in catalog.locales.keys.sorted() {
            let renderer = MessageRenderer(catalog: catalog, brand: "Sandi")
            let text = renderer.render(channel: .sms, code: "482913", purpose: .passwordReset, locale: locale, ttlSeconds: 300)
            #expect(text.contains("482913") && text.contains("5") && text.contains("Sandi") && !text.contains("{"), "\(locale): \(text)")
            let voice = renderer.render(channel: .voice, code: "482913", purpose: .login, locale: locale, ttlSeconds: 300)
            #expect(voice.components(separatedBy: "4, 8, 2, 9, 1, 3").count == 3 && !voice.contains("{"), "\(locale): \(voice)")
        }
    }

    @Test("every language has every key")
    func completeTranslations() throws {
        let catalog = MessageCatalog.bundled
        let keys = try #require(catalog.locales["en"]).keys
        for (locale, table) in catalog.locales {
            #expect(Set(table.keys) == Set(keys), "\(locale) misses \(Set(keys).subtracting(table.keys))")
        }
    }
}

@Suite("Message templates")
struct MessageTemplateTests {
    @Test("placeholders are filled in one pass: values stay text, unknown ones stay as written")
    func fill() {
        #expect(MessageTemplate.fill("Kode {code} untuk {brand}. {minutes} menit.", ["code": "123456", "brand": "Acme", "minutes": "5"])
                == "Kode 123456 untuk Acme. 5 menit.")
        #expect(MessageTemplate.fill("{code}{code}", ["code": "1"]) == "11")
        #expect(MessageTemplate.fill("pay {payee} ({code})", ["payee": "{code} Ltd", "code": "42"]) == "pay {code} Ltd (42)")
        #expect(MessageTemplate.fill("{unknown} {x {code} }", ["code": "9"]) == "{unknown} {x 9 }")
        #expect(MessageTemplate.fill("ünï {brand} 中文 {", ["brand": "Ōkami"]) == "ünï Ōkami 中文 {")
        #expect(MessageTemplate.fill("", ["code": "1"]) == "")
        #expect(MessageTemplate.fill("no braces", [:]) == "no braces")
        #expect(MessageTemplate.fill("{}", ["": "empty"]) == "empty")
    }
}
