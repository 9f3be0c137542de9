import Foundation

/// Versioned schema migrations for PostgreSQL, numbered like the SQLite ones (the same version
/// means the same tables and columns). Never edit a released migration; add a new one.
///
/// Differences from SQLite: events carry `chain_seq`, their place in the audit chain, assigned
/// when sealed (an insertion sequence commits out of order across transactions, a chain must
/// not); `audit_links` is keyed by that chain position.
enum PGMigrations {
    static let all: [(version: Int, name: String, statements: [String])] = [
        (1, "core", [
            "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, allowed_countries TEXT)",
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), hash TEXT NOT NULL UNIQUE,
                hint TEXT NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT)
            """,
            """
            CREATE TABLE verifications (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, to_number TEXT NOT NULL, country TEXT, operator TEXT,
                purpose TEXT NOT NULL, user_ref TEXT, locale TEXT NOT NULL, code_length INTEGER NOT NULL,
                code_key_id TEXT NOT NULL, code_mac TEXT NOT NULL, sealed_key_id TEXT, sealed_box TEXT,
                status TEXT NOT NULL, channel TEXT, plan TEXT NOT NULL, plan_index INTEGER NOT NULL,
                created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                attempts_used INTEGER NOT NULL, max_attempts INTEGER NOT NULL, sends_used INTEGER NOT NULL,
                max_sends INTEGER NOT NULL, resends INTEGER NOT NULL, resend_available_at BIGINT NOT NULL,
                context TEXT NOT NULL, risk TEXT NOT NULL)
            """,
            "CREATE INDEX verifications_live ON verifications(tenant_id, to_number, purpose) WHERE status = 'pending'",
            "CREATE INDEX verifications_expiry ON verifications(expires_at) WHERE status = 'pending'",
            """
            CREATE TABLE deliveries (
                id TEXT PRIMARY KEY, seq BIGSERIAL, verification_id TEXT NOT NULL, tenant_id TEXT NOT NULL, channel TEXT NOT NULL,
                provider TEXT NOT NULL, status TEXT NOT NULL, plan_index INTEGER NOT NULL, queued_at BIGINT NOT NULL,
                sent_at BIGINT, delivered_at BIGINT, read_at BIGINT, failed_at BIGINT, error TEXT, provider_message_id TEXT)
            """,
            "CREATE INDEX deliveries_verification ON deliveries(verification_id, queued_at, seq)",
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY, delivery_id TEXT NOT NULL, verification_id TEXT NOT NULL, tenant_id TEXT NOT NULL,
                kind TEXT NOT NULL DEFAULT 'send', due_at BIGINT NOT NULL, done BOOLEAN NOT NULL DEFAULT false,
                lease_owner TEXT, lease_until BIGINT, attempts INTEGER NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX jobs_due ON jobs(due_at) WHERE NOT done",
            "CREATE INDEX jobs_verification ON jobs(verification_id) WHERE NOT done",
            "CREATE INDEX jobs_delivery ON jobs(delivery_id) WHERE NOT done",
            """
            CREATE TABLE events (
                seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL, verification_id TEXT,
                type TEXT NOT NULL, created_at BIGINT NOT NULL, data TEXT NOT NULL, chain_seq BIGINT UNIQUE)
            """,
            "CREATE INDEX events_verification ON events(verification_id, seq)",
            "CREATE INDEX events_unsealed ON events(seq) WHERE chain_seq IS NULL",
            "CREATE TABLE audit_links (seq BIGINT PRIMARY KEY, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            """
            CREATE TABLE failed_checks (
                tenant_id TEXT NOT NULL, to_number TEXT NOT NULL, purpose TEXT NOT NULL, count INTEGER NOT NULL,
                last_failed_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, to_number, purpose))
            """,
            """
            CREATE TABLE grants (
                token_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, verification_id TEXT NOT NULL, user_ref TEXT,
                to_number TEXT NOT NULL, purpose TEXT NOT NULL, created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL, redeemed_at BIGINT)
            """,
            """
            CREATE TABLE idempotency (
                tenant_id TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
                status INTEGER, body BYTEA, content_type TEXT, created_at BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, scope, key))
            """,
            """
            CREATE TABLE outbox (
                id TEXT PRIMARY KEY, seq BIGSERIAL, tenant_id TEXT NOT NULL, delivery_id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
                to_number TEXT NOT NULL, text_key_id TEXT NOT NULL, text_box TEXT NOT NULL, code_key_id TEXT,
                code_box TEXT, sent_at BIGINT NOT NULL)
            """,
            "CREATE INDEX outbox_to ON outbox(tenant_id, to_number, sent_at)",
            """
            CREATE TABLE channel_memory (
                tenant_id TEXT NOT NULL, to_number TEXT NOT NULL, channel TEXT NOT NULL, unusable_until BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, to_number, channel))
            """,
        ]),
        (2, "risk", [
            "CREATE TABLE risk_state (key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT NOT NULL, expires_at BIGINT NOT NULL)",
            "CREATE INDEX risk_state_expiry ON risk_state(expires_at)",
            "ALTER TABLE verifications ADD COLUMN binding TEXT",
            """
            CREATE TABLE notices (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, verification_id TEXT NOT NULL, kind TEXT NOT NULL,
                channel TEXT NOT NULL, to_number TEXT NOT NULL, country TEXT, operator TEXT, locale TEXT NOT NULL,
                purpose TEXT NOT NULL, created_at BIGINT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
                done BOOLEAN NOT NULL, lease_owner TEXT, lease_until BIGINT, finished_at BIGINT)
            """,
            "CREATE INDEX notices_due ON notices(created_at) WHERE NOT done",
            "CREATE INDEX notices_verification ON notices(verification_id)",
            "CREATE TABLE last_worked (tenant_id TEXT NOT NULL, to_number TEXT NOT NULL, channel TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (tenant_id, to_number))",
            """
            CREATE TABLE webhooks (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, url TEXT NOT NULL, events TEXT NOT NULL, secret_key_id TEXT NOT NULL,
                secret_box TEXT NOT NULL, created_at BIGINT NOT NULL, deleted_at BIGINT)
            """,
            "CREATE INDEX webhooks_tenant ON webhooks(tenant_id) WHERE deleted_at IS NULL",
            """
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, tenant_id TEXT NOT NULL, event_id TEXT NOT NULL, payload TEXT NOT NULL,
                status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at BIGINT NOT NULL, last_result TEXT, lease_owner TEXT,
                lease_until BIGINT, finished_at BIGINT)
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE status = 'pending'",
            "CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, next_at)",
        ]),
        (3, "provider_ids", [
            // Receipts of session protocols (SMPP) name the provider's message id only.
            "CREATE INDEX deliveries_provider_message ON deliveries(provider, provider_message_id) WHERE provider_message_id IS NOT NULL",
        ]),
        (4, "rollups", [
            // The cockpit's aggregates, added as events are sealed (minute and hour buckets).
            """
            CREATE TABLE rollups (
                span INTEGER NOT NULL, bucket BIGINT NOT NULL, tenant_id TEXT NOT NULL, metric TEXT NOT NULL,
                dimension TEXT NOT NULL, count BIGINT NOT NULL, total DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (span, bucket, tenant_id, metric, dimension))
            """,
        ]),
        (5, "limit_keys_by_value", [
            // A limit counter's key names the digest of the value it counts before the rule
            // (`lim|tenant|digest|rule[|purpose]`, was `lim|tenant|rule[|purpose]|digest`), so
            // the rules counting one number sit together. The digest is the key's last 24
            // characters; a rule name never holds a `|`.
            """
            UPDATE risk_state SET key = 'lim|' || split_part(key, '|', 2) || '|' || right(key, 24) || '|'
                || substr(key, length(split_part(key, '|', 2)) + 6, length(key) - length(split_part(key, '|', 2)) - 30)
            WHERE key LIKE 'lim|%|%|%'
            """,
        ]),
    ]
}

