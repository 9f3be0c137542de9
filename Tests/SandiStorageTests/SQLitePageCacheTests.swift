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
        for statement in ["PRAGMA journal_mode = WAL", "PRAGMA cache_size = -16384"] + RandomWrites.schema {
            _ = try handle.execute(statement, [])
        }
        var writes = RandomWrites(random: SeededRandom(seed: 20_261_203), keys: 1_000_000, valueSpread: 160)
        var model: [String: [UInt8]] = [:]
        let before = SQLiteHandle.pageCacheTruncations()
        func verify() throws {
            #expect(try RandomWrites.rows(handle) == model)
            #expect(try RandomWrites.integrity(handle) == "ok")
        }
        for round in 0..<240 {
            // A second of work: let the process's other suites have the cooperative threads too.
            await Task.yield()
            _ = try handle.execute("BEGIN IMMEDIATE", [])
            var written = model
            try writes.write(handle, &written, upserts: 10 + Int(writes.random.next() % 30), maxDeletes: 25)
            if round % 9 == 4 {
                // Growth that is rolled back: the file's pages past the old size leave the cache.
                for index in 0..<60 {
                    _ = try handle.execute("INSERT INTO t (k, v) VALUES (?, ?)", [.text("zz-\(round)-\(index)"), .blob(ByteBuffer(bytes: writes.value()))])
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
