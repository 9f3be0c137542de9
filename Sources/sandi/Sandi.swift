import ArgumentParser
import Foundation
import Logging
import SandiApp
import SandiCore

@main
struct Sandi: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandi",
        abstract: "Self-hosted one-time-passcode verification and delivery.",
        subcommands: [Serve.self, Migrate.self, TenantCommand.self, KeyCommand.self, SecretCommand.self, AuditCommand.self, AdminCommand.self, Bench.self, Simulate.self, SimulatorCommand.self])
}

/// Options every command that touches storage takes.
struct StorageOptions: ParsableArguments {
    @Option(help: "Data directory: the SQLite file and key files (env SANDI_DATA_DIR; default ./sandi-data).")
    var dataDir: String?

    @Option(help: "A postgres:// URL selects PostgreSQL instead of SQLite (env SANDI_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "A JSON configuration file (env SANDI_CONFIG).")
    var config: String?

    func overrides() -> [String: String] {
        var values: [String: String] = [:]
        if let dataDir { values["sandi.data.dir"] = dataDir }
        if let databaseURL { values["sandi.database.url"] = databaseURL }
        return values
    }

    func load(_ extra: [String: String] = [:]) async throws -> SandiConfiguration {
        try await SandiConfiguration.load(overrides: overrides().merging(extra) { $1 }, file: config)
    }
}

enum Logs {
    static func bootstrap(level: String) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: level.lowercased()) ?? .info
            return handler
        }
        return Logger(label: "sandi")
    }
}

/// Opens storage, runs `body`, and closes storage however it ended.
func withStore<T>(_ storage: StorageOptions, _ body: (any SandiStore) async throws -> T) async throws -> T {
    let configuration = try await storage.load()
    let (store, close) = try await SandiSystem.openStorage(configuration)
    do {
        let result = try await body(store)
        try await close()
        return result
    } catch {
        try? await close()
        throw error
    }
}

/// Opens storage for an administrative command and closes it afterwards.
func withAdmin(_ storage: StorageOptions, _ body: (TenantAdmin) async throws -> Void) async throws {
    let configuration = try await storage.load()
    let (store, close) = try await SandiSystem.openStorage(configuration)
    do {
        try await body(TenantAdmin(store: store))
    } catch let error as TenantAdmin.AdminError {
        try? await close()
        throw ValidationError(error.description)
    } catch {
        try? await close()
        throw error
    }
    try await close()
}
