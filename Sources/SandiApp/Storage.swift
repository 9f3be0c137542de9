import Foundation
import Logging
import SandiCore
import SandiPostgres
import SandiSQLite

/// A store whose schema is versioned: both SQL adapters.
protocol MigratableStore: SandiStore {
    func migrationStatus() async throws -> (current: Int, pending: [Int])
    @discardableResult func migrate(upTo version: Int) async throws -> [Int]
}

extension SQLiteStore: MigratableStore {}
extension PostgresStore: MigratableStore {}

/// The storage a configuration names: the embedded SQLite file, or PostgreSQL when
/// `sandi.database.url` (or `DATABASE_URL`) is a `postgres://` URL.
struct OpenedStorage: Sendable {
    let store: any MigratableStore
    let close: @Sendable () async throws -> Void
    /// The PostgreSQL store, when that is the storage (its clock is the shared time source).
    let postgres: PostgresStore?

    /// Opens storage. SQLite applies pending migrations when `migrate` is set (the embedded
    /// default migrates itself); PostgreSQL never does here: several nodes share it, so schema
    /// changes are applied on purpose, by `sandi migrate --apply`.
    static func open(_ configuration: SandiConfiguration, migrate: Bool, logger: Logger = Logger(label: "sandi")) async throws -> OpenedStorage {
        if let url = configuration.databaseURL {
            let scheme = url.split(separator: ":").first.map { String($0).lowercased() } ?? url
            guard scheme == "postgres" || scheme == "postgresql" else { throw StartupError.unsupportedDatabase(scheme) }
            var options = try PostgresStoreOptions(url: url)
            if let pool = configuration.postgresPoolMax { options.maxConnections = pool }
            if let schema = configuration.postgresSchema { options.schema = schema }
            let store = try await PostgresStore.open(options, migrate: false, logger: logger)
            return OpenedStorage(store: store, close: { try await store.close() }, postgres: store)
        }
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = try await SQLiteStore.open(
            path: configuration.dataDirectory + "/sandi.sqlite",
            options: SQLiteStoreOptions(synchronous: configuration.sqliteSynchronous, migrate: migrate, cacheMiB: configuration.sqliteCacheMiB), logger: logger)
        return OpenedStorage(store: store, close: { try await store.close() }, postgres: nil)
    }

    /// Refuses to serve on a schema older than this build expects.
    func requireCurrentSchema() async throws {
        let status = try await store.migrationStatus()
        guard status.pending.isEmpty else {
            throw StartupError.refused(["the database schema is at version \(status.current); versions \(status.pending.map(String.init).joined(separator: ", ")) are pending: run `sandi migrate --apply` first"])
        }
    }
}
