public import Foundation

extension JSONValue {
    /// Containers nested deeper than this are refused (Foundation's decoder allows 512; no request
    /// of Sandi's API nests more than a few levels, and the parser recurses once per level).
    public static let maxParsingDepth = 128

    /// Parses UTF-8 JSON text into a value, or nil when it is not JSON.
    ///
    /// Accepts what Foundation's `JSONDecoder` accepts for UTF-8 text and decodes to the same value
    /// (a test compares the two on thousands of random texts), about ten times faster on a request
    /// body: a leading byte order mark and the four JSON white-space characters around the value;
    /// one trailing comma after the last element of an array or object (Foundation accepts it too);
    /// the first of duplicated keys; numbers only when a `Double` holds them (neither overflowing
    /// nor underflowing to zero); `\u` escapes with surrogates only as pairs; valid UTF-8 only.
    /// Differences: UTF-16 and UTF-32 text is refused (Foundation guesses those encodings), and
    /// so is nesting deeper than ``maxParsingDepth``.
    public static func parse(_ bytes: some ContiguousBytes) -> JSONValue? {
        bytes.withUnsafeBytes { raw in
            var parser = JSONParser(raw.assumingMemoryBound(to: UInt8.self))
            return try? parser.document()
        }
    }

    /// Parses UTF-8 JSON text that must be an object (see ``parse(_:)``).
    public static func parseObject(_ bytes: some ContiguousBytes) -> [String: JSONValue]? {
        guard case .object(let fields)? = parse(bytes) else { return nil }
        return fields
    }
}

/// A recursive-descent parser over UTF-8 bytes (RFC 8259, with Foundation's leniencies).
private struct JSONParser {
    struct Malformed: Error {}

