import ArgumentParser
import Foundation
import SandiApp
import SandiCore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify and export the tamper-evident audit trail.", subcommands: [Verify.self, Export.self, Purge.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain of the event log; exit 0 when intact, non-zero naming the first broken record.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let verdict = try await withStore(storage) { store in try await AuditTool(store: store).verify() }
            switch verdict {
            case .intact(let sealed, let unsealed):
                print("audit chain intact: \(sealed) records\(unsealed > 0 ? ", \(unsealed) not sealed yet" : "")")
            case .broken(let seq, let id, let reason):
                print("audit chain BROKEN at record \(seq) (\(id)): \(reason)")
                throw ExitCode(2)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export audit records (JSON lines or CSV) to standard output.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Only records created at or after this RFC 3339 time.") var since: String?
        @Option(help: "jsonl or csv.") var format: String = "jsonl"

        func run() async throws {
            guard let format = AuditTool.Format(rawValue: format) else { throw ValidationError("--format is jsonl or csv") }
            var sinceDate: Date?
            if let since {
                guard let date = Timestamp.parse(since) else { throw ValidationError("--since must be an RFC 3339 time, e.g. 2026-11-21T00:00:00Z") }
                sinceDate = date
            }
            try await withStore(storage) { store in
                try await AuditTool(store: store).export(since: sinceDate, format: format) { line in print(line) }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove events older than N days from the start of the log (sealed ones only), keeping a checkpoint so `audit verify` still proves the rest.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Remove events older than this many days.") var olderThanDays: Int

        func run() async throws {
            guard olderThanDays >= 1 else { throw ValidationError("--older-than-days must be at least 1") }
            let removed = try await withStore(storage) { store in
                try await AuditTool(store: store).purge(before: Date().addingTimeInterval(-Double(olderThanDays) * 86_400))
            }
            print("purged \(removed) events")
        }
    }
}
