import Logging
import SandiSQLite

/// `sandi migrate`: lists (or applies) pending schema migrations.
public enum Migrations {
    public static func run(_ configuration: SandiConfiguration, apply: Bool) async throws -> String {
        let storage = try await OpenedStorage.open(configuration, migrate: false)
        let (store, close) = (storage.store, storage.close)
        do {
            let status = try await store.migrationStatus()
            var report = "schema version \(status.current); pending: \(status.pending.isEmpty ? "none" : status.pending.map(String.init).joined(separator: ", "))"
            if apply, !status.pending.isEmpty {
                let applied = try await store.migrate(upTo: .max)
                report += "\napplied: " + applied.map(String.init).joined(separator: ", ")
            } else if !status.pending.isEmpty {
                report += "\n(dry run: run with --apply to apply them)"
            }
            try await close()
            return report
        } catch {
            try? await close()
            throw error
        }
    }
}
