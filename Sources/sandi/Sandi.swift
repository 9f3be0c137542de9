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
        subcommands: [Serve.self, Migrate.self, TenantCommand.self, KeyCommand.self, SecretCommand.self, Bench.self])
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

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API and the delivery worker.")

    @OptionGroup var storage: StorageOptions
    @Option(help: "Address to listen on (env SANDI_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (env SANDI_PORT; default 8080).") var port: Int?
    @Flag(help: "Production mode (env SANDI_ENV=production): simulator off, default secrets refused.") var production = false

    func run() async throws {
        var extra: [String: String] = [:]
        if let host { extra["sandi.host"] = host }
        if let port { extra["sandi.port"] = String(port) }
        if production { extra["sandi.env"] = "production" }
        let configuration = try await storage.load(extra)
        let logger = Logs.bootstrap(level: configuration.logLevel)
        let system: SandiSystem
        do {
            system = try await SandiSystem.open(configuration, logger: logger)
        } catch let error as StartupError {
            throw ValidationError(error.description)
        }
        if let key = try await system.bootstrapDemoTenant() {
            let text = """
                Created tenant "demo". Its API key, shown once (also saved to \(configuration.dataDirectory)/demo-api-key, mode 0600):
                \(key)

                """
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let host = configuration.host
        try await system.run { port in
            logger.notice("Sandi listening", metadata: ["url": "http://\(host):\(port)", "simulator": "\(configuration.simulatorEnabled)"])
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show pending schema migrations; apply them with --apply.")

    @OptionGroup var storage: StorageOptions
    @Flag(help: "Apply the pending migrations (default: only list them).") var apply = false

    func run() async throws {
        let configuration = try await storage.load()
        let report = try await Migrations.run(configuration, apply: apply)
        print(report)
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Create and list tenants.", subcommands: [Create.self, List.self, Countries.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant.")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "Tenant name: 1–64 of a-z 0-9 - _ .") var name: String

        func run() async throws {
            try await withAdmin(storage) { admin in
                let tenant = try await admin.createTenant(named: name)
                print("\(tenant.id)\t\(tenant.name)")
            }
        }
    }

    struct Countries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the destination countries a tenant may send codes to.",
            discussion: "Codes to numbers of other countries are refused with 403 destination_not_allowed. `all` allows every country.")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "Tenant name.") var name: String
        @Argument(help: "Comma-separated ISO 3166-1 alpha-2 codes (e.g. ID,MY), or `all`.") var countries: String

        func run() async throws {
            let set: Set<String>? = countries.lowercased() == "all"
                ? nil : Set(countries.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() })
            try await withAdmin(storage) { admin in
                try await admin.setCountries(tenantName: name, countries: set)
                print("\(name): \(set.map { $0.sorted().joined(separator: ",") } ?? "all countries")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            try await withAdmin(storage) { admin in
                for tenant in try await admin.store.tenants() {
                    let countries = tenant.allowedCountries.map { $0.sorted().joined(separator: ",") } ?? "all"
                    print("\(tenant.id)\t\(tenant.name)\t\(Timestamp.format(tenant.createdAt))\tcountries: \(countries)")
                }
            }
        }
    }
}

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Create, list and revoke API keys.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key; prints only the key (creating the tenant if needed).")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Tenant name.") var tenant: String

        func run() async throws {
            try await withAdmin(storage) { admin in
                print(try await admin.createKey(tenantName: tenant).key)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's keys (ids and hints, never keys).")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Tenant name.") var tenant: String

        func run() async throws {
            try await withAdmin(storage) { admin in
                guard let found = try await admin.store.tenant(named: tenant) else { throw ValidationError("no tenant \(tenant)") }
                for key in try await admin.store.keys(tenantID: found.id) {
                    print("\(key.id)\t\(key.hint)…\t\(Timestamp.format(key.createdAt))\t\(key.revokedAt.map { "revoked " + Timestamp.format($0) } ?? "live")")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key by id (key_…).")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "Key id.") var id: String

        func run() async throws {
            try await withAdmin(storage) { admin in
                try await admin.revokeKey(id: id)
                print("revoked \(id)")
            }
        }
    }
}

struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "secret", abstract: "Manage the server's code-hashing keys.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new current code key to <data-dir>/code-keys.json; older keys still verify live codes.",
            discussion: "Restart `sandi serve` to issue with the new key. Keys given by SANDI_CODE_KEYS are rotated by changing that value (new key first).")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let configuration = try await storage.load()
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            print("new current key: \(try KeyringFile.rotate(directory: configuration.dataDirectory))")
        }
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

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a running Sandi: start and check against the trivial endpoint, same run.",
        discussion: "Needs a server with the simulator on. Prints throughput and p50/p99 per phase and the ratios to the trivial endpoint; medians over --rounds.")

    @Option(help: "Base URL of the server.") var url = "http://127.0.0.1:8080"
    @Option(help: "API key (default: the data directory's demo-api-key).") var apiKey: String?
    @Option(help: "Data directory holding demo-api-key.") var dataDir = "./sandi-data"
    @Option(help: "Connections / concurrent requests.") var concurrency = 64
    @Option(help: "Seconds per phase.") var seconds = 5.0
    @Option(help: "Rounds (each: trivial, start, check).") var rounds = 3
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        let key: String
        if let apiKey {
            key = apiKey
        } else if let text = try? String(contentsOfFile: dataDir + "/demo-api-key", encoding: .utf8) {
            key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw ValidationError("no --api-key and no \(dataDir)/demo-api-key")
        }
        let bench = LoadBenchmark(options: .init(baseURL: url, apiKey: key, concurrency: concurrency, seconds: seconds, rounds: rounds))
        let results = try await bench.run { line in if !json { print(line) } }
        print(BenchReport.render(results, concurrency: concurrency, json: json))
    }
}