extension PostgresStore {
    /// Advisory lock ids of Sandi's cluster-wide critical sections.
    enum Lock: Int {
        case migrate = 0x5A4D_0001
        case auditHead = 0x5A4D_0002
    }

    /// The applied schema version and the versions still to apply.
    public func migrationStatus() async throws -> (current: Int, pending: [Int]) {
        if let schema = options.schema {
            // The name was checked to be a plain identifier when the options were made.
            try await read { tx in _ = try await tx.query("CREATE SCHEMA IF NOT EXISTS \(schema)") }
        }
        let current = try await write { tx in
            try await tx.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
            return try await tx.query("SELECT COALESCE(MAX(version), 0)::int8 AS v FROM schema_migrations").first?.optionalInt("v") ?? 0
        }
        return (current, PGMigrations.all.map(\.version).filter { $0 > current })
    }

    /// Applies every pending migration (up to `version`), each in its own transaction under a
    /// cluster-wide lock, so nodes migrating at once apply each version once.
    @discardableResult
    public func migrate(upTo version: Int = .max) async throws -> [Int] {
        _ = try await migrationStatus()
        var applied: [Int] = []
        for migration in PGMigrations.all where migration.version <= version {
            let ran = try await write { tx in
                try await tx.query("SELECT pg_advisory_xact_lock(\(Lock.migrate.rawValue))")
                let done = try await tx.query("SELECT 1 AS one FROM schema_migrations WHERE version = $1", [.int(migration.version)])
                guard done.isEmpty else { return false }
                for statement in migration.statements { try await tx.query(statement) }
                try await tx.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                                   [.int(migration.version), .text(migration.name), .ms(Date())])
                return true
            }
            if ran { applied.append(migration.version) }
        }
        return applied
    }

    /// Every migration's statements, for a dry run.
    public static func statements(of version: Int) -> [String] {
        PGMigrations.all.first { $0.version == version }?.statements ?? []
    }
}

extension PostgresStore {
    /// Removes this store's own schema (`options.schema`) and everything in it. For throw-away
    /// databases of tests; irreversible. Does nothing without a schema of its own.
    public func dropOwnSchema() async throws {
        guard let schema = options.schema, PostgresStoreOptions.isIdentifier(schema) else { return }
        try await read { tx in _ = try await tx.query("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
    }
}
