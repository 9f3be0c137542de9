import Foundation
@testable import SandiSQLite
import SQLiteNIO
import Testing

/// The writer keeps its prepared statements, but not those with many parameters: multi-row
/// inserts whose row count varies (audit sealing writes up to a thousand links at a time) would
/// each add a large statement per row count, holding its program and its last bound values.
@Suite("SQLite statement cache")
struct SQLiteStatementCacheTests {
    @Test("multi-row inserts of every row count run right without filling the statement cache; small statements are kept")
    func largeStatementsNotKept() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let handle = try SQLiteHandle(path: temp.path)
        _ = try handle.execute("CREATE TABLE t (a INTEGER, b TEXT, c TEXT)", [])
        _ = try handle.execute("SELECT COUNT(*) AS n FROM t", [])
        let before = handle.cachedStatements
        let hash = String(repeating: "9f", count: 32)
        for rows in 1...300 {
            let sql = "INSERT INTO t (a, b, c) VALUES " + Array(repeating: "(?,?,?)", count: rows).joined(separator: ",")
            _ = try handle.execute(sql, (0..<rows).flatMap { [SQLiteData.integer($0), .text(hash), .text("\(rows)")] })
        }
        let after = handle.cachedStatements
        // Up to 42 rows (126 parameters) the statement is kept: one per row count.
        #expect(after.count == before.count + SQLiteHandle.keptParameterLimit / 3)
        // The kept ones hold their programs and bound values: 450 KiB here, about 510 bytes a row.
        // The 258 larger ones, kept, would hold some 22 MiB.
        #expect(after.bytes - before.bytes < 1 << 20, "\(after.bytes - before.bytes) bytes held by cached statements")
        #expect(try handle.execute("SELECT COUNT(*) AS n FROM t", []).first?.optionalInt("n") == 300 * 301 / 2)
        #expect(try handle.execute("SELECT SUM(a) AS s FROM t WHERE c = ?", [.text("300")]).first?.optionalInt("s") == 299 * 300 / 2)
        // A large statement that fails is finalized too, and the connection goes on.
        let kept = handle.cachedStatements.count
        let broken = "INSERT INTO missing (a) VALUES " + Array(repeating: "(?)", count: 200).joined(separator: ",")
        #expect(throws: SQLiteFailure.self) { try handle.execute(broken, (0..<200).map { SQLiteData.integer($0) }) }
        #expect(try handle.execute("SELECT COUNT(*) AS n FROM t", []).first?.optionalInt("n") == 300 * 301 / 2)
        #expect(handle.cachedStatements.count == kept)
    }
}
