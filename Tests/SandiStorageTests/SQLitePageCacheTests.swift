import Foundation
@testable import SandiSQLite
import SQLiteNIO
import SandiCore
import Testing

/// Sandi's wrapper around SQLite's page cache (`Sources/CSandiSQLite/PageCache.c`) answers a
/// truncation itself only when no cached page can lie past the limit. These tests drive one
/// connection through commits that split index pages out of order (random keys, deletes feeding
/// the free list) and rollbacks that shrink the file back, against a model of the table.
@Suite("SQLite page cache")
struct SQLitePageCacheTests {
    @Test("commits that split pages out of order skip the walk; rolled-back growth is dropped; the data stays right")
    func truncations() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let handle = try SQLiteHandle(path: temp.path)
        #expect(SQLiteHandle.pageCacheInstalled == 0, "the wrapper is installed before the first connection")
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA cache_size = -16384",
                       "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID", "CREATE INDEX t_v ON t (v)"] {
            _ = try handle.execute(pragma, [])
        }
        var random = SeededRandom(seed: 20_261_203)
        var model: [String: [UInt8]] = [:]
        let before = SQLiteHandle.pageCacheTruncations()
        func value() -> [UInt8] { (0..<(40 + Int(random.next() % 160))).map { _ in UInt8.random(in: 0...255, using: &random) } }
        func verify() throws {
            let rows = try handle.execute("SELECT k, v FROM t ORDER BY k", [])
            var found: [String: [UInt8]] = [:]
            for row in rows {
                guard let key = row.optionalString("k"), case .blob(let buffer)? = row.column("v") else { Issue.record("malformed row"); continue }
                found[key] = Array(buffer.readableBytesView)
            }
            #expect(found == model)
            let check = try handle.execute("PRAGMA integrity_check", [])
            #expect(check.first?.optionalString("integrity_check") == "ok")
        }
        for round in 0..<240 {
            // A second of work: let the process's other suites have the cooperative threads too.
            await Task.yield()
            _ = try handle.execute("BEGIN IMMEDIATE", [])
            var written = model
            // Random keys land all over both indexes; deletes put pages on the free list, so
            // later splits take pages out of order.
            for _ in 0..<(10 + Int(random.next() % 30)) {
                let key = String(random.next() % 1_000_000, radix: 16)
                let bytes = value()
                _ = try handle.execute("INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                                       [.text(key), .blob(ByteBuffer(bytes: bytes))])
                written[key] = bytes
            }
            for key in written.keys.shuffled(using: &random).prefix(Int(random.next() % 25)) {
                _ = try handle.execute("DELETE FROM t WHERE k = ?", [.text(key)])
                written[key] = nil
            }
            if round % 9 == 4 {
                // Growth that is rolled back: the file's pages past the old size leave the cache.
                for index in 0..<60 {
                    _ = try handle.execute("INSERT INTO t (k, v) VALUES (?, ?)", [.text("zz-\(round)-\(index)"), .blob(ByteBuffer(bytes: value()))])
                }
                _ = try handle.execute("ROLLBACK", [])
            } else {
                _ = try handle.execute("COMMIT", [])
                model = written
            }
            if round % 40 == 39 { try verify() }
        }
        try verify()
        let after = SQLiteHandle.pageCacheTruncations()
        #expect(after.spared > before.spared, "commits after out-of-order splits skip the walk")
        #expect(after.passed > before.passed, "rollbacks that grew the file pass the truncation on")
    }
}
