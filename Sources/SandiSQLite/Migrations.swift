/// Versioned schema migrations, applied in order; each runs once, in its own transaction.
enum SQLiteMigrations {
    /// `(version, name, statements)`; never edit a released migration, add a new one.
    static let all: [(version: Int, name: String, statements: [String])] = [
        (1, "core", [
            """
            CREATE TABLE tenants (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, allowed_countries TEXT)
            """,
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), hash TEXT NOT NULL UNIQUE,
                hint TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER)
            """,
            """
            CREATE TABLE verifications (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, to_number TEXT NOT NULL, country TEXT, operator TEXT,
                purpose TEXT NOT NULL, user_ref TEXT, locale TEXT NOT NULL, code_length INTEGER NOT NULL,
                code_key_id TEXT NOT NULL, code_mac TEXT NOT NULL, sealed_key_id TEXT, sealed_box TEXT,
                status TEXT NOT NULL, channel TEXT, plan TEXT NOT NULL, plan_index INTEGER NOT NULL,
                created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                attempts_used INTEGER NOT NULL, max_attempts INTEGER NOT NULL, sends_used INTEGER NOT NULL,
                max_sends INTEGER NOT NULL, resends INTEGER NOT NULL, resend_available_at INTEGER NOT NULL,
                context TEXT NOT NULL, risk TEXT NOT NULL)
            """,
            "CREATE INDEX verifications_live ON verifications(tenant_id, to_number, purpose) WHERE status = 'pending'",
            "CREATE INDEX verifications_expiry ON verifications(expires_at) WHERE status = 'pending'",
            """
            CREATE TABLE deliveries (
                id TEXT PRIMARY KEY, verification_id TEXT NOT NULL, tenant_id TEXT NOT NULL, channel TEXT NOT NULL,
                provider TEXT NOT NULL, status TEXT NOT NULL, plan_index INTEGER NOT NULL, queued_at INTEGER NOT NULL,
                sent_at INTEGER, delivered_at INTEGER, read_at INTEGER, failed_at INTEGER, error TEXT,
                provider_message_id TEXT)
            """,
            "CREATE INDEX deliveries_verification ON deliveries(verification_id, queued_at)",
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY, delivery_id TEXT NOT NULL, verification_id TEXT NOT NULL, tenant_id TEXT NOT NULL,
                kind TEXT NOT NULL DEFAULT 'send', due_at INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,
                lease_owner TEXT, lease_until INTEGER,
                attempts INTEGER NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX jobs_due ON jobs(due_at) WHERE done = 0",
            "CREATE INDEX jobs_verification ON jobs(verification_id) WHERE done = 0",
            """
            CREATE TABLE events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
                verification_id TEXT, type TEXT NOT NULL, created_at INTEGER NOT NULL, data TEXT NOT NULL)
            """,
            "CREATE INDEX events_verification ON events(verification_id, seq)",
            """
            CREATE TABLE audit_links (
                seq INTEGER PRIMARY KEY, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)
            """,
            """
            CREATE TABLE failed_checks (
                tenant_id TEXT NOT NULL, to_number TEXT NOT NULL, purpose TEXT NOT NULL, count INTEGER NOT NULL,
                last_failed_at INTEGER NOT NULL, PRIMARY KEY (tenant_id, to_number, purpose))
            """,
            """
            CREATE TABLE grants (
                token_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, verification_id TEXT NOT NULL, user_ref TEXT,
                to_number TEXT NOT NULL, purpose TEXT NOT NULL, created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL, redeemed_at INTEGER)
            """,
            """
            CREATE TABLE idempotency (
                tenant_id TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
                status INTEGER, body BLOB, content_type TEXT, created_at INTEGER NOT NULL,
                PRIMARY KEY (tenant_id, scope, key))
            """,
            """
            CREATE TABLE outbox (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, delivery_id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
                to_number TEXT NOT NULL, text_key_id TEXT NOT NULL, text_box TEXT NOT NULL, code_key_id TEXT,
                code_box TEXT, sent_at INTEGER NOT NULL)
            """,
            "CREATE INDEX outbox_to ON outbox(tenant_id, to_number, sent_at)",
            """
            CREATE TABLE channel_memory (
                tenant_id TEXT NOT NULL, to_number TEXT NOT NULL, channel TEXT NOT NULL, unusable_until INTEGER NOT NULL,
                PRIMARY KEY (tenant_id, to_number, channel))
            """,
        ]),
        (2, "risk", [
            // Keyed state of the risk rules: limit counters, user profiles, prefix counters and
            // blocks, trusted devices, tenant risk settings. A value may be purged once expired.
            """
            CREATE TABLE risk_state (
                key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID
            """,
            "CREATE INDEX risk_state_expiry ON risk_state(expires_at)",
            // The transaction a sensitive_action code is bound to (dynamic linking), as JSON.
            "ALTER TABLE verifications ADD COLUMN binding TEXT",
            // Security notices (no code in them), claimed with leases like delivery jobs.
            """
            CREATE TABLE notices (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, verification_id TEXT NOT NULL, kind TEXT NOT NULL,
                channel TEXT NOT NULL, to_number TEXT NOT NULL, country TEXT, operator TEXT, locale TEXT NOT NULL,
                purpose TEXT NOT NULL, created_at INTEGER NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
                done INTEGER NOT NULL, lease_owner TEXT, lease_until INTEGER, finished_at INTEGER)
            """,
            "CREATE INDEX notices_due ON notices(created_at) WHERE done = 0",
            "CREATE INDEX notices_verification ON notices(verification_id)",
            // The channel that last got a code to each number (routing prefers it next time).
            "CREATE TABLE last_worked (tenant_id TEXT NOT NULL, to_number TEXT NOT NULL, channel TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (tenant_id, to_number)) WITHOUT ROWID",
            // Tenant webhooks (secret sealed: it signs) and their durable delivery queue.
            "CREATE TABLE webhooks (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, url TEXT NOT NULL, events TEXT NOT NULL, secret_key_id TEXT NOT NULL, secret_box TEXT NOT NULL, created_at INTEGER NOT NULL, deleted_at INTEGER)",
            "CREATE INDEX webhooks_tenant ON webhooks(tenant_id) WHERE deleted_at IS NULL",
            "CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, tenant_id TEXT NOT NULL, event_id TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, last_result TEXT, lease_owner TEXT, lease_until INTEGER, finished_at INTEGER)",
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
                span INTEGER NOT NULL, bucket INTEGER NOT NULL, tenant_id TEXT NOT NULL, metric TEXT NOT NULL,
                dimension TEXT NOT NULL, count INTEGER NOT NULL, total REAL NOT NULL,
                PRIMARY KEY (span, bucket, tenant_id, metric, dimension)) WITHOUT ROWID
            """,
        ]),
        (5, "limit_keys_by_value", [
            // A limit counter's key names the digest of the value it counts before the rule
            // (`lim|tenant|digest|rule[|purpose]`, was `lim|tenant|rule[|purpose]|digest`), so
            // the rules counting one number sit on one page instead of one page each. The digest
            // is the key's last 24 characters; a rule name never holds a `|`.
            """
            UPDATE risk_state SET key = 'lim|' || substr(key, 5, instr(substr(key, 5), '|')) || substr(key, -24) || '|'
                || substr(key, 5 + instr(substr(key, 5), '|'), length(key) - 29 - instr(substr(key, 5), '|'))
            WHERE key LIKE 'lim|%|%|%'
            """,
        ]),
    ]
}
