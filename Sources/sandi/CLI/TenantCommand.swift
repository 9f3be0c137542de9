import ArgumentParser
import Foundation
import Logging
import SandiApp
import SandiCore

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Create and list tenants.", subcommands: [Create.self, List.self, Countries.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant.")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "Tenant name: 1–64 of a-z 0-9 - _ .") var name: String
        @Option(help: "The tenant's own region (ISO 3166-1 alpha-2): codes go only to numbers of it until `tenant countries` widens that. Without it, every country.")
        var region: String?

        func validate() throws {
            if let region, region.count != 2 || !region.allSatisfy({ $0.isASCII && $0.isLetter }) {
                throw ValidationError("--region must be an ISO 3166-1 alpha-2 code such as ID")
            }
        }

        func run() async throws {
            try await withAdmin(storage) { admin in
                let tenant = try await admin.createTenant(named: name, region: region?.uppercased())
                print("\(tenant.id)\t\(tenant.name)\t\(tenant.allowedCountries.map { $0.sorted().joined(separator: ",") } ?? "all countries")")
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
