import Foundation
import SandiCore
import Testing

@Suite("JSON values and rollups")
struct JSONValueTests {
    static let awkwardStrings: [String] = {
        var strings = ["", "plain", "quote\"d", "back\\slash", "a/b", "http://x/y", "tab\tnew\nline\rfeed\u{0C}bs\u{08}",
                       "del\u{7F}", "é", "ÆØÅ", "中文", "emoji 😀", "line\u{2028}sep\u{2029}", "+62********007", "ümlaut/\\\""]
        strings += (0..<0x20).map { "c" + String(UnicodeScalar(UInt8($0))) + "c" }
        return strings
    }()

    static let awkwardNumbers: [Double] = [0, -0.0, 1, -1, 42, 1.5, -2.25, 0.1, 1e-7, 123456.789, 9e15 - 1, 9e15, -9e15, -9e15 + 1, 1e16, 1e20, 3.4e38, .leastNonzeroMagnitude, 7, -7, 10, -10, 1_000_000, -1_234_567_890_123, 4_294_967_296]

    static func randomValue(_ rng: inout SeededRandom, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0..<(depth > 2 ? 4 : 6), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(awkwardNumbers.randomElement(using: &rng)!)
        case 3: return .string(awkwardStrings.randomElement(using: &rng)!)
        case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default: return .object(randomObject(&rng, depth: depth + 1))
        }
    }

    static func randomObject(_ rng: inout SeededRandom, depth: Int = 0) -> [String: JSONValue] {
        let keys = ["a", "B", "b", "Z", "_", "é", "aa", "a_b", "ab", "10", "9", "key/", "k\"", "中"]
        var object: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 0...6, using: &rng) { object[keys.randomElement(using: &rng)!] = randomValue(&rng, depth: depth) }
        return object
    }

    static func encoderText(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("the direct writer gives the generic sorted-keys encoder's text byte for byte")
    func writerMatchesEncoder() throws {
        for text in Self.awkwardStrings {
            #expect(try JSONValue.string(text).sortedJSONText() == Self.encoderText(JSONValue.string(text)), "\(Array(text.utf8))")
        }
        for number in Self.awkwardNumbers {
            #expect(try JSONValue.number(number).sortedJSONText() == Self.encoderText(JSONValue.number(number)), "\(number)")
        }
        var rng = SeededRandom(seed: 11)
        for _ in 0..<500 {
            let object = Self.randomObject(&rng)
            let text = try JSONValue.object(object).sortedJSONText()
            #expect(text == (try Self.encoderText(object)))
            #expect(try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8)) == object)
        }
        // Without escaped slashes (answers), as the encoder's `.withoutEscapingSlashes` writes.
        let unescaped = JSONEncoder()
        unescaped.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for text in Self.awkwardStrings {
            let object: JSONValue = .object([text: .string(text), "n": .number(-42)])
            #expect(try object.sortedJSONBytes(escapingSlashes: false) == Array(try unescaped.encode(object)), "\(Array(text.utf8))")
        }
        #expect(throws: (any Error).self) { try JSONValue.number(.nan).sortedJSONText() }
        #expect(throws: (any Error).self) { try JSONValue.object(["x": .array([.number(.infinity)])]).sortedJSONText() }
    }

    @Test("decoding reads every kind of value, nested")
    func decodesEveryKind() throws {
        let text = #"{"s":"x","n":-1.5,"i":7,"t":true,"f":false,"z":null,"a":[1,"two",[false],{"k":null}],"o":{"p":{"q":[]}},"e":{}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value == .object([
            "s": "x", "n": .number(-1.5), "i": 7, "t": true, "f": false, "z": .null,
            "a": .array([1, "two", .array([false]), .object(["k": .null])]), "o": .object(["p": .object(["q": .array([])])]), "e": .object([:]),
        ]))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("[]".utf8)) == .array([]))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("\"1\"".utf8)) == .string("1"))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("1".utf8)) == .number(1))
    }

    static func record(_ type: String, _ data: String, at millis: Int64 = 1_795_000_030_000, tenant: String = "ten_a") -> AuditRecord {
        AuditRecord(seq: 1, eventID: "evt", tenantID: tenant, verificationID: nil, type: type, createdAtMillis: millis, data: data, previousHash: nil, hash: nil)
    }

    @Test("rollups count each kind of event by its dimension, per minute and per hour")
    func rollupDeltas() {
        let records = [
            Self.record("verification.created", #"{"purpose":"login","country":"ID","operator":"Telkomsel","plan":["sms"],"to":"+62********007"}"#),
            Self.record("verification.created", #"{"purpose":"login","country":"MY","operator":null}"#),
            Self.record("verification.approved", #"{"purpose":"login"}"#),
            Self.record("rate_limit.hit", #"{"key":"ip","enforced":true}"#),
            Self.record("rate_limit.hit", #"{"key":"ip","enforced":false}"#),
            Self.record("rate_limit.hit", #"{"key":"destination","enforced":"yes"}"#),
            Self.record("fraud.prefix_blocked", #"{"enforced":false}"#),
            Self.record("delivery.sent", #"{"channel":"sms","provider":"simulator"}"#),
            Self.record("delivery.delivered", #"{"channel":"sms","provider":"simulator","latency_ms":3500,"country":"ID","operator":""}"#),
            Self.record("delivery.delivered", #"{"channel":"voice","provider":"twilio"}"#),
            Self.record("delivery.failed", #"{"channel":"sms","provider":"vonage","undeliverable":true}"#),
            Self.record("delivery.failed", #"{"channel":"sms","provider":"vonage"}"#),
            Self.record("delivery.fallback", #"{"from":"whatsapp","to":"sms"}"#),
            Self.record("grant.redeemed", "{}"),
            Self.record("code.generated", #"{"purpose":"login"}"#),
            Self.record("verification.created", "not json"),
            Self.record("verification.approved", #"["array"]"#),
        ]
        let deltas = Rollups.deltas(for: records)
        let minute = Dictionary(uniqueKeysWithValues: deltas.filter { $0.span == 60 }.map { ("\($0.metric)/\($0.dimension)", ($0.count, $0.total)) })
        let expected: [String: (Int64, Double)] = [
            "verifications/login": (2, 0), "verifications.country/ID": (1, 0), "verifications.country/MY": (1, 0),
            "verifications.operator/Telkomsel": (1, 0), "verifications.operator/unknown": (1, 0), "approved/login": (1, 0),
            "rate_limited/ip": (1, 0), "rate_limited/destination": (1, 0), "sends/sms|simulator": (1, 0),
            "delivered/sms|simulator": (1, 3.5), "delivered/voice|twilio": (1, 0), "delivery_latency/le_5": (1, 3.5),
            "delivered.country/ID": (1, 0), "undeliverable/sms|vonage": (1, 0), "failed/sms|vonage": (1, 0),
            "fallbacks/whatsapp>sms": (1, 0), "grants_redeemed/": (1, 0),
        ]
        #expect(Set(minute.keys) == Set(expected.keys))
        for (key, value) in expected { #expect(minute[key]?.0 == value.0 && minute[key]?.1 == value.1, "\(key)") }
        #expect(deltas.filter { $0.span == 3600 }.count == deltas.filter { $0.span == 60 }.count)
        #expect(deltas.allSatisfy { $0.tenantID == "ten_a" && $0.bucket == ($0.span == 60 ? 1_795_000_020 : 1_794_999_600) })
    }

    @Test("rollup fields taken from event data before it is written equal those decoded from its text, on 3,000 random values")
    func rollupFieldsFromData() throws {
        var rng = SeededRandom(seed: 11)
        let keys = ["purpose", "country", "operator", "key", "channel", "provider", "from", "to", "enforced", "undeliverable", "latency_ms"]
        let types = Array(Rollups.countedTypes).sorted()
        var records: [AuditRecord] = []
        var known: [String: Rollups.Fields] = [:]
        for index in 0..<3000 {
            var data = Self.randomObject(&rng)
            for key in keys where Bool.random(using: &rng) {
                // The right kind most of the time, any kind otherwise (which reads as absent).
                data[key] = Int.random(in: 0..<3, using: &rng) > 0
                    ? (key == "latency_ms" ? .number(Self.awkwardNumbers.randomElement(using: &rng)!)
                        : ["enforced", "undeliverable"].contains(key) ? .bool(Bool.random(using: &rng))
                        : .string(Self.awkwardStrings.randomElement(using: &rng)!))
                    : Self.randomValue(&rng)
            }
            let text = try JSONValue.object(data).sortedJSONText()
            let decoded = try JSONDecoder().decode(Rollups.Fields.self, from: Data(text.utf8))
            #expect(Rollups.Fields(data) == decoded, "\(text)")
            let id = "evt_\(index)"
            known[id] = Rollups.Fields(data)
            records.append(AuditRecord(seq: Int64(index + 1), eventID: id, tenantID: "ten_a", verificationID: nil, type: types[index % types.count],
                                       createdAtMillis: 1_795_000_000_000 + Int64(index) * 997, data: text, previousHash: nil, hash: nil))
        }
        let fromData = Rollups.deltas(for: records, known: { known[$0.eventID] })
        #expect(fromData == Rollups.deltas(for: records) && fromData.count > 100, "the same deltas either way")
    }
}

