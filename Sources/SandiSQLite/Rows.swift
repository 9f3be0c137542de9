import Foundation
import SandiCore
public import SandiStorage
public import SQLiteNIO

extension SQLiteRow: StoredRow {
    public func optionalString(_ name: String) -> String? { column(name)?.string }
    public func optionalInt(_ name: String) -> Int? { column(name)?.integer }
}

extension SQLiteData {
    static func ms(_ date: Date) -> SQLiteData { .integer(Int(Timestamp.millis(date))) }
    static func ms(_ date: Date?) -> SQLiteData { date.map { .integer(Int(Timestamp.millis($0))) } ?? .null }
    static func text(_ value: String?) -> SQLiteData { value.map(SQLiteData.text) ?? .null }
    static func flag(_ value: Bool) -> SQLiteData { .integer(value ? 1 : 0) }
}
