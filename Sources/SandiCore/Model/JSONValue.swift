import Foundation

/// A JSON value, for event data and for reading request bodies field by field.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Each miss below throws (the Decoder API cannot tell a value's kind), so the most common
        // kinds are tried first: strings, then numbers, then objects.
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else {
            self = .array(try container.decode([JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if let integer = Self.integral(value) { try container.encode(integer) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// A number written as an integer (no fraction) in JSON text: integral and exactly representable.
    static func integral(_ number: Double) -> Int64? {
        number == number.rounded() && abs(number) < 9e15 ? Int64(number) : nil
    }

    /// The string, if this is one.
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    /// The object, if this is one.
    public var objectValue: [String: JSONValue]? { if case .object(let v) = self { v } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let v) = self { v } else { nil } }
    public var intValue: Int? { if case .number(let v) = self, v.rounded() == v, abs(v) < 1e15 { Int(v) } else { nil } }
    /// The number, if this is one.
    public var numberValue: Double? { if case .number(let v) = self { v } else { nil } }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue {
    /// The JSON text of this value, byte for byte as `JSONEncoder` with `.sortedKeys` writes it
    /// (keys in UTF-8 order, `/` escaped, integral numbers without a fraction), written directly
    /// instead of through `Codable`: event data is encoded on every write of the hot paths.
    public func sortedJSONText() throws -> String {
        String(decoding: try sortedJSONBytes(), as: UTF8.self)
    }

    /// The UTF-8 bytes of ``sortedJSONText()``; without `escapingSlashes`, `/` is written as is
    /// (as the encoder's `.withoutEscapingSlashes` does).
    public func sortedJSONBytes(escapingSlashes: Bool = true) throws -> [UInt8] {
        var writer = SortedJSONWriter(escapingSlashes: escapingSlashes)
        try writer.write(self)
        return writer.bytes
    }
}

private struct SortedJSONWriter {
    static let hex = Array("0123456789abcdef".utf8)
    var bytes: [UInt8] = []
    let escapingSlashes: Bool

    init(escapingSlashes: Bool = true) {
        self.escapingSlashes = escapingSlashes
        bytes.reserveCapacity(256)
    }

    mutating func write(_ value: JSONValue) throws {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): try write(number)
        case .string(let text): write(text)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                try write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object): try write(object)
        }
    }

    mutating func write(_ object: [String: JSONValue]) throws {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        func member(_ key: String, _ value: JSONValue) throws {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            write(key)
            bytes.append(UInt8(ascii: ":"))
            try write(value)
        }
        if object.count == 1, let (key, value) = object.first {
            try member(key, value)
        } else {
            for (key, value) in object.sorted(by: { Self.precedes($0.key, $1.key) }) { try member(key, value) }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// UTF-8 order (what the encoder's `.sortedKeys` uses), by `memcmp` when both are contiguous.
    static func precedes(_ a: String, _ b: String) -> Bool {
        let contiguous = a.utf8.withContiguousStorageIfAvailable { a in
            b.utf8.withContiguousStorageIfAvailable { b in
                let common = min(a.count, b.count)
                let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
                return order != 0 ? order < 0 : a.count < b.count
            }
        }
        return (contiguous ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    mutating func write(_ number: Double) throws {
        // As ``JSONValue/encode(to:)``: integral values as integers, others as JSONEncoder writes
        // a Double (rare in event data; its exact formatting is left to the encoder).
        if let integer = JSONValue.integral(number) {
            write(integer: integer)
        } else {
            bytes.append(contentsOf: try JSONEncoder().encode(number))
        }
    }

    /// Decimal digits, without going through a `String`.
    mutating func write(integer: Int64) {
        if integer < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = integer.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// A string, copying runs that need no escape in one go.
    mutating func write(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var run = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (byte == UInt8(ascii: "/") && escapingSlashes)
                else { continue }
                if run < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index])) }
                escape(byte)
                run = index + 1
            }
            if run < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        bytes.append(0x5C)
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(byte)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(Self.hex[Int(byte >> 4)])
            bytes.append(Self.hex[Int(byte & 0xF)])
        }
    }
}
