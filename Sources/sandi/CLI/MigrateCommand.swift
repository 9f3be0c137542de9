import ArgumentParser
import Foundation
import Logging
import SandiApp
import SandiCore

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
