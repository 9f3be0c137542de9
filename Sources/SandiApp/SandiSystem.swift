import Foundation
public import Hummingbird
public import Logging
public import Prometheus
public import SandiCore
import SandiHTTP
public import SandiDashboard
public import SandiProviders
import SandiSQLite
public import SandiWorkers
import ServiceLifecycle

/// Errors that stop Sandi from starting.
public enum StartupError: Error, CustomStringConvertible {
    case refused([String])
    case unsupportedDatabase(String)

    public var description: String {
        switch self {
        case .refused(let problems): "refusing to start: " + problems.joined(separator: "; ")
        case .unsupportedDatabase(let scheme): "database URL scheme \(scheme) is not supported (postgres:// or unset for the embedded SQLite default)"
        }
    }
}

/// Everything Sandi is made of, wired together: the composition root. Nothing else builds adapters.
public struct SandiSystem: Sendable {
    public let configuration: SandiConfiguration
    public let store: any SandiStore
    public let keyring: Keyring
    public let clock: any TimeSource
    public let simulator: SimulatorProvider?
    /// The SMPP bind, when an SMSC is configured (a service of its own while serving).
    public let smpp: SMPPProvider?
    /// Services of the real providers (sessions kept up while serving).
    let providerServices: [any Service]
    /// Handlers of the providers' callbacks (`/v1/callbacks/…`).
    public let callbacks: [any CallbackHandler]
    public let service: VerificationService
    public let worker: DeliveryWorker
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger
    /// The database's clock when the storage is PostgreSQL (kept aligned while serving).
    public var databaseClock: DatabaseClock?
    private let closeStore: @Sendable () async throws -> Void

    /// Opens storage (applying migrations on the embedded default; PostgreSQL must be migrated
    /// already), loads the keys, and builds the providers, the service and the worker. On
    /// PostgreSQL the database's clock is every node's time source.
    public static func open(_ configuration: SandiConfiguration, clock: (any TimeSource)? = nil, logger: Logger) async throws -> SandiSystem {
        let problems = configuration.startupProblems
        guard problems.isEmpty else { throw StartupError.refused(problems) }
        let storage = try await OpenedStorage.open(configuration, migrate: true, logger: logger)
        do {
            try await storage.requireCurrentSchema()
            var time: any TimeSource = clock ?? SystemTimeSource()
            var databaseClock: DatabaseClock?
            if clock == nil, let postgres = storage.postgres {
                let aligned = DatabaseClock { try await postgres.databaseNow() }
                let offset = try await aligned.refresh()
                logger.info("clock aligned to the database", metadata: ["offset_ms": "\(Int(offset * 1000))"])
                time = aligned
                databaseClock = aligned
            }
            let keyring = try configuration.codeKeys.map(KeyringFile.parse) ?? KeyringFile.loadOrCreate(directory: configuration.dataDirectory)
            var system = build(configuration: configuration, store: storage.store, keyring: keyring, clock: time, logger: logger, close: storage.close)
            system.databaseClock = databaseClock
            return system
        } catch {
            try? await storage.close()
            throw error
        }
    }

    /// Builds the system over a given store (tests use this with the in-memory store).
    public static func build(configuration: SandiConfiguration, store: any SandiStore, keyring: Keyring, clock: any TimeSource, logger: Logger, close: @escaping @Sendable () async throws -> Void = {}) -> SandiSystem {
        let hasher = CodeHasher(keyring: keyring)
        let doorbell = Doorbell()
        let registry = PrometheusCollectorRegistry()
        let metrics = PrometheusVerificationMetrics(registry: registry)
        let simulator = configuration.simulatorEnabled ? SimulatorProvider(outbox: store, hasher: hasher, clock: clock) : nil
        let smpp = configuration.smpp.map { s in
            SMPPProvider(options: .init(host: s.host, port: s.port, systemID: s.systemID, password: s.password, systemType: s.systemType, source: s.source),
                         lookup: store, clock: clock, signal: doorbell, logger: logger)
        }
        let breakers = BreakerBoard { provider, channel, op, state in metrics.breakerChanged(provider: provider, channel: channel, operator: op, state: state) }
        // A real SMS route comes before the simulator's (lower priority first).
        let assembly = ProviderAssembly.build(configuration.providers, store: store, clock: clock, signal: doorbell, logger: logger)
        let channelProviders: [any ChannelProvider] = assembly.channelProviders + (smpp.map { [$0] } ?? []) + (simulator.map { [$0] } ?? [])
        let providers = ProviderRegistry(channelProviders, breakers: breakers)
        let simSwap = configuration.simSwapURL.map { url in
            CamaraSimSwap(options: .init(apiRoot: url, token: configuration.simSwapToken ?? "",
                                         timeout: .milliseconds(configuration.simSwapTimeoutMs)), logger: logger)
        }
        let service = VerificationService(
            store: store, hasher: hasher, clock: clock, providers: providers,
            options: VerificationOptions(policies: configuration.policies, plan: configuration.plan), signal: doorbell, metrics: metrics,
            riskSettings: RiskSettingsCache(store: store, defaults: configuration.riskSettings, clock: clock), simSwap: simSwap)
        let processor = DeliveryProcessor(
            store: store, hasher: hasher, clock: clock, providers: providers,
            renderer: MessageRenderer(brand: configuration.brand), signal: doorbell, metrics: metrics)
        let webhooks = WebhookService(store: store, hasher: hasher, clock: clock, sender: HTTPWebhookSender())
        let worker = DeliveryWorker(
            processor: processor, doorbell: doorbell, options: DeliveryWorkerOptions(leaseSeconds: Double(configuration.leaseSeconds), auditRetentionSeconds: configuration.auditRetentionDays.map { Double($0) * 86_400 }), receiptSources: (simulator.map { [$0] } ?? []) + (smpp.map { [$0] } ?? []) + assembly.receiptSources, webhooks: webhooks, logger: logger)
        let context = CallbackContext(recorder: ReceiptRecorder(lookup: store, processor: processor), assistant: AssistantService(service: service))
        return SandiSystem(
            configuration: configuration, store: store, keyring: keyring, clock: clock, simulator: simulator, smpp: smpp,
            providerServices: assembly.services, callbacks: assembly.callbacks.map { $0(context) },
            service: service, worker: worker, registry: registry, logger: logger, closeStore: close)
    }

