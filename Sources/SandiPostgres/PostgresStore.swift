public import Foundation
import Synchronization
public import Logging
import NIOSSL
import PostgresNIO
public import SandiCore

/// Where and how to reach PostgreSQL.
public struct PostgresStoreOptions: Sendable, Equatable {
    /// How the connection is encrypted.
    public enum TLSMode: String, Sendable {
        /// Plain TCP (loopback or a private network only).
        case disable
        /// TLS when the server offers it.
        case prefer
        /// TLS or no connection (certificate and host name verified).
        case require
    }

    public var host: String = "127.0.0.1"
    public var port: Int = 5432
    public var username: String = "sandi"
    public var password: String?
    public var database: String = "sandi"
    public var tls: TLSMode = .prefer
    /// Connections in the pool at most (per node).
    public var maxConnections: Int = 20
    /// Connections kept open at least.
    public var minConnections: Int = 2
    /// The schema Sandi's tables live in (`search_path`); nil: the server's default (`public`).
    public var schema: String?
    /// Seconds to wait for a connection.
    public var connectTimeoutSeconds: Int = 10
    /// A PEM file of the certificate authorities to trust for the server's certificate
    /// (`sslrootcert`); nil: the system's trust store.
    public var rootCertificatePath: String?

    public init() {}

    /// Options from a `postgres://user:password@host:port/database?sslmode=disable|prefer|require&schema=NAME`
    /// URL (also `postgresql://`; `sslrootcert=PATH` trusts a private CA, `pool_max=N` sizes the
    /// pool). Percent-escapes in user and password are decoded.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql"
        else { throw PostgresOptionsError("database URL must start with postgres:// or postgresql://") }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        if let user = components.percentEncodedUser, !user.isEmpty { username = user.removingPercentEncoding ?? user }
        password = components.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if !path.isEmpty { database = path }
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value {
                case "disable": tls = .disable
                case "prefer", "allow": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw PostgresOptionsError("sslmode must be disable, prefer or require")
                }
            case "sslrootcert":
                guard let value = item.value, !value.isEmpty else { throw PostgresOptionsError("sslrootcert must name a PEM file") }
                rootCertificatePath = value
            case "schema", "search_path":
                guard let value = item.value, Self.isIdentifier(value) else { throw PostgresOptionsError("schema must be a plain identifier") }
                schema = value
            case "pool_max":
                guard let value = item.value.flatMap(Int.init), (1...500).contains(value) else { throw PostgresOptionsError("pool_max must be 1...500") }
                maxConnections = value
            default:
                continue
            }
        }
    }

    /// Lower-case letters, digits and underscores, not starting with a digit.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first), text.count <= 63 else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    var clientConfiguration: PostgresClient.Configuration {
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificatePath { tlsConfiguration.trustRoots = .file(rootCertificatePath) }
        let mode: PostgresClient.Configuration.TLS = switch tls {
        case .disable: .disable
        case .prefer: .prefer(tlsConfiguration)
        case .require: .require(tlsConfiguration)
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: mode)
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = min(minConnections, maxConnections)
        configuration.options.connectTimeout = .seconds(connectTimeoutSeconds)
        if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        return configuration
    }
}

/// Storage on PostgreSQL, for several Sandi nodes on one database. Implements every storage port
/// with the same contract as the embedded SQLite store. Concurrency between nodes is settled by
/// the database: conditional updates, `FOR UPDATE SKIP LOCKED` claims with leases, and
/// transaction-scoped advisory locks where a decision reads before it writes (the live code of a
/// destination, risk counters, the audit chain's head).
public final class PostgresStore: SandiStore {
    let client: PostgresClient
    /// Runs the client's connection pool until the store closes.
    private let runner: Task<Void, Never>
    let logger: Logger
    public let options: PostgresStoreOptions

