import Logging
import SandiSQLite

/// `sandi migrate`: lists (or applies) pending schema migrations.
public enum Migrations {
    public static func run(_ configuration: SandiConfiguration, apply: Bool) async throws -> String {
        let (store, close) = try await SandiSystem.openSQLite(configuration, migrate: false)
        do {
            let status = try await store.migrationStatus()
            var report = "schema version \(status.current); pending: \(status.pending.isEmpty ? "none" : status.pending.map(String.init).joined(separator: ", "))"
            if apply, !status.pending.isEmpty {
                let applied = try await store.migrate()
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
