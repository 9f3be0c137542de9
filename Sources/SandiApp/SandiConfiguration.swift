public import Configuration
public import Foundation
public import SandiCore

/// Sandi's typed configuration, read once at start. Keys (environment variable in brackets):
/// `sandi.host` (SANDI_HOST, 127.0.0.1), `sandi.port` (SANDI_PORT, 8080), `sandi.data.dir`
/// (SANDI_DATA_DIR, ./sandi-data), `sandi.database.url` (SANDI_DATABASE_URL or DATABASE_URL, secret:
/// `postgres://user:password@host:5432/db?sslmode=require` runs on PostgreSQL; unset: the embedded
/// SQLite file), `sandi.postgres.pool_max` (SANDI_POSTGRES_POOL_MAX, 20), `sandi.postgres.schema`
/// (SANDI_POSTGRES_SCHEMA), `sandi.worker.lease_seconds` (SANDI_WORKER_LEASE_SECONDS, 10), `sandi.env`
/// (SANDI_ENV: development | production), `sandi.simulator.enabled` (SANDI_SIMULATOR_ENABLED),
/// `sandi.code.keys` (SANDI_CODE_KEYS, secret: `kid:base64[,kid:base64…]`, current first),
/// `sandi.metrics.token` (SANDI_METRICS_TOKEN, secret), `sandi.brand` (SANDI_BRAND),
/// `sandi.sqlite.synchronous` (SANDI_SQLITE_SYNCHRONOUS: FULL | NORMAL), `sandi.sqlite.cache_mib`
/// (SANDI_SQLITE_CACHE_MIB, 16: the writer's page cache), `sandi.log.level`
/// (SANDI_LOG_LEVEL), `sandi.demo.tenant` (SANDI_DEMO_TENANT, true). Per purpose
/// (`password_reset`, `login`, …): `sandi.policy.<purpose>.ttl`, `.code_length`, `.max_attempts`,
/// `.max_sends`, `.cooldowns` (comma-separated seconds), `.grant_ttl` (SANDI_POLICY_LOGIN_TTL, …);
/// `sandi.checks.max_failed` and `sandi.checks.failed_window` for wrong codes across verifications.
/// `sandi.plan` (SANDI_PLAN: the fallback plan, `whatsapp:40,sms:45,voice`).
/// Risk: `sandi.risk.settings` (SANDI_RISK_SETTINGS: a JSON file with the default risk settings
/// document, the same shape as `PUT /v1/settings/risk`), `sandi.simswap.url` (SANDI_SIMSWAP_URL: a
/// CAMARA API root), `sandi.simswap.token` (SANDI_SIMSWAP_TOKEN, secret), `sandi.simswap.timeout_ms`.
/// SMS over SMPP: `sandi.smpp.host` (SANDI_SMPP_HOST; set to enable), `.port` (2775), `.system_id`,
/// `.password` (secret), `.system_type`, `.source` (the sender shown; default the brand).
public struct SandiConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: String
    public var databaseURL: String?
    /// Connections per node to PostgreSQL at most (`sandi.postgres.pool_max`; default 20).
    public var postgresPoolMax: Int?
    /// Seconds a node holds a claimed delivery job before another node may take it over
    /// (`sandi.worker.lease_seconds`, default 10): longer than any provider call may take, much
    /// shorter than a code lives.
    public var leaseSeconds: Int
    /// An SMSC account for SMS over SMPP (`sandi.smpp.*`); nil: none.
    public var smpp: SMPPSettings?
    /// HTTP providers (Twilio, …) and Sandi's public URL for their callbacks.
    public var providers: ProviderSettings
    /// Days of events kept in the audit trail (`sandi.audit.retention_days`; nil: forever).
    public var auditRetentionDays: Int?
    /// The dashboard at /dashboard (`sandi.dashboard.enabled`, default on).
    public var dashboardEnabled: Bool
    /// Session cookies marked `Secure` (`sandi.dashboard.secure_cookies`; default on in
    /// production or when `sandi.public_url` is https).
    public var dashboardSecureCookies: Bool
    /// scrypt cost of dashboard passwords, log2 N (`sandi.dashboard.scrypt_log_n`, 15).
    public var dashboardScryptLogN: Int
    /// The PostgreSQL schema of Sandi's tables (`sandi.postgres.schema`; default `public`).
    public var postgresSchema: String?
    public var production: Bool
    public var simulatorEnabled: Bool
    /// Code keys given by configuration (`kid:base64`), current first; nil: use the data directory's key file.
    public var codeKeys: String?
    public var metricsToken: String?
    public var brand: String
    public var sqliteSynchronous: String
    /// MiB of page cache for the SQLite writer (`sandi.sqlite.cache_mib`, 16).
    public var sqliteCacheMiB: Int
    public var logLevel: String
    /// Whether a first start with no tenants creates the `demo` tenant and prints its key.
    public var createDemoTenant: Bool
    /// Code policies per purpose and the limit on wrong codes across verifications.
    public var policies: PolicySet
    /// The risk settings of tenants that saved none of their own.
    public var riskSettings: RiskSettings = .defaults
    /// Why the risk settings file could not be used (a startup problem).
    public var riskSettingsProblem: String?
    public var simSwapURL: String?
    public var simSwapToken: String?
    public var simSwapTimeoutMs: Int
    /// The default fallback plan (`sandi.plan`, e.g. `whatsapp:40,sms:45,voice`).
    public var plan: DeliveryPlan = .standard
    public var planProblem: String?

    /// The example code key printed in the README, refused in production.
    public static let documentedExampleKey = "k1:c2FuZGktZXhhbXBsZS1rZXktZG8tbm90LXVzZS1pbi1wcm9kISE="

    public init(reader: ConfigReader) {
        let env = reader.string(forKey: "sandi.env", default: "development").lowercased()
        production = env == "production" || env == "prod"
        host = reader.string(forKey: "sandi.host", default: "127.0.0.1")
        port = reader.int(forKey: "sandi.port", default: 8080)
        dataDirectory = reader.string(forKey: "sandi.data.dir", default: "./sandi-data")
        databaseURL = (reader.string(forKey: "sandi.database.url", isSecret: true) ?? reader.string(forKey: "database.url", isSecret: true))
            .flatMap { $0.isEmpty ? nil : $0 }
        postgresPoolMax = reader.int(forKey: "sandi.postgres.pool_max")
        leaseSeconds = reader.int(forKey: "sandi.worker.lease_seconds", default: 10)
        if let host = reader.string(forKey: "sandi.smpp.host").flatMap({ $0.isEmpty ? nil : $0 }) {
            smpp = SMPPSettings(
                host: host, port: reader.int(forKey: "sandi.smpp.port", default: 2775),
                systemID: reader.string(forKey: "sandi.smpp.system_id", default: ""),
                password: reader.string(forKey: "sandi.smpp.password", isSecret: true) ?? "",
                systemType: reader.string(forKey: "sandi.smpp.system_type", default: ""),
                source: reader.string(forKey: "sandi.smpp.source") ?? reader.string(forKey: "sandi.brand", default: "Sandi"))
        }
        providers = ProviderSettings(reader: reader)
        auditRetentionDays = reader.int(forKey: "sandi.audit.retention_days")
        dashboardEnabled = reader.bool(forKey: "sandi.dashboard.enabled", default: true)
        dashboardSecureCookies = reader.bool(forKey: "sandi.dashboard.secure_cookies",
                                             default: production || (providers.publicURL?.hasPrefix("https://") ?? false))
        dashboardScryptLogN = reader.int(forKey: "sandi.dashboard.scrypt_log_n", default: 15)
        postgresSchema = reader.string(forKey: "sandi.postgres.schema").flatMap { $0.isEmpty ? nil : $0 }
        simulatorEnabled = reader.bool(forKey: "sandi.simulator.enabled", default: !production)
        codeKeys = reader.string(forKey: "sandi.code.keys", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        metricsToken = reader.string(forKey: "sandi.metrics.token", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        brand = reader.string(forKey: "sandi.brand", default: "Sandi")
        sqliteSynchronous = reader.string(forKey: "sandi.sqlite.synchronous", default: "FULL")
        sqliteCacheMiB = reader.int(forKey: "sandi.sqlite.cache_mib", default: 16)
        logLevel = reader.string(forKey: "sandi.log.level", default: "info")
        createDemoTenant = reader.bool(forKey: "sandi.demo.tenant", default: !production)
        var policies = PolicySet.defaults
        for purpose in Purpose.allCases {
            var policy = policies.policy(for: purpose)
            let prefix = "sandi.policy.\(purpose.rawValue)."
            policy.ttlSeconds = reader.int(forKey: ConfigKey(prefix + "ttl"), default: policy.ttlSeconds)
            policy.codeLength = reader.int(forKey: ConfigKey(prefix + "code_length"), default: policy.codeLength)
            policy.maxAttempts = reader.int(forKey: ConfigKey(prefix + "max_attempts"), default: policy.maxAttempts)
            policy.maxSends = reader.int(forKey: ConfigKey(prefix + "max_sends"), default: policy.maxSends)
            policy.resendCooldowns = reader.intArray(forKey: ConfigKey(prefix + "cooldowns"), default: policy.resendCooldowns)
            policy.grantTTLSeconds = reader.int(forKey: ConfigKey(prefix + "grant_ttl"), default: policy.grantTTLSeconds)
            policies.byPurpose[purpose] = policy
        }
        policies.maxFailedChecksPerDestination = reader.int(forKey: "sandi.checks.max_failed", default: policies.maxFailedChecksPerDestination)
        policies.failedCheckWindowSeconds = reader.int(forKey: "sandi.checks.failed_window", default: policies.failedCheckWindowSeconds)
        self.policies = policies
        simSwapURL = reader.string(forKey: "sandi.simswap.url").flatMap { $0.isEmpty ? nil : $0 }
        simSwapToken = reader.string(forKey: "sandi.simswap.token", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        simSwapTimeoutMs = reader.int(forKey: "sandi.simswap.timeout_ms", default: 1500)
        if let text = reader.string(forKey: "sandi.plan").flatMap({ $0.isEmpty ? nil : $0 }) {
            if let parsed = DeliveryPlan(parsing: text) { plan = parsed } else {
                planProblem = "sandi.plan must be steps like whatsapp:40,sms:45,voice (each channel once, timeouts 1–600 s)"
            }
        }
        if let path = reader.string(forKey: "sandi.risk.settings").flatMap({ $0.isEmpty ? nil : $0 }) {
            do {
                let settings = try JSONDecoder().decode(RiskSettings.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
                let problems = settings.problems
                if problems.isEmpty {
                    riskSettings = settings
                } else {
                    riskSettingsProblem = "risk settings \(path): " + problems.map { "\($0.field) \($0.reason)" }.joined(separator: ", ")
                }
            } catch {
                riskSettingsProblem = "risk settings \(path) could not be read as a settings document"
            }
        }
    }

    /// Reads configuration from, in order of precedence: `overrides` (command-line flags), the
    /// environment, and the JSON file at `file` (when given).
    public static func load(overrides: [String: String] = [:], file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> SandiConfiguration {
        var providers: [any ConfigProvider] = []
        // Flags read exactly like environment variables (`sandi.smpp.host` is SANDI_SMPP_HOST):
        // text is converted to the type each key asks for, so "+15005550006" stays text.
        var flags: [String: String] = [:]
        for (key, value) in overrides {
            flags[key.uppercased().replacingOccurrences(of: ".", with: "_")] = value
        }
        providers.append(EnvironmentVariablesProvider(environmentVariables: flags))
        providers.append(EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(Set(["SANDI_CODE_KEYS", "SANDI_METRICS_TOKEN", "SANDI_DATABASE_URL", "DATABASE_URL", "SANDI_SIMSWAP_TOKEN", "SANDI_SMPP_PASSWORD"] + ProviderSettings.secretVariables))))
        if let file = file ?? environment["SANDI_CONFIG"] {
            providers.append(try await FileProvider<JSONSnapshot>(filePath: .init(file)))
        }
        return SandiConfiguration(reader: ConfigReader(providers: providers))
    }

    /// Problems that forbid starting; in production: the simulator on, or default or missing secrets.
    public var startupProblems: [String] {
        var problems: [String] = []
        if !(0...65_535).contains(port) { problems.append("port must be 0–65535") }
        for purpose in Purpose.allCases {
            for problem in policies.policy(for: purpose).problems { problems.append("policy \(purpose.rawValue): \(problem)") }
        }
        if !(1...100).contains(policies.maxFailedChecksPerDestination) { problems.append("sandi.checks.max_failed must be 1–100 (NIST: at most 100)") }
        if policies.failedCheckWindowSeconds < 60 { problems.append("sandi.checks.failed_window must be at least 60 s") }
        if let riskSettingsProblem { problems.append(riskSettingsProblem) }
        if let planProblem { problems.append(planProblem) }
        if simSwapURL != nil, simSwapToken == nil { problems.append("sandi.simswap.url needs sandi.simswap.token") }
        if !(100...30_000).contains(simSwapTimeoutMs) { problems.append("sandi.simswap.timeout_ms must be 100–30000") }
        if let pool = postgresPoolMax, !(1...500).contains(pool) { problems.append("sandi.postgres.pool_max must be 1–500") }
        if !(2...300).contains(leaseSeconds) { problems.append("sandi.worker.lease_seconds must be 2–300") }
        if !(1...4096).contains(sqliteCacheMiB) { problems.append("sandi.sqlite.cache_mib must be 1–4096") }
        if let smpp {
            if !(1...65_535).contains(smpp.port) { problems.append("sandi.smpp.port must be 1–65535") }
            if smpp.systemID.isEmpty || smpp.systemID.count > 15 { problems.append("sandi.smpp.system_id must be 1–15 characters") }
            if smpp.password.count > 8 { problems.append("sandi.smpp.password must be at most 8 characters (SMPP 3.4)") }
            if smpp.source.isEmpty || smpp.source.count > 20 { problems.append("sandi.smpp.source must be 1–20 characters (11 for an alphanumeric sender)") }
        }
        problems += providers.problems
        if let days = auditRetentionDays, !(1...36_500).contains(days) { problems.append("sandi.audit.retention_days must be 1–36500") }
        if !(10...20).contains(dashboardScryptLogN) { problems.append("sandi.dashboard.scrypt_log_n must be 10–20") }
        if databaseURL != nil, codeKeys == nil {
            problems.append("on PostgreSQL every node must hash codes with the same keys: set SANDI_CODE_KEYS (the same on every node), not a generated key file")
        }
        guard production else { return problems }
        if simulatorEnabled { problems.append("production refuses to start with the simulator on (SANDI_SIMULATOR_ENABLED=false)") }
        if let keys = codeKeys {
            if keys.contains(Self.documentedExampleKey) { problems.append("production refuses the example code key from the README") }
        } else {
            problems.append("production needs code keys from configuration (SANDI_CODE_KEYS), not generated ones")
        }
        return problems
    }
}

/// One SMSC account for SMS over SMPP.
public struct SMPPSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var systemID: String
    public var password: String
    public var systemType: String
    /// The sender shown on phones: a brand (alphanumeric, ≤ 11) or a number.
    public var source: String
}
