public import Foundation
public import Hummingbird
import NIOCore
public import SandiCore

/// Shared JSON coders.
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
}

/// A request body read as a JSON object, with typed, validated access to its fields. Problems are
/// collected per field and thrown together as 422; a body that is not a JSON object is 400.
public struct JSONBody: Sendable {
    public let fields: [String: JSONValue]
    /// The raw bytes (for idempotency hashes).
    public let raw: [UInt8]
    public private(set) var errors: [FieldError] = []

    public init(fields: [String: JSONValue], raw: [UInt8]) {
        self.fields = fields
        self.raw = raw
    }

    /// Reads and parses the body (at most ``HTTPLimits/maxBody`` bytes). An empty body is `{}` when
    /// `emptyIsObject`, else 400.
    /// Reads the raw body, refusing more than ``HTTPLimits/maxBody`` bytes with 413.
    public static func readRaw(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > HTTPLimits.maxBody {
            throw NIOTooManyBytesError(maxBytes: HTTPLimits.maxBody)
        }
        return Array(buffer: try await request.body.collect(upTo: HTTPLimits.maxBody))
    }

    /// Parses raw bytes as a JSON object (400 when they are not one).
    public static func parse(_ bytes: [UInt8], emptyIsObject: Bool = false) throws -> JSONBody {
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) {
            guard emptyIsObject else { throw APIProblem.invalid("the body must be a JSON object", status: .badRequest) }
            return JSONBody(fields: [:], raw: bytes)
        }
        guard let fields = JSONValue.parseObject(bytes) else {
            throw APIProblem.invalid("the body must be a JSON object", status: .badRequest)
        }
        return JSONBody(fields: fields, raw: bytes)
    }

    /// A string field; nil when absent or null. Records an error for a wrong type or length.
    public mutating func string(_ name: String, required: Bool = false, maxLength: Int = 256, pattern: ((String) -> Bool)? = nil, reason: String? = nil) -> String? {
        switch fields[name] {
        case nil, .null?:
            if required { errors.append(FieldError(field: name, reason: "required")) }
            return nil
        case .string(let value)?:
            guard !value.isEmpty, value.utf8.count <= maxLength else {
                errors.append(FieldError(field: name, reason: value.isEmpty ? "must not be empty" : "longer than \(maxLength) bytes"))
                return nil
            }
            if let pattern, !pattern(value) {
                errors.append(FieldError(field: name, reason: reason ?? "invalid format"))
                return nil
            }
            return value
        default:
            errors.append(FieldError(field: name, reason: "must be a string"))
            return nil
        }
    }

    /// An object field; nil when absent or null.
    public mutating func object(_ name: String) -> [String: JSONValue]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        default:
            errors.append(FieldError(field: name, reason: "must be an object"))
            return nil
        }
    }

    /// An integer field within a range.
    public mutating func int(_ name: String, in range: ClosedRange<Int>) -> Int? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let value)? where value == value.rounded() && value >= Double(range.lowerBound) && value <= Double(range.upperBound):
            return Int(value)
        default:
            errors.append(FieldError(field: name, reason: "must be an integer in \(range.lowerBound)…\(range.upperBound)"))
            return nil
        }
    }

    /// A number field within a range.
    public mutating func double(_ name: String, in range: ClosedRange<Double>) -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let value)? where range.contains(value): return value
        default:
            errors.append(FieldError(field: name, reason: "must be a number in \(range.lowerBound)…\(range.upperBound)"))
            return nil
        }
    }

    /// A boolean field.
    public mutating func bool(_ name: String) -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default:
            errors.append(FieldError(field: name, reason: "must be true or false"))
            return nil
        }
    }

    /// Records an error found by the caller.
    public mutating func fail(_ field: String, _ reason: String) {
        errors.append(FieldError(field: field, reason: reason))
    }

    /// Throws the collected field errors as 422, with the specific code of the first bad field
    /// that has one (`to` → invalid_phone_number, `purpose` → unsupported_purpose).
    public func validate() throws {
        guard !errors.isEmpty else { return }
        let fields = Set(errors.map(\.field))
        let detail = errors.map { "\($0.field): \($0.reason)" }.joined(separator: "; ")
        if fields.contains("to") {
            throw APIProblem(status: .unprocessableContent, code: "invalid_phone_number", title: "Invalid phone number", detail: detail, errors: errors)
        }
        if fields.contains("purpose") {
            throw APIProblem(status: .unprocessableContent, code: "unsupported_purpose", title: "Unsupported purpose", detail: detail, errors: errors)
        }
        throw APIProblem.invalid(detail, errors: errors)
    }
}

/// Input shapes shared by the controllers.
enum InputRules {
    static func isCountry(_ s: String) -> Bool {
        s.utf8.count == 2 && s.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }
    }

    static func isLocale(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false).flatMap { $0.split(separator: "_", omittingEmptySubsequences: false) }
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy(\.isLetter), first.allSatisfy(\.isASCII) else { return false }
        return parts.dropFirst().allSatisfy { (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    static func isPrintable(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }

    static func isIP(_ s: String) -> Bool {
        (try? SocketAddress(ipAddress: s, port: 0)) != nil
    }

    static func isAppHash(_ s: String) -> Bool {
        s.utf8.count == 11 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 43 || $0 == 47 }
    }
}
