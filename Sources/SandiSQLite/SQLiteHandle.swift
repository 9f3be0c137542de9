import Foundation
import Logging
import NIOCore
import NIOPosix
import SandiStorage
import SQLiteNIO
import Synchronization
import VaporCSQLite
import CSandiSQLite

/// One connection to the SQLite library that sqlite-nio builds (the same copy of it, so every
/// connection of the process shares its file locks), with a cache of prepared statements.
///
/// Why not sqlite-nio's `SQLiteConnection` itself: it prepares every statement anew and makes two
/// thread hops per statement (and one more per row). A start is eleven statements; measured on
/// this schema, preparing them costs more than running them. Here a statement is prepared once
/// per connection and the writer runs a whole batch of units in one hop to its thread.
///
/// Not thread-safe: one ``SQLiteWorker`` uses it from its single thread.
final class SQLiteHandle: @unchecked Sendable {
    private var db: OpaquePointer?
    private var statements: [String: Statement] = [:]
    /// Prepared statements kept at most; past it the cache starts over (statements whose text
    /// varies with their input, such as `IN (?,?,…)` lists, would otherwise pile up).
    static let cacheLimit = 512
    /// Bound texts and blobs up to this size stay bound after a run (see ``execute(_:_:)``).
    static let keptBindingBytes = 4096
    /// A run that binds more values than this prepares its statement for that run and finalizes
    /// it after (Sandi binds every parameter of a statement, so this is its parameter count).
    /// Multi-row inserts whose row count varies (audit sealing's links and rollups: up to a
    /// thousand rows, a different text for each count) would otherwise fill the cache with one
    /// large statement per count, each holding its program and its last bound values (about 510
    /// bytes a row): in a benchmark soak the writer's heap arena held 83 MiB after 400,000
    /// requests. Preparing such a statement costs little next to running it, and they run about
    /// once a second.
    static let keptParameterLimit = 128

    private final class Statement {
        let handle: OpaquePointer
        var columns: ColumnNames?
        init(handle: OpaquePointer) { self.handle = handle }
    }

    /// Sandi's wrapper around SQLite's page cache (`Sources/CSandiSQLite/PageCache.c`), installed
    /// once, before the process's first connection: it spares every commit that split a B-tree
    /// page a walk over the whole cache. `SQLITE_OK`, or SQLite's code when it could not be
    /// installed (SQLite already initialised), in which case SQLite's own cache serves unchanged.
    static let pageCacheInstalled: Int32 = sandi_sqlite_install_page_cache()

    /// Cache truncations passed on to SQLite's page cache, those the wrapper answered itself, and
    /// of those the ones where SQLite's cache would have walked all its pages.
    static func pageCacheTruncations() -> (passed: UInt64, skipped: UInt64, spared: UInt64) {
        var passed: UInt64 = 0, skipped: UInt64 = 0, spared: UInt64 = 0
        sandi_sqlite_page_cache_truncations(&passed, &skipped, &spared)
        return (passed, skipped, spared)
    }

    /// Sandi's VFS (`Sources/CSandiSQLite/WALWrites.c`): SQLite's unix VFS, writing each new
    /// log frame's header and page with one system call instead of two. Registered once, after the
    /// page cache (registering initialises SQLite); nil when it could not be, and connections then
    /// open with SQLite's default VFS.
    static let walVFS: String? = {
        _ = pageCacheInstalled
        return sandi_sqlite_register_wal_vfs() == SQLITE_OK ? "sandi" : nil
    }()

    /// Log frames written with their header in one write, held headers written on their own,
    /// and 24-byte log writes passed straight on (not appended).
    static func walWrites() -> (merged: UInt64, alone: UInt64, direct: UInt64) {
        var merged: UInt64 = 0, alone: UInt64 = 0, direct: UInt64 = 0
        sandi_sqlite_wal_writes(&merged, &alone, &direct)
        return (merged, alone, direct)
    }

