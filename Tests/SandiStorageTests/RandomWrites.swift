import Foundation
@testable import SandiSQLite
import SQLiteNIO
import SandiCore
import Testing

/// Random upserts and deletes on `t (k TEXT PRIMARY KEY, v BLOB NOT NULL)`, kept in a model of the
/// table, for the tests that drive SQLite's own machinery (page cache, log writes) through a
/// connection. Random keys land all over the table and its indexes; deletes put pages on the free
/// list, so later splits take pages out of order.
struct RandomWrites {
    var random: SeededRandom
    /// Keys are drawn from this many values.
    let keys: UInt64
    /// Values have 40 to 40 + `valueSpread` - 1 bytes.
    let valueSpread: UInt64

    static let schema = ["CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID", "CREATE INDEX t_v ON t (v)"]

    mutating func value() -> [UInt8] {
        (0..<(40 + Int(random.next() % valueSpread))).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// Runs `upserts` random upserts and then up to `maxDeletes - 1` random deletes on `handle`,
    /// and makes the same changes to `table`.
    mutating func write(_ handle: SQLiteHandle, _ table: inout [String: [UInt8]], upserts: Int, maxDeletes: UInt64) throws {
        for _ in 0..<upserts {
            let key = String(random.next() % keys, radix: 16)
            let bytes = value()
            _ = try handle.execute("INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                                   [.text(key), .blob(ByteBuffer(bytes: bytes))])
            table[key] = bytes
        }
        for key in table.keys.shuffled(using: &random).prefix(Int(random.next() % maxDeletes)) {
            _ = try handle.execute("DELETE FROM t WHERE k = ?", [.text(key)])
            table[key] = nil
        }
    }

    /// The table's rows by key.
    static func rows(_ handle: SQLiteHandle) throws -> [String: [UInt8]] {
        var found: [String: [UInt8]] = [:]
        for row in try handle.execute("SELECT k, v FROM t", []) {
            guard let key = row.optionalString("k"), case .blob(let buffer)? = row.column("v") else { Issue.record("malformed row"); continue }
            found[key] = Array(buffer.readableBytesView)
        }
        return found
    }

    static func integrity(_ handle: SQLiteHandle) throws -> String? {
        try handle.execute("PRAGMA integrity_check", []).first?.optionalString("integrity_check")
    }
}
