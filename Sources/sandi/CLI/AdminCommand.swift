import ArgumentParser
import Foundation
import SandiApp
import SandiCore
import SandiDashboard

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Dashboard accounts: create (password and authenticator secret shown once), list, disable, enable.",
        subcommands: [Create.self, List.self, Disable.self, Enable.self])

    static func withDirectory(_ storage: StorageOptions, _ body: (AdminDirectory, any SandiStore) async throws -> Void) async throws {
        let configuration = try await storage.load()
        try await withStore(storage) { store in
            do {
                try await body(try SandiSystem.admins(configuration, store: store), store)
            } catch let error as AdminError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a dashboard account; prints its password and the otpauth:// URI for an authenticator app, once.")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "Account name (3–32 lowercase letters, digits, '.', '-', '_').") var name: String
        @Option(help: "admin (everything), analyst (read-only) or support (timelines and resends).") var role: String = "analyst"
        @Option(help: "Limit the account to one tenant (by name).") var tenant: String?

        func run() async throws {
            guard let role = AdminRole(rawValue: role) else { throw ValidationError("--role is admin, analyst or support") }
            try await AdminCommand.withDirectory(storage) { directory, store in
                var tenantID: String?
                if let tenant {
                    guard let found = try await store.tenant(named: tenant) else { throw ValidationError("no tenant \(tenant)") }
                    tenantID = found.id
                }
                let credentials = try await directory.create(name: name, role: role, tenantID: tenantID, actor: "cli")
                print("password: \(credentials.password)")
                print("authenticator: \(credentials.totpURI)")
                print("(shown once; sign in at /dashboard with the password and the authenticator's current code)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dashboard accounts (never secrets).")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            try await AdminCommand.withDirectory(storage) { directory, _ in
                for account in try await directory.accounts() {
                    print("\(account.name)\t\(account.role.rawValue)\t\(account.tenantID ?? "all tenants")\t\(account.disabled ? "disabled" : "active")")
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account (its sessions stop at their next request).")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "Account name.") var name: String

        func run() async throws {
            try await AdminCommand.withDirectory(storage) { directory, _ in
                try await directory.setDisabled(name, true, actor: "cli")
                print("disabled \(name)")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account again.")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "Account name.") var name: String

        func run() async throws {
            try await AdminCommand.withDirectory(storage) { directory, _ in
                try await directory.setDisabled(name, false, actor: "cli")
                print("enabled \(name)")
            }
        }
    }
}
