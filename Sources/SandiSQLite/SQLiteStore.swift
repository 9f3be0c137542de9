import Foundation
public import Logging
public import SandiCore
import NIOPosix
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

    public init(synchronous: String = "FULL", maxBatch: Int = 256, migrate: Bool = true, readConnections: Int = 2) {
        self.synchronous = synchronous
        self.maxBatch = maxBatch
        self.migrate = migrate
        self.readConnections = readConnections
    }
}

/// The embedded default storage: one SQLite file in WAL mode, owned by an actor that runs writes
/// with group commit. Implements every storage port.
public final class SQLiteStore: SandiStore {
    /// The one connection that writes (group commit).
    let db: SQLiteExecutor
    /// Read-only connections: in WAL mode they read committed data while the writer works. Reads
    /// go straight to them (no queue): concurrent reads overlap their waits.
    let readers: [SQLiteConnection]
    private let nextReader = Atomic<Int>(0)
    let path: String
    /// The writer's own single thread: statements run in the order they were submitted.
    let writerThread: NIOThreadPool?

    private init(db: SQLiteExecutor, readers: [SQLiteConnection], path: String, writerThread: NIOThreadPool?) {
        self.db = db
        self.readers = readers
        self.path = path
        self.writerThread = writerThread
    }

    /// Runs a read on one of the read connections (committed data only).
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteExecutor.Tx) async throws -> T) async throws -> T {
        guard !readers.isEmpty else { return try await db.read(body) }
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await body(SQLiteExecutor.Tx(connection: readers[index % readers.count], pending: SQLiteExecutor.Pending()))
    }

    /// Opens (creating if needed) the database file and applies pending migrations.
    public static func open(path: String, options: SQLiteStoreOptions = SQLiteStoreOptions(), logger: Logger = Logger(label: "sandi.sqlite")) async throws -> SQLiteStore {
        let writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: writerThread, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        let mode = options.synchronous.uppercased() == "NORMAL" ? "NORMAL" : "FULL"
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = \(mode)", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000",
                       "CREATE TEMP TABLE unit_flags (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"] {
            _ = try await connection.query(pragma, [])
        }
        let writer = SQLiteExecutor(connection: connection, maxBatch: options.maxBatch, logger: logger)
        if options.migrate {
            try await SQLiteStore(db: writer, readers: [], path: path, writerThread: nil).migrate()
        }
        var readers: [SQLiteConnection] = []
        for _ in 0..<max(0, options.readConnections) {
            let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            for pragma in ["PRAGMA query_only = ON", "PRAGMA busy_timeout = 5000"] { _ = try await reader.query(pragma, []) }
            readers.append(reader)
        }
        return SQLiteStore(db: writer, readers: readers, path: path, writerThread: writerThread)
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

    /// Closes the connection (after queued work finished).
    public func close() async throws {
        for reader in readers { try await reader.close() }
        try await db.read { tx in _ = try await tx.query("PRAGMA wal_checkpoint(PASSIVE)") }
        try await db.connection.close()
        try await writerThread?.shutdownGracefully()
    }

    public func ping() async throws {
        try await read { tx in _ = try await tx.query("SELECT 1") }
    }
}
