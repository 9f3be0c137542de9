public import Foundation
public import SandiCore

/// A row as a SQL storage adapter read it: the two primitives every adapter provides, and typed
/// readers built on them. Decoding of domain records from rows is shared (``StoredRecords``), so
/// SQLite and PostgreSQL read the same columns the same way.
public protocol StoredRow {
    /// The text in a column, nil when NULL or absent.
    func optionalString(_ name: String) -> String?
    /// The integer in a column, nil when NULL or absent.
    func optionalInt(_ name: String) -> Int?
}

extension StoredRow {
    /// The text in a column that must hold one.
    public func string(_ name: String) throws -> String {
        guard let value = optionalString(name) else { throw StoreError.corrupt("column \(name)") }
        return value
    }

    /// The integer in a column that must hold one.
    public func int(_ name: String) throws -> Int {
        guard let value = optionalInt(name) else { throw StoreError.corrupt("column \(name)") }
        return value
    }

    /// An instant stored as Unix milliseconds.
    public func date(_ name: String) throws -> Date { Timestamp.date(millis: Int64(try int(name))) }

    /// An instant stored as Unix milliseconds, or nil.
    public func optionalDate(_ name: String) -> Date? { optionalInt(name).map { Timestamp.date(millis: Int64($0)) } }

    /// A value of a string-backed enum.
    public func decode<T: RawRepresentable>(_ name: String, as type: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try string(name)) else { throw StoreError.corrupt("column \(name)") }
        return value
    }

    /// A JSON document stored as text.
    public func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONColumn.decode(type, try string(name))
    }
}

/// JSON documents stored in text columns (sorted keys, so equal values store equal text).
public enum JSONColumn {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// The JSON text of a value.
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The JSON text of an object of JSON values (event data): the same text as the generic
    /// encoder, written directly.
    public static func encode(_ object: [String: JSONValue]) throws -> String {
        try JSONValue.object(object).sortedJSONText()
    }

    /// A value from its JSON text.
    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

extension Array {
    /// The array in consecutive slices of at most `size` elements (multi-row statements stay
    /// under the databases' parameter limits).
    public func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: Swift.max(1, size)).map { self[$0..<Swift.min(count, $0 + size)] }
    }
}
