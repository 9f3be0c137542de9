import Foundation
@testable import SandiSQLite
import SQLiteNIO
import SandiCore
import Testing

/// Sandi's VFS (`Sources/CSandiSQLite/WALWrites.c`) writes a new log frame's header and page in
/// one write. What it must never do is keep back anything SQLite considers written once a commit
/// returns: after every commit, a copy of the database and its log (taken while the connection is
/// open, as a power cut would leave them) must recover to exactly what was committed. The copies
/// are opened with SQLite's own VFS, which rebuilds the log's index from the frames' headers and
/// checksums and stops at the first frame that does not check out.
@Suite("SQLite log writes")
struct SQLiteWALWritesTests {
    @Test("each committed frame is in the log, header and page, before the commit returns: copies taken after commits recover exactly what was committed",
          arguments: [false, true])
    func commitsSurviveACopy(smallCache: Bool) async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        #expect(SQLiteHandle.walVFS == "sandi")
        let writer = try SQLiteHandle(path: temp.path)
        let reader = try SQLiteHandle(path: temp.path)
        // A small cache makes large transactions spill pages to the log before they commit and
        // write them again at the commit: SQLite then rewrites earlier frames' headers in place.
        for statement in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA wal_autocheckpoint = 0",
                          smallCache ? "PRAGMA cache_size = 12" : "PRAGMA cache_size = -16384"] + RandomWrites.schema {
            _ = try writer.execute(statement, [])
        }
        let before = SQLiteHandle.walWrites()
        var writes = RandomWrites(random: SeededRandom(seed: smallCache ? 2 : 1), keys: 100_000, valueSpread: 200)
        var model: [String: [UInt8]] = [:]
        let snapshots = FileManager.default.temporaryDirectory.appendingPathComponent("sandi-wal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: snapshots, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: snapshots) }

        for round in 0..<90 {
            // Seconds of work in all: let the process's other suites have the cooperative threads too.
            await Task.yield()
            _ = try writer.execute("BEGIN IMMEDIATE", [])
            var written = model
            let size = smallCache && round % 3 == 0 ? 200 : 5 + Int(writes.random.next() % 40)
            try writes.write(writer, &written, upserts: size, maxDeletes: 20)
            if round % 11 == 5 {
                _ = try writer.execute("ROLLBACK", [])
            } else {
                _ = try writer.execute("COMMIT", [])
                model = written
            }
            // Another connection sees the commit at once.
            #expect(try RandomWrites.rows(reader).count == model.count)
            if round % 15 == 14 {
                // What a power cut right after this commit would leave: the files as they are.
                let copy = snapshots.appendingPathComponent("copy-\(round).sqlite").path
                try FileManager.default.copyItem(atPath: temp.path, toPath: copy)
                try FileManager.default.copyItem(atPath: temp.path + "-wal", toPath: copy + "-wal")
                let recovered = try SQLiteHandle(path: copy, vfs: nil)
                #expect(try RandomWrites.rows(recovered) == model, "round \(round): the copy recovers every commit")
                #expect(try RandomWrites.integrity(recovered) == "ok")
            }
        }
        #expect(try RandomWrites.rows(writer) == model)
        #expect(try RandomWrites.integrity(writer) == "ok")
        let after = SQLiteHandle.walWrites()
        #expect(after.merged - before.merged > 1_000, "frames went out as one write each")
        // A held header is always followed at once by its frame's page: none had to go out alone.
        #expect(after.alone == before.alone, "no held header was written on its own")
        if smallCache {
            #expect(after.direct > before.direct, "SQLite rewrote headers in place, and they were written as they came")
        }
        // Restarting the log after a checkpoint: new frames overwrite old ones from the start.
        _ = try writer.execute("PRAGMA wal_checkpoint(RESTART)", [])
        _ = try writer.execute("INSERT INTO t (k, v) VALUES ('after-restart', x'01')", [])
        model["after-restart"] = [1]
        let copy = snapshots.appendingPathComponent("copy-restart.sqlite").path
        try FileManager.default.copyItem(atPath: temp.path, toPath: copy)
        try FileManager.default.copyItem(atPath: temp.path + "-wal", toPath: copy + "-wal")
        #expect(try RandomWrites.rows(SQLiteHandle(path: copy, vfs: nil)) == model)
    }

    @Test("connections through SQLite's own VFS and through Sandi's share one database: each sees the other's commits")
    func mixedConnections() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let ours = try SQLiteHandle(path: temp.path)
        let plain = try SQLiteHandle(path: temp.path, vfs: nil)
        for pragma in ["PRAGMA journal_mode = WAL", "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"] {
            _ = try ours.execute(pragma, [])
        }
        var model: [String: [UInt8]] = [:]
        for index in 0..<200 {
            if index % 20 == 0 { await Task.yield() }
            let handle = index % 2 == 0 ? ours : plain
            let key = "k\(index % 70)"
            let bytes = [UInt8](repeating: UInt8(index % 256), count: 100 + index)
            _ = try handle.execute("INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                                   [.text(key), .blob(ByteBuffer(bytes: bytes))])
            model[key] = bytes
            #expect(try RandomWrites.rows(index % 2 == 0 ? plain : ours) == model)
        }
        _ = try plain.execute("PRAGMA wal_checkpoint(TRUNCATE)", [])
        _ = try ours.execute("INSERT INTO t (k, v) VALUES ('last', x'02')", [])
        model["last"] = [2]
        #expect(try RandomWrites.rows(plain) == model)
        #expect(try RandomWrites.integrity(plain) == "ok")
    }
}
