import Foundation
public import Logging
public import SandiCore
import Synchronization
import SQLiteNIO

/// Options of the SQLite store.
public struct SQLiteStoreOptions: Sendable {
    /// `FULL` (default: every commit reaches the disk before a response) or `NORMAL` (a crash of the
    /// machine, not of the process, may lose the last commits).
    public var synchronous: String = "FULL"
    /// Writes committed together at most.
    public var maxBatch: Int = 256
    /// Whether opening applies pending migrations (the embedded default does; `sandi migrate` does not).
    public var migrate: Bool = true
    /// Read-only connections beside the writer.
    public var readConnections: Int = 2
    /// Pages of write-ahead log after which the checkpointer copies it into the database (8,000
    /// pages, 32 MiB with pages of 4 KiB). A checkpoint copies each page once, however often the
    /// log holds it, and the hot pages (the ends of the tables and indexes, busy counters) are in
    /// nearly every commit: measured, the checkpointer's CPU per start fell from about 55 µs
    /// past 1,000 pages to about 24 µs past 8,000.
    public var checkpointPages: Int = 8000
    /// MiB of page cache for the writer's connection (16). It holds the pages the writer keeps
    /// coming back to: the right ends of tables and indexes, their inner pages, busy counters.
    /// Pages it drops are read again from the operating system's cache. Measured over a benchmark
    /// run: 64 MiB read no fewer pages than 8 or 16 MiB (about 3 `pread`s per request in each,
    /// nearly all by the read connections), but the process grew by 93 MiB instead of 37 (at
    /// 16 MiB), with 1.17 page faults per request instead of 0.50.
    public var cacheMiB: Int = 16

    public init(synchronous: String = "FULL", maxBatch: Int = 256, migrate: Bool = true, readConnections: Int = 2, checkpointPages: Int = 8000, cacheMiB: Int = 16) {
        self.synchronous = synchronous
        self.maxBatch = maxBatch
        self.migrate = migrate
        self.readConnections = readConnections
        self.checkpointPages = checkpointPages
        self.cacheMiB = cacheMiB
    }
}

/// The embedded default storage: one SQLite file in WAL mode, owned by an actor that runs writes
/// with group commit. Implements every storage port.
public final class SQLiteStore: SandiStore {
    /// The one connection that writes (group commit).
    let db: SQLiteExecutor
    /// Read-only connections, each on a thread of its own: in WAL mode they read committed data
    /// while the writer works. Reads go straight to them (no queue).
    let readers: [SQLiteWorker]
    private let nextReader = Atomic<Int>(0)
    let path: String

    /// Checkpoints the log beside the writer (nil only while migrating at open).
    let checkpointer: Checkpointer?

    private init(db: SQLiteExecutor, readers: [SQLiteWorker], checkpointer: Checkpointer?, path: String) {
        self.db = db
        self.readers = readers
        self.checkpointer = checkpointer
        self.path = path
    }

    /// Runs a read on one of the read connections (committed data only).
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteExecutor.Tx) async throws -> T) async throws -> T {
        guard !readers.isEmpty else { return try await db.read(body) }
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await body(SQLiteExecutor.Tx(mode: .remote(readers[index % readers.count]), pending: SQLiteExecutor.Pending()))
    }

    /// Opens (creating if needed) the database file and applies pending migrations.
    public static func open(path: String, options: SQLiteStoreOptions = SQLiteStoreOptions(), logger: Logger = Logger(label: "sandi.sqlite")) async throws -> SQLiteStore {
        // FULL keeps its promise (a commit is on disk before its answer) through ``WALSync``: the
        // connection itself commits without waiting for the disk.
        let durable = options.synchronous.uppercased() != "NORMAL"
        let connection = try await SQLiteWorker.open(path: path, setup: [
            "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON",
            // The writer's hot pages stay in memory (one connection writes, so its cache stays
            // valid across commits; the readers' caches are reset by every commit they see).
            "PRAGMA cache_size = -\(max(1, options.cacheMiB) * 1024)",
            // Statement journals in memory: a batch is one transaction of many statements, and
            // SQLite journals the pages each one changes so it could undo that statement alone.
            // On the default it spills a statement's journal past 64 KiB to a temporary file
            // (opened, written and closed within the commit).
            "PRAGMA temp_store = MEMORY",
        ])
        let sync = durable ? WALSync(databasePath: path, logger: logger) : nil
        let writer = SQLiteExecutor(writer: connection, maxBatch: options.maxBatch, durability: sync, logger: logger)
        var readers: [SQLiteWorker] = []
        var checkpointer: Checkpointer?
        do {
            if options.migrate {
                try await SQLiteStore(db: writer, readers: [], checkpointer: nil, path: path).migrate()
            }
            for _ in 0..<max(0, options.readConnections) {
                readers.append(try await SQLiteWorker.open(path: path, setup: ["PRAGMA query_only = ON"]))
            }
            let pages = max(1, options.checkpointPages)
            let opened = Checkpointer(worker: try await SQLiteWorker.open(path: path, setup: []), threshold: pages, limit: pages * 4)
            checkpointer = opened
            try await connection.run { $0.checkpoint(with: opened) }
            return SQLiteStore(db: writer, readers: readers, checkpointer: opened, path: path)
        } catch {
            for reader in readers { try? await reader.close() }
            try? await connection.close()
            try? await checkpointer?.close()
            try? await sync?.close()
            throw error
        }
    }

    /// The applied schema version and the versions still to apply.
    public func migrationStatus() async throws -> (current: Int, pending: [Int]) {
        let current = try await db.read { tx in
            try await tx.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
            return try await tx.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").first?.int("v") ?? 0
        }
        return (current, SQLiteMigrations.all.map(\.version).filter { $0 > current })
    }

    /// Applies every pending migration (up to `version`), each in its own transaction. Returns the
    /// versions applied.
    @discardableResult
    public func migrate(upTo version: Int = .max) async throws -> [Int] {
        let (current, _) = try await migrationStatus()
        var applied: [Int] = []
        for migration in SQLiteMigrations.all where migration.version > current && migration.version <= version {
            try await db.write { tx in
                for statement in migration.statements { try await tx.query(statement) }
                try await tx.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                   [.integer(migration.version), .text(migration.name), .ms(Date())])
            }
            applied.append(migration.version)
        }
        return applied
    }

    /// How often the writer's cached statements were prepared again (for tests: a statement is
    /// meant to be prepared once).
    package func writerReprepares() async throws -> Int {
        try await db.writer.run { $0.reprepares }
    }

    /// The writer's page cache in KiB, as SQLite reports it (for tests).
    package func writerCacheKiB() async throws -> Int {
        try await db.writer.run { -(try $0.execute("PRAGMA cache_size", []).first?.optionalInt("cache_size") ?? 0) }
    }

    /// Closes the connection (after queued work finished).
    public func close() async throws {
        for reader in readers { try await reader.close() }
        try await db.writer.run { $0.checkpointInCommit() }
        try await db.close()
        try await checkpointer?.close()
    }

    /// How the log was made durable and copied back so far: syncs of the log done for answered
    /// writes (none with synchronous NORMAL) and checkpoints run beside the writer. Waits for the
    /// checkpoint asked for so far.
    public func logActivity() async throws -> (syncs: Int, checkpoints: Int) {
        try await checkpointer?.settle()
        return (db.durability?.syncs.load(ordering: .relaxed) ?? 0, checkpointer?.runs.load(ordering: .relaxed) ?? 0)
    }

    public func ping() async throws {
        try await read { tx in _ = try await tx.query("SELECT 1") }
    }
}