    /// Opens `path` through `vfs` (SQLite's default when nil).
    init(path: String, vfs: String? = SQLiteHandle.walVFS) throws {
        _ = Self.pageCacheInstalled
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = if let vfs { sqlite_nio_sqlite3_open_v2(path, &handle, flags, vfs) } else { sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil) }
        guard status == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open"
            sqlite_nio_sqlite3_close_v2(handle)
            throw SQLiteFailure(code: status, message: "\(message) (\(path))")
        }
        db = handle
        sqlite_nio_sqlite3_busy_timeout(handle, 5000)
    }

    deinit { close() }

    /// Runs one statement and returns its rows. The statement is prepared once and kept (unless the
    /// run binds more than ``keptParameterLimit`` values).
    func execute(_ sql: String, _ binds: [SQLiteData]) throws -> [DBRow] {
        let kept = binds.count <= Self.keptParameterLimit
        let statement = try kept ? prepared(sql) : prepare(sql)
        let stmt = statement.handle
        defer {
            if kept {
                sqlite_nio_sqlite3_reset(stmt)
                // The bindings stay until the next run binds its own (`sqlite3_clear_bindings`
                // would expire every statement whose plan looked at a bound value, such as a
                // `LIMIT ?`, and SQLite would prepare it again on its next run: 1.7 % of a start's
                // CPU). Large values are let go now rather than kept in the cache.
                for (offset, value) in binds.enumerated() where value.heldBytes > Self.keptBindingBytes {
                    sqlite_nio_sqlite3_bind_null(stmt, Int32(offset + 1))
                }
            } else {
                sqlite_nio_sqlite3_finalize(stmt)
            }
            // After the reset: clearing finalizes this statement too.
            if Self.changesSchema(sql) { clearCache() }
        }
        for (offset, value) in binds.enumerated() {
            try check(bind(value, at: Int32(offset + 1), to: stmt))
        }
        // Parameters this run leaves unbound are NULL, not what an earlier run bound.
        let parameters = Int(sqlite_nio_sqlite3_bind_parameter_count(stmt))
        if binds.count < parameters {
            for index in binds.count..<parameters { try check(sqlite_nio_sqlite3_bind_null(stmt, Int32(index + 1))) }
        }
        var rows: [DBRow] = []
        while true {
            let status = sqlite_nio_sqlite3_step(stmt)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { try check(status); break }
            let count = sqlite_nio_sqlite3_column_count(stmt)
            let columns: ColumnNames
            if let known = statement.columns, known.names.count == Int(count) {
                columns = known
            } else {
                columns = ColumnNames((0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(stmt, $0)) })
                statement.columns = columns
            }
            rows.append(DBRow(columns: columns, values: (0..<count).map { value(stmt, $0) }))
        }
        return rows
    }

    /// Hands the log's growth after each commit to `checkpointer` instead of checkpointing in the
    /// commit (which would stall the writer for a copy and two syncs).
    func checkpoint(with checkpointer: Checkpointer) {
        sqlite_nio_sqlite3_wal_hook(db, { context, db, _, pages in
            guard let context else { return SQLITE_OK }
            Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().logGrew(to: Int(pages), writer: db)
            return SQLITE_OK
        }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// Back to SQLite's own checkpoints in the commit (before the checkpointer goes away).
    func checkpointInCommit() {
        sqlite_nio_sqlite3_wal_hook(db, nil, nil)
        sqlite_nio_sqlite3_wal_autocheckpoint(db, 1000)
    }

    /// How often SQLite prepared the cached statements again since they were cached (it does when
    /// a run's bindings could change the plan it chose, or after a schema change).
    var reprepares: Int {
        statements.values.reduce(0) { $0 + Int(sqlite_nio_sqlite3_stmt_status($1.handle, SQLITE_STMTSTATUS_REPREPARE, 0)) }
    }

    /// Rows the last INSERT, UPDATE or DELETE changed.
    var changes: Int { Int(sqlite_nio_sqlite3_changes(db)) }

    func close() {
        clearCache()
        if let db { sqlite_nio_sqlite3_close_v2(db) }
        db = nil
    }

    /// The cached statement for `sql`, prepared and kept on its first run.
    private func prepared(_ sql: String) throws -> Statement {
        if let statement = statements[sql] { return statement }
        let statement = try prepare(sql, persistent: true)
        if statements.count >= Self.cacheLimit { clearCache() }
        statements[sql] = statement
        return statement
    }

    /// A new statement for `sql` (the caller finalizes it unless it goes into the cache).
    private func prepare(_ sql: String, persistent: Bool = false) throws -> Statement {
        guard let db else { throw SQLiteFailure.misuse("connection closed") }
        var stmt: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(db, sql, -1, persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0, &stmt, nil)
        guard status == SQLITE_OK, let stmt else {
            sqlite_nio_sqlite3_finalize(stmt)
            throw failure(status)
        }
        return Statement(handle: stmt)
    }

    /// Statements in the cache, and the heap their programs and bound values hold (SQLite's
    /// estimate), for tests.
    var cachedStatements: (count: Int, bytes: Int) {
        (statements.count, statements.values.reduce(0) { $0 + Int(sqlite_nio_sqlite3_stmt_status($1.handle, SQLITE_STMTSTATUS_MEMUSED, 0)) })
    }

    private func clearCache() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement.handle) }
        statements.removeAll(keepingCapacity: true)
    }

    /// Schema changes make every cached statement re-prepare itself; starting over is simpler.
    private static func changesSchema(_ sql: String) -> Bool {
        let head = sql.prefix(8).uppercased()
        return head.hasPrefix("CREATE") || head.hasPrefix("ALTER") || head.hasPrefix("DROP")
    }

    private func bind(_ value: SQLiteData, at index: Int32, to stmt: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let int): return sqlite_nio_sqlite3_bind_int64(stmt, index, Int64(int))
        case .float(let double): return sqlite_nio_sqlite3_bind_double(stmt, index, double)
        case .null: return sqlite_nio_sqlite3_bind_null(stmt, index)
        case .text(let text):
            // Through a C string: an empty text must bind as '' (a nil pointer would bind NULL).
            return text.withCString { sqlite_nio_sqlite3_bind_text64(stmt, index, $0, UInt64(text.utf8.count), Self.transient, UInt8(SQLITE_UTF8)) }
        case .blob(let buffer):
            return buffer.withUnsafeReadableBytes {
                sqlite_nio_sqlite3_bind_blob64(stmt, index, $0.baseAddress, UInt64($0.count), Self.transient)
            }
        }
    }

    private func value(_ stmt: OpaquePointer, _ column: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(stmt, column) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(stmt, column)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(stmt, column))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(stmt, column) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(stmt, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(stmt, column))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if let bytes = sqlite_nio_sqlite3_column_blob(stmt, column) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return .blob(buffer)
        default: return .null
        }
    }

    private func check(_ status: Int32) throws {
        guard status == SQLITE_OK || status == SQLITE_ROW || status == SQLITE_DONE else { throw failure(status) }
    }

    private func failure(_ status: Int32) -> SQLiteFailure {
        SQLiteFailure(code: status, message: db.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "error \(status)")
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// An error SQLite reported.
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { "sqlite error \(code): \(message)" }

    /// The library used the wrong way (SQLITE_MISUSE).
    static func misuse(_ message: String) -> SQLiteFailure { SQLiteFailure(code: SQLITE_MISUSE, message: message) }
}