    /// Opens the configured storage for administrative commands (migrations applied on SQLite;
    /// PostgreSQL must be migrated already).
    public static func openStorage(_ configuration: SandiConfiguration) async throws -> (any SandiStore, @Sendable () async throws -> Void) {
        let storage = try await OpenedStorage.open(configuration, migrate: true)
        do {
            try await storage.requireCurrentSchema()
        } catch {
            try? await storage.close()
            throw error
        }
        return (storage.store, storage.close)
    }

    /// The HTTP application.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var dependencies = HTTPDependencies(
            service: service, store: store, simulator: simulator, registry: registry, metricsToken: configuration.metricsToken, webhooks: worker.webhooks,
            callbacks: callbacks, publicURL: configuration.providers.publicURL, messageSettings: worker.processor.messageSettings)
        if configuration.dashboardEnabled {
            let dashboard = DashboardController(dashboardDependencies)
            dependencies.extraRoutes.append { dashboard.register(on: $0) }
        }
        let router = SandiRouter.build(dependencies)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "Sandi"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }

    /// The dashboard's accounts over an opened store, with the configured code keys (the TOTP
    /// secrets are sealed under them): for `sandi admin`.
    public static func admins(_ configuration: SandiConfiguration, store: any SandiStore) throws -> AdminDirectory {
        let keyring = try configuration.codeKeys.map(KeyringFile.parse) ?? KeyringFile.loadOrCreate(directory: configuration.dataDirectory)
        return AdminDirectory(store: store, hasher: CodeHasher(keyring: keyring), clock: SystemTimeSource(), scryptLogN: configuration.dashboardScryptLogN)
    }

    /// The dashboard's accounts (`sandi admin …`).
    public var admins: AdminDirectory {
        AdminDirectory(store: store, hasher: CodeHasher(keyring: keyring), clock: clock, scryptLogN: configuration.dashboardScryptLogN)
    }

    var dashboardDependencies: DashboardDependencies {
        DashboardDependencies(
            store: store, hasher: CodeHasher(keyring: keyring), clock: clock, service: service, messageSettings: worker.processor.messageSettings,
            webhooks: worker.webhooks, admins: admins, secureCookies: configuration.dashboardSecureCookies)
    }

    /// Creates the `demo` tenant on a first start with no tenants, writes its key to
    /// `<data-dir>/demo-api-key` (0600) and returns the key (shown once).
    public func bootstrapDemoTenant() async throws -> String? {
        guard configuration.createDemoTenant, try await store.tenants().isEmpty else { return nil }
        let now = clock.now
        let tenant = Tenant(id: Identifier.make(.tenant), name: "demo", createdAt: now)
        do {
            try await store.createTenant(tenant)
        } catch StoreError.conflict {
            return nil  // another node of the same database created it first
        }
        let (key, record) = APIKeyRecord.generate(tenantID: tenant.id, now: now)
        try await store.addKey(record)
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        try SecretFile.write(Data((key + "\n").utf8), to: configuration.dataDirectory + "/demo-api-key")
        return key
    }

    /// Closes storage.
    public func close() async throws { try await closeStore() }

    /// Runs the HTTP server and the worker until SIGTERM/SIGINT; in-flight requests and sends
    /// finish, queued deliveries stay queued for the next start.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        // The service group's own lines (signal received, each service started and finished,
        // graceful shutdown cascading or timing out) are debug lines; they are few and they are
        // what tells which service a slow shutdown waits for, so they are always kept.
        var lifecycleLogger = logger
        lifecycleLogger.logLevel = .debug
        var groupConfiguration = ServiceGroupConfiguration(
            services: (databaseClock.map { [.init(service: ClockAlignment(clock: $0, logger: logger))] } ?? [])
                + (smpp.map { [.init(service: $0)] } ?? [])
                + providerServices.map { .init(service: $0) }
                + [.init(service: worker), .init(service: application(onServerRunning: onServerRunning))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: lifecycleLogger)
        // Sends in flight finish within their lease; a service that has not stopped by then is cancelled.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch {
            logger.notice("services stopped with an error", metadata: ["error": "\(type(of: error))"])
            try? await close()
            throw error
        }
        logger.info("services stopped; closing storage")
        try await close()
        logger.info("storage closed")
    }
}