    private init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger, options: PostgresStoreOptions) {
        self.client = client
        self.runner = runner
        self.logger = logger
        self.options = options
    }

    /// Connects (checking the server answers) and, when `migrate` is set, applies pending migrations.
    public static func open(_ options: PostgresStoreOptions, migrate: Bool, logger: Logger = Logger(label: "sandi.postgres")) async throws -> PostgresStore {
        // The pool's own chatter (each failed connection attempt) stays below warnings; a failure
        // to reach the server surfaces here as one clear error.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: options.clientConfiguration, backgroundLogger: background)
        let runner = Task.immediate { await client.run() }
        let store = PostgresStore(client: client, runner: runner, logger: logger, options: options)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.ping() }
                group.addTask {
                    try await Task.sleep(for: .seconds(options.connectTimeoutSeconds))
                    throw PostgresOptionsError("PostgreSQL at \(options.host):\(options.port)/\(options.database): no answer within \(options.connectTimeoutSeconds) s")
                }
                try await group.next()
                group.cancelAll()
            }
            if migrate { try await store.migrate() }
        } catch let error as PSQLError {
            runner.cancel()
            throw PostgresOptionsError(explaining: error, options: options)
        } catch {
            runner.cancel()
            throw error
        }
        return store
    }

    /// Closes the pool.
    /// Closes the connection pool. A pool that does not wind down within 10 s (a connection
    /// still leased by a task that never returns it) is left behind rather than holding up the
    /// process's exit.
    public func close() async throws {
        runner.cancel()
        let runner = runner
        let once = Once()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Task { _ = await runner.value; if once.first() { continuation.resume() } }
            Task { try? await Task.sleep(for: .seconds(10)); if once.first() { continuation.resume() } }
        }
    }

    /// True for the first caller only.
    final class Once: Sendable {
        private let done = Mutex(false)
        func first() -> Bool { done.withLock { done in defer { done = true }; return !done } }
    }

    public func ping() async throws {
        _ = try await read { tx in try await tx.query("SELECT 1 AS one") }
    }

    /// The database server's clock (one time source for every node).
    public func databaseNow() async throws -> Date {
        let row = try await read { tx in try await tx.query("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::int8 AS ms").first }
        guard let ms = row?.optionalInt("ms") else { throw StoreError.corrupt("clock") }
        return Timestamp.date(millis: Int64(ms))
    }

    /// Runs `body` on a leased connection, outside any transaction (single statements, reads).
    func read<T: Sendable>(_ body: @Sendable (PGTx) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await body(PGTx(connection: connection, logger: logger)) }
    }

    /// Runs `body` as one transaction (READ COMMITTED). A transaction that lost a deadlock or a
    /// serialization conflict is run again, up to four times.
    func write<T: Sendable>(_ body: @Sendable (PGTx) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await client.withConnection { connection in
                    let tx = PGTx(connection: connection, logger: logger)
                    try await tx.query("BEGIN")
                    do {
                        let value = try await body(tx)
                        try await tx.query("COMMIT")
                        return value
                    } catch {
                        _ = try? await tx.query("ROLLBACK")
                        throw error
                    }
                }
            } catch let error as PSQLError where attempt < 4 && ["40P01", "40001"].contains(error.sqlState ?? "") {
                attempt += 1
                logger.debug("transaction retried", metadata: ["sqlstate": "\(error.sqlState ?? "")", "attempt": "\(attempt)"])
            }
        }
    }
}

/// A PostgreSQL setting Sandi cannot use.
public struct PostgresOptionsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }

    /// What went wrong reaching the server, in words an operator can act on (no password, no
    /// statement parameters).
    init(explaining error: PSQLError, options: PostgresStoreOptions) {
        let place = "\(options.host):\(options.port)/\(options.database)"
        if let message = error.serverInfo?[.message] {
            description = "PostgreSQL at \(place): \(message) (SQLSTATE \(error.sqlState ?? "?"))"
        } else if error.code == .connectionError {
            description = "PostgreSQL at \(place): could not connect"
        } else {
            description = "PostgreSQL at \(place): \(error.code)"
        }
    }
}

extension PostgresStoreOptions {
    /// These options with a new, uniquely named schema (throw-away databases of tests and benchmarks).
    public func withFreshSchema(prefix: String = "t") -> PostgresStoreOptions {
        var copy = self
        copy.schema = prefix + "_" + Identifier.randomBase32(bytes: 8).lowercased()
        return copy
    }
}