/// The column names of one statement's rows, shared by all of them.
final class ColumnNames: Sendable {
    let names: [String]
    let offsets: [String: Int]
    init(_ names: [String]) {
        self.names = names
        self.offsets = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// One row a statement returned.
struct DBRow: StoredRow, Sendable {
    let columns: ColumnNames
    let values: [SQLiteData]

    /// The value in the named column (the first of that name), nil when there is no such column.
    func column(_ name: String) -> SQLiteData? { columns.offsets[name].map { values[$0] } }
    func optionalString(_ name: String) -> String? { column(name)?.string }
    func optionalInt(_ name: String) -> Int? { column(name)?.integer }
}

/// A ``SQLiteHandle`` with a thread of its own: every call runs there, in the order submitted.
final class SQLiteWorker: Sendable {
    private let handle: SQLiteHandle
    private let thread: NIOThreadPool
    let eventLoop: any EventLoop

    private init(handle: SQLiteHandle, thread: NIOThreadPool, eventLoop: any EventLoop) {
        self.handle = handle
        self.thread = thread
        self.eventLoop = eventLoop
    }

    /// Opens the file on a new thread and runs `setup` there first.
    static func open(path: String, setup: [String]) async throws -> SQLiteWorker {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        do {
            let handle = try await thread.runIfActive {
                let handle = try SQLiteHandle(path: path)
                for statement in setup { _ = try handle.execute(statement, []) }
                return handle
            }
            return SQLiteWorker(handle: handle, thread: thread, eventLoop: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            try? await thread.shutdownGracefully()
            throw error
        }
    }

    /// Runs `body` on the connection's thread and waits for it.
    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteHandle) throws -> T) async throws -> T {
        try await thread.runIfActive { [handle] in try body(handle) }
    }

    /// Queues `body` on the connection's thread without waiting; it runs after everything queued before.
    func submit(_ body: @escaping @Sendable (SQLiteHandle) throws -> Void) -> EventLoopFuture<Void> {
        thread.runIfActive(eventLoop: eventLoop) { [handle] in try body(handle) }
    }

    /// Closes the connection (after what was queued) and stops its thread.
    func close() async throws {
        try await run { $0.close() }
        try await thread.shutdownGracefully()
    }
}

/// Makes the write-ahead log durable on a thread of its own, so the writer never waits for the
/// disk: the writer commits with `synchronous = NORMAL` (no sync in the commit) and goes on with
/// the next batch, while this thread syncs the log; the results of the committed batches are
/// delivered only after that sync. Every answer still waits for its commit to be on disk (as with
/// `synchronous = FULL`); only other requests' reads may see a commit before it is.
///
/// The sync goes through a descriptor of its own on the log file: on Linux, `fdatasync` writes the
/// file's data to disk whichever descriptor wrote it. A checkpoint syncs the log before copying it
/// into the database (SQLite does that in NORMAL mode too).
final class WALSync: Sendable {
    typealias Finish = SQLiteExecutor.Finish
    private let path: String
    private let thread: NIOThreadPool
    private let eventLoop: any EventLoop
    /// Results waiting for the next sync, and whether a sync is queued or running.
    private let waiting = Mutex<(results: [[Finish]], syncing: Bool)>(([], false))
    private let logger: Logger
    /// Syncs done so far.
    let syncs = Atomic<Int>(0)

