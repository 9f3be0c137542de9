import ArgumentParser
import Foundation
import Logging
import SandiApp
import SandiCore

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