    private let bytes: UnsafeBufferPointer<UInt8>
    private var at = 0
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private enum Byte {
        static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), slash = UInt8(ascii: "/")
        static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
        static let comma = UInt8(ascii: ","), colon = UInt8(ascii: ":"), minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+")
        static let dot = UInt8(ascii: "."), zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        static let lowerE = UInt8(ascii: "e"), upperE = UInt8(ascii: "E")
    }

    mutating func document() throws(Malformed) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { at = 3 }
        skipSpace()
        let value = try value()
        skipSpace()
        guard at == bytes.count else { throw Malformed() }
        return value
    }

    private var next: UInt8? { at < bytes.count ? bytes[at] : nil }

    private mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x0A, 0x0D, 0x09: at += 1
            default: return
            }
        }
    }

    private mutating func value() throws(Malformed) -> JSONValue {
        guard let byte = next else { throw Malformed() }
        switch byte {
        case Byte.quote: return .string(try string())
        case Byte.openBrace: return .object(try object())
        case Byte.openBracket: return .array(try array())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func literal(_ word: StaticString) throws(Malformed) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - at >= count else { throw Malformed() }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[at + offset] != expected[offset] { throw Malformed() }
        at += count
    }

    /// Past a container's opening byte; true when it closes at once (empty).
    private mutating func opens(closingWith close: UInt8) throws(Malformed) -> Bool {
        depth += 1
        guard depth <= JSONValue.maxParsingDepth else { throw Malformed() }
        at += 1
        skipSpace()
        return closes(close)
    }

    /// Leaves the container if `close` is next.
    private mutating func closes(_ close: UInt8) -> Bool {
        guard next == close else { return false }
        at += 1
        depth -= 1
        return true
    }

    /// After an element: true when the container ends (one trailing comma allowed, as Foundation
    /// allows it), false when a comma brings another element.
    private mutating func ends(_ close: UInt8) throws(Malformed) -> Bool {
        skipSpace()
        if next == Byte.comma {
            at += 1
            skipSpace()
        } else if next != close {
            throw Malformed()
        }
        return closes(close)
    }

    private mutating func object() throws(Malformed) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        if try opens(closingWith: Byte.closeBrace) { return fields }
        repeat {
            guard next == Byte.quote else { throw Malformed() }
            let key = try string()
            skipSpace()
            guard next == Byte.colon else { throw Malformed() }
            at += 1
            skipSpace()
            let value = try value()
            // The first of duplicated keys stands, as with Foundation's decoder.
            if fields.index(forKey: key) == nil { fields[key] = value }
        } while try !ends(Byte.closeBrace)
        return fields
    }

    private mutating func array() throws(Malformed) -> [JSONValue] {
        var elements: [JSONValue] = []
        if try opens(closingWith: Byte.closeBracket) { return elements }
        repeat {
            elements.append(try value())
        } while try !ends(Byte.closeBracket)
        return elements
    }

    private mutating func string() throws(Malformed) -> String {
        at += 1
        let start = at
        while at < bytes.count {
            let byte = bytes[at]
            if byte == Byte.quote {
                let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
                at += 1
                guard let text else { throw Malformed() }
                return text
            }
            if byte == Byte.backslash { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw Malformed() }
            at += 1
        }
        throw Malformed()
    }

    /// The rest of a string that has escapes, from its first byte at `start`.
    private mutating func escapedString(from start: Int) throws(Malformed) -> String {
        var text = Array(UnsafeBufferPointer(rebasing: bytes[start..<at]))
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case Byte.quote:
                // Escapes decode to whole UTF-8 sequences, so validating the whole is validating
                // the raw bytes between them.
                guard let decoded = String(validating: text, as: UTF8.self) else { throw Malformed() }
                return decoded
            case Byte.backslash:
                guard let escape = next else { throw Malformed() }
                at += 1
                switch escape {
                case Byte.quote, Byte.backslash, Byte.slash: text.append(escape)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    var value = try hex4()
                    if (0xD800...0xDBFF).contains(value) {
                        guard bytes.count - at >= 2, bytes[at] == Byte.backslash, bytes[at + 1] == UInt8(ascii: "u") else { throw Malformed() }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Malformed() }
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(value) {
                        throw Malformed()
                    }
                    guard let scalar = Unicode.Scalar(value) else { throw Malformed() }
                    text.append(contentsOf: UTF8.encode(scalar)!)
                default:
                    throw Malformed()
                }
            default:
                guard byte >= 0x20 else { throw Malformed() }
                text.append(byte)
            }
        }
        throw Malformed()
    }

    private mutating func hex4() throws(Malformed) -> UInt32 {
        guard bytes.count - at >= 4 else { throw Malformed() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[at]
            let digit: UInt8
            switch byte {
            case Byte.zero...Byte.nine: digit = byte - Byte.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Malformed()
            }
            value = value << 4 | UInt32(digit)
            at += 1
        }
        return value
    }

    private func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= Byte.zero && byte <= Byte.nine
    }

    private mutating func number() throws(Malformed) -> Double {
        let start = at
        let negative = next == Byte.minus
        if negative { at += 1 }
        var integer: Int = 0
        var digits = 0
        var nonzero = false
        if next == Byte.zero {
            at += 1
            digits = 1
        } else {
            guard isDigit(next) else { throw Malformed() }
            while let byte = next, isDigit(byte) {
                if digits < 18 { integer = integer * 10 + Int(byte - Byte.zero) }
                digits += 1
                nonzero = true
                at += 1
            }
        }
        var plain = true
        if next == Byte.dot {
            plain = false
            at += 1
            guard isDigit(next) else { throw Malformed() }
            while let byte = next, isDigit(byte) {
                if byte != Byte.zero { nonzero = true }
                at += 1
            }
        }
        if next == Byte.lowerE || next == Byte.upperE {
            plain = false
            at += 1
            if next == Byte.plus || next == Byte.minus { at += 1 }
            guard isDigit(next) else { throw Malformed() }
            while isDigit(next) { at += 1 }
        }
        if plain, digits <= 15 {
            // Exact in a Double: no text to convert.
            return negative ? -Double(integer) : Double(integer)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        // Like Foundation's decoder, a number a Double cannot hold is refused: too large, or so
        // small that it would read as zero.
        guard let value = Double(text), value.isFinite, value != 0 || !nonzero else { throw Malformed() }
        return value
    }
}
