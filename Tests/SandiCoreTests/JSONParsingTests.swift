import Foundation
import SandiCore
import Testing

/// `JSONValue.parse` against Foundation's `JSONDecoder` on random texts: valid JSON with every
/// awkward feature (escapes, surrogates, numbers at Double's edges, white space, trailing commas)
/// and broken texts (mutated bytes, invalid UTF-8, bad escapes and numbers); repeated keys and the
/// nesting limit one by one.
@Suite("JSON parsing")
struct JSONParsingTests {
    /// Bitwise equality (so -0.0 and 0.0 differ).
    static func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (.null?, .null?): return true
        case (.bool(let x)?, .bool(let y)?): return x == y
        case (.number(let x)?, .number(let y)?): return x.bitPattern == y.bitPattern
        case (.string(let x)?, .string(let y)?): return Array(x.utf8) == Array(y.utf8)
        case (.array(let x)?, .array(let y)?): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x)?, .object(let y)?): return x.count == y.count && x.allSatisfy { same($0.value, y[$0.key]) }
        default: return false
        }
    }

    struct Generator {
        var rng: SeededRandom

        mutating func pick<T>(_ options: [T]) -> T { options.randomElement(using: &rng)! }
        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        mutating func count(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

        mutating func space() -> [UInt8] {
            if chance(0.7) { return [] }
            // Form feed and no-break space are not JSON white space.
            return Array((chance(0.98) ? pick([" ", "\t", "\n", "\r", "  \n\t", "\r\n"]) : pick(["\u{0C}", "\u{A0}"])).utf8)
        }

        mutating func digits(_ range: ClosedRange<Int>) -> [UInt8] {
            (0..<count(range)).map { _ in UInt8(ascii: "0") + UInt8(Int.random(in: 0...9, using: &rng)) }
        }

        mutating func number() -> [UInt8] {
            var text: [UInt8] = chance(0.3) ? [UInt8(ascii: "-")] : chance(0.02) ? [UInt8(ascii: "+")] : []
            switch count(0...9) {
            case 0: text += [UInt8(ascii: "0")]
            case 1: text += [UInt8(ascii: "0")] + digits(1...3)                 // leading zero
            case 2: text += []                                                 // no digits
            default: text += [UInt8(ascii: "1") + UInt8(count(0...8))] + digits(0...(chance(0.2) ? 30 : 8))
            }
            if chance(0.35) { text += [UInt8(ascii: ".")] + digits(chance(0.05) ? 0...0 : 1...(chance(0.2) ? 40 : 6)) }
            if chance(0.3) {
                text += Array(pick(["e", "E", "e+", "e-", "E-"]).utf8)
                text += chance(0.05) ? [] : Array(String(pick([count(0...20), count(280...330), count(300...420)])).utf8)
            }
            return text
        }

        mutating func stringBody() -> [UInt8] {
            var text: [UInt8] = []
            for _ in 0..<count(0...6) {
                switch count(0...14) {
                case 0...3: text += Array(pick(["a", "plain text", "+62812", "é", "中文", "😀", "\u{7F}", "\u{2028}", "ÆØÅ"]).utf8)
                case 4: text += Array(pick(["\\n", "\\t", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r"]).utf8)
                case 5, 6: text += Array(String(format: "\\u%04x", count(0...0xFFFF)).utf8)
                case 7: text += Array(String(format: "\\u%04X\\u%04x", count(0xD800...0xDBFF), count(0xDC00...0xDFFF)).utf8)
                case 8: text += Array(String(format: "\\u%04x", pick([count(0xD800...0xDFFF), 0, 0x1F, 0x80, 0x7FF, 0x800, 0xFFFF, 0xFEFF])).utf8)
                case 9: text += Array(String(format: "\\u%04x\\u%04x", count(0xD800...0xDBFF), count(0...0xFFFF)).utf8)
                case 10: text += Array(pick(["\\x", "\\u12", "\\uZZZZ", "\\U0041", "\\", "\\u00e"]).utf8)
                case 11: text += [UInt8(count(0...0x1F))]                      // raw control character
                case 12: text += pick([[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]])
                default: text += Array("\u{00E9}\u{0301}".utf8)
                }
            }
            return text
        }

        mutating func string() -> [UInt8] {
            [UInt8(ascii: "\"")] + stringBody() + (chance(0.02) ? [] : [UInt8(ascii: "\"")])
        }

        /// A key distinct from the object's others: Foundation never decodes the value of a
        /// repeated key (the first stands), so it lets broken text pass there that the parser
        /// refuses. Repeated keys are compared in ``edges()``.
        mutating func key(_ index: Int) -> [UInt8] {
            let plain = ["a", "b", "code", "to", "", "a\\u0062"]
            if index < plain.count, chance(0.8) { return Array("\"\(plain[index])\"".utf8) }
            return Array("\"\\u004b\(index)".utf8) + stringBody() + (chance(0.02) ? [] : [UInt8(ascii: "\"")])
        }

        mutating func value(depth: Int) -> [UInt8] {
            switch count(0...(depth > 3 ? 5 : 8)) {
            case 0: return Array(pick(["null", "true", "false", "nul", "tru", "falsey", "NaN", "Infinity", "-Infinity", "True"]).utf8)
            case 1, 2: return number()
            case 3, 4, 5: return string()
            case 6: return list(open: "[", close: "]", depth: depth) { generator, _ in generator.value(depth: depth + 1) }
            default: return object(depth: depth)
            }
        }

        mutating func object(depth: Int) -> [UInt8] {
            list(open: "{", close: "}", depth: depth) { generator, index in
                generator.key(index) + generator.space() + (generator.chance(0.02) ? [] : [UInt8(ascii: ":")]) + generator.space() + generator.value(depth: depth + 1)
            }
        }

        mutating func list(open: Character, close: Character, depth: Int, _ element: (inout Generator, Int) -> [UInt8]) -> [UInt8] {
            var text = [open.asciiValue!] + space()
            let n = count(0...5)
            for index in 0..<n {
                text += element(&self, index) + space()
                if index < n - 1 { text += chance(0.02) ? [] : chance(0.02) ? Array(",,".utf8) : [UInt8(ascii: ",")] }
                text += space()
            }
            if chance(0.1) { text += [UInt8(ascii: ",")] + space() }          // trailing comma
            if chance(0.98) { text.append(close.asciiValue!) }
            return text
        }

        mutating func document() -> [UInt8] {
            var text = (chance(0.03) ? [0xEF, 0xBB, 0xBF] : []) + space() + (chance(0.85) ? object(depth: 0) : value(depth: 0)) + space()
            if chance(0.03) { text += Array(pick(["x", "}", "{}", "\u{0}"]).utf8) }
            if chance(0.25), !text.isEmpty {
                // Mutations (never in the first four bytes, where Foundation guesses UTF-16 or UTF-32).
                let at = count(0...(text.count - 1))
                if at >= 4 {
                    let byte = pick([UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: "1"), 0x00, 0xFF, 0x80, UInt8(ascii: " ")])
                    switch count(0...2) {
                    case 0: text.remove(at: at)
                    case 1: text.insert(byte, at: at)
                    default: text[at] = byte
                    }
                }
            }
            return text
        }
    }

    static func foundation(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    @Test("the parser agrees with Foundation's decoder on 20,000 random texts, valid and broken")
    func agreesWithFoundation() async {
        var generator = Generator(rng: SeededRandom(seed: 20_261_203))
        var accepted = 0, refused = 0, disagreements = 0
        for round in 0..<20_000 {
            // Seconds of work: let the process's other suites have the cooperative threads too.
            if round % 500 == 0 { await Task.yield() }
            let text = generator.document()
            let expected = Self.foundation(text)
            let parsed = JSONValue.parse(text)
            if expected == nil { refused += 1 } else { accepted += 1 }
            if !Self.same(parsed, expected) {
                disagreements += 1
                if disagreements <= 10 {
                    Issue.record("\(String(decoding: text, as: UTF8.self).debugDescription) \(text): parser \(String(describing: parsed)), Foundation \(String(describing: expected))")
                }
            }
            // The object entry point is what request bodies use.
            let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(text))
            #expect(Self.same(JSONValue.parseObject(text).map(JSONValue.object), object.map(JSONValue.object)))
        }
        #expect(disagreements == 0)
        // Both kinds are well represented, so neither side of the comparison is vacuous.
        #expect(accepted > 3_000 && refused > 3_000, "accepted \(accepted), refused \(refused)")
    }

    @Test("Foundation's leniencies and limits, one by one")
    func edges() {
        let cases: [(String, JSONValue?)] = [
            (#"{"a":1,"a":2}"#, .object(["a": 1])),                          // the first key stands
            (#"{"a":null,"\u0061":[1]}"#, .object(["a": .null])),
            (#"{"a":[1,2,],}"#, .object(["a": .array([1, 2])])),              // one trailing comma
            (#"{"a":[1,,2]}"#, nil), (#"{,}"#, nil), (#"[,]"#, nil),
            (#"{"a":1e400}"#, nil), (#"{"a":1e-400}"#, nil), (#"{"a":0e-400}"#, .object(["a": 0])),
            (#"{"a":5e-324}"#, .object(["a": .number(.leastNonzeroMagnitude)])),
            (#"{"a":-0}"#, .object(["a": .number(-0.0)])),
            (#"{"a":12345678901234567890123}"#, .object(["a": .number(Double("12345678901234567890123")!)])),
            (#"{"a":01}"#, nil), (#"{"a":1.}"#, nil), (#"{"a":.5}"#, nil), (#"{"a":+1}"#, nil),
            (#"{"a":"\ud83d\ude00\u00e9"}"#, .object(["a": "😀é"])),
            (#"{"a":"\ud800"}"#, nil), (#"{"a":"\udc00"}"#, nil), (#"{"a":"\ud83dx"}"#, nil),
            ("{\"a\":\"\u{1}\"}", nil), ("\u{FEFF}{\"a\":null}", .object(["a": .null])),
            ("\t{\"a\":true}\r\n", .object(["a": true])), ("{\"a\"\u{0C}:1}", nil), (#"{"a":1} x"#, nil),
            ("", nil), ("   ", nil), ("\"text\"", "text"), ("[]", .array([])),
        ]
        for (text, expected) in cases {
            let bytes = Array(text.utf8)
            #expect(Self.same(JSONValue.parse(bytes), expected), "\(text.debugDescription)")
            #expect(Self.same(JSONValue.parse(bytes), Self.foundation(bytes)), "Foundation differs on \(text.debugDescription)")
        }
        let limit = JSONValue.maxParsingDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(JSONValue.parse(Array(deepest.utf8)) != nil)
        #expect(JSONValue.parse(Array(("[" + deepest + "]").utf8)) == nil)
        #expect(JSONValue.parse(Array((String(repeating: "{\"a\":", count: limit + 1) + "1" + String(repeating: "}", count: limit + 1)).utf8)) == nil)
        // Deep input far past the limit is refused without exhausting the stack.
        #expect(JSONValue.parse(Array(String(repeating: "[", count: 100_000).utf8)) == nil)
    }
}
