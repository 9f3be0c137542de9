import Foundation
import SandiCore
import SQLiteNIO

extension SQLiteRow {
    func string(_ name: String) throws -> String {
        guard let value = column(name)?.string else { throw StoreError.corrupt("column \(name)") }
        return value
    }

    func optionalString(_ name: String) -> String? { column(name)?.string }

    func int(_ name: String) throws -> Int {
        guard let value = column(name)?.integer else { throw StoreError.corrupt("column \(name)") }
        return Int(value)
    }

    func date(_ name: String) throws -> Date { Timestamp.date(millis: Int64(try int(name))) }

    func optionalDate(_ name: String) -> Date? {
        column(name)?.integer.map { Timestamp.date(millis: Int64($0)) }
    }

    func decode<T: RawRepresentable>(_ name: String, as type: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try string(name)) else { throw StoreError.corrupt("column \(name)") }
        return value
    }
}

extension SQLiteData {
    static func ms(_ date: Date) -> SQLiteData { .integer(Int(Timestamp.millis(date))) }
    static func ms(_ date: Date?) -> SQLiteData { date.map { .integer(Int(Timestamp.millis($0))) } ?? .null }
    static func text(_ value: String?) -> SQLiteData { value.map(SQLiteData.text) ?? .null }
}

enum JSONColumn {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

extension SQLiteData {
    static func flag(_ value: Bool) -> SQLiteData { .integer(value ? 1 : 0) }
}
