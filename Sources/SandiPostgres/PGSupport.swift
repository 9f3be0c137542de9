import Foundation
import Logging
import PostgresNIO
import SandiCore
import SandiStorage

/// A value bound to a statement parameter (`$1`, `$2`, …), typed even when NULL so PostgreSQL
/// never has to guess.
enum PGValue: Sendable {
    case text(String?)
    case int(Int?)
    case bytes([UInt8]?)
    case bool(Bool)
    case texts([String])
    case ints([Int])
    case doubles([Double])

    /// An instant as Unix milliseconds (the schema's time columns are BIGINT milliseconds).
    static func ms(_ date: Date) -> PGValue { .int(Int(Timestamp.millis(date))) }
    static func ms(_ date: Date?) -> PGValue { .int(date.map { Int(Timestamp.millis($0)) }) }

    static func bindings(_ values: [PGValue]) -> PostgresBindings {
        var b = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let v?): b.append(v)
            case .text(nil): b.append(PostgresData(type: .text, value: nil))
            case .int(let v?): b.append(v)
            case .int(nil): b.append(PostgresData(type: .int8, value: nil))
            case .bytes(let v?): b.append(ByteBuffer(bytes: v))
            case .bytes(nil): b.append(PostgresData(type: .bytea, value: nil))
            case .bool(let v): b.append(v)
            case .texts(let v): b.append(v)
            case .ints(let v): b.append(v)
            case .doubles(let v): b.append(v)
            }
        }
        return b
    }
}

/// A row read from PostgreSQL, readable by the shared record decoders.
struct PGRow: StoredRow, Sendable {
    let row: PostgresRandomAccessRow

    func optionalString(_ name: String) -> String? {
        guard row.contains(name) else { return nil }
        return try? row[name].decode(String?.self)
    }

    func optionalInt(_ name: String) -> Int? {
        guard row.contains(name) else { return nil }
        return try? row[name].decode(Int?.self)
    }

    func optionalDouble(_ name: String) -> Double? {
        guard row.contains(name) else { return nil }
        return try? row[name].decode(Double?.self)
    }

    func optionalBytes(_ name: String) -> [UInt8]? {
        guard row.contains(name), let buffer = try? row[name].decode(ByteBuffer?.self) else { return nil }
        return Array(buffer: buffer)
    }
}

/// Runs statements on one leased connection (inside a transaction when the store opened one).
struct PGTx: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs one statement and collects its rows.
    @discardableResult
    func query(_ sql: String, _ binds: [PGValue] = []) async throws -> [PGRow] {
        let sequence = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: PGValue.bindings(binds)), logger: logger)
        var rows: [PGRow] = []
        for try await row in sequence { rows.append(PGRow(row: row.makeRandomAccess())) }
        return rows
    }

    /// `$first, $first+1, …` for `count` parameters.
    static func marks(from first: Int, count: Int) -> String {
        (first..<(first + count)).map { "$\($0)" }.joined(separator: ",")
    }
}

extension PSQLError {
    /// The SQLSTATE the server answered with, if it answered.
    var sqlState: String? { serverInfo?[.sqlState] }
}