    init(databasePath: String, logger: Logger) {
        self.path = databasePath + "-wal"
        self.logger = logger
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        thread.start()
    }

    /// Delivers `results` (nil: committed) once everything written to the log before this call is
    /// on disk. Called after a commit returned, so the sync that follows covers it; commits that
    /// arrive while a sync runs share the next one.
    func afterSync(_ results: [Finish]) {
        let start = waiting.withLock { waiting in
            waiting.results.append(results)
            defer { waiting.syncing = true }
            return !waiting.syncing
        }
        if start { _ = thread.runIfActive(eventLoop: eventLoop) { [self] in syncLoop() } }
    }

    /// On the sync thread: syncs and delivers until nothing waits.
    private func syncLoop() {
        while true {
            let batch: [[Finish]] = waiting.withLock { waiting in
                defer { waiting.results = [] }
                if waiting.results.isEmpty { waiting.syncing = false }
                return waiting.results
            }
            guard !batch.isEmpty else { return }
            let failure: (any Error)?
            do {
                try syncNow()
                syncs.add(1, ordering: .relaxed)
                failure = nil
            } catch {
                // The batches committed, but may not survive a power cut: their answers are errors.
                logger.critical("sqlite: syncing the write-ahead log failed", metadata: ["error": "\(error)"])
                failure = error
            }
            for results in batch { for complete in results { complete(failure) } }
        }
    }

    private func syncNow() throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SQLiteFailure(code: SQLITE_IOERR, message: "open \(path): errno \(errno)") }
        defer { _ = Foundation.close(fd) }
        guard fdatasync(fd) == 0 else { throw SQLiteFailure(code: SQLITE_IOERR, message: "fdatasync \(path): errno \(errno)") }
    }

    /// Returns once every result handed over before the call was delivered.
    func drain() async throws {
        // The sync loop runs on this thread: a job queued behind it runs after it.
        try await thread.runIfActive {}
    }

    func close() async throws { try await thread.shutdownGracefully() }
}

/// Copies the write-ahead log back into the database on a connection and thread of its own, so
/// the writer's commits never wait for a checkpoint (SQLite's default runs one inside the commit
/// that crosses 1,000 pages of log: a copy and two syncs). The writer's log hook calls
/// ``logGrew(to:writer:)`` after each commit.
///
/// A checkpoint beside a busy writer may never catch up with the last frame, and the log restarts
/// from its beginning only once one did; so past `limit` pages the writer itself finishes the
/// job between its own transactions (cheap, as most frames were copied already).
final class Checkpointer: Sendable {
    private let worker: SQLiteWorker
    private let running = Atomic<Bool>(false)
    private let threshold: Int
    private let limit: Int
    /// Checkpoints run on the checkpointer's own connection so far.
    let runs = Atomic<Int>(0)

    init(worker: SQLiteWorker, threshold: Int = 8000, limit: Int = 32_000) {
        self.worker = worker
        self.threshold = threshold
        self.limit = limit
    }

    /// On the writer's thread, after a commit: the log holds `pages` pages.
    func logGrew(to pages: Int, writer: OpaquePointer?) {
        if pages >= limit {
            // PASSIVE never waits: if the background checkpoint runs, the next commit tries again.
            sqlite_nio_sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        guard pages >= threshold, running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        _ = worker.submit { [self] handle in
            defer { self.running.store(false, ordering: .releasing) }
            _ = try handle.execute("PRAGMA wal_checkpoint(PASSIVE)", [])
            self.runs.add(1, ordering: .relaxed)
        }
    }

    /// Returns once the checkpoint asked for so far ran.
    func settle() async throws { try await worker.run { _ in } }

    func close() async throws { try await worker.close() }
}

private extension SQLiteData {
    /// Bytes SQLite keeps a copy of while the value is bound.
    var heldBytes: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .blob(let buffer): buffer.readableBytes
        default: 0
        }
    }
}
