public import Hummingbird
public import Prometheus
public import SandiCore
public import SandiProviders

/// What the HTTP adapter needs from the rest of Sandi.
public struct HTTPDependencies: Sendable {
    public var service: VerificationService
    public var store: any SandiStore
    /// The simulator, when it is on (its `/v1/dev` endpoints exist only then).
    public var simulator: SimulatorProvider?
    public var registry: PrometheusCollectorRegistry
    public var metricsToken: String?
    public var webhooks: WebhookService?
    /// Providers' callback handlers (status callbacks, receipts) and Sandi's public URL.
    public var callbacks: [any CallbackHandler] = []
    public var publicURL: String?
    /// Tenants' message settings (`/v1/settings/messages`).
    public var messageSettings: MessageSettingsCache?
    /// Users, number changes and recovery (made from `service` when nil).
    public var accounts: AccountService?
    /// Routes of other adapters (the dashboard), registered on the same router.
    public var extraRoutes: [@Sendable (Router<SandiRequestContext>) -> Void] = []

    public init(service: VerificationService, store: any SandiStore, simulator: SimulatorProvider?, registry: PrometheusCollectorRegistry, metricsToken: String? = nil, webhooks: WebhookService? = nil, callbacks: [any CallbackHandler] = [], publicURL: String? = nil, messageSettings: MessageSettingsCache? = nil) {
        self.messageSettings = messageSettings
        self.webhooks = webhooks
        self.callbacks = callbacks
        self.publicURL = publicURL
        self.service = service
        self.store = store
        self.simulator = simulator
        self.registry = registry
        self.metricsToken = metricsToken
    }
}

/// Builds Sandi's HTTP responder: routes, authentication, metrics, and problem+json for every
/// error (unknown routes included).
public enum SandiRouter {
    public static func build(_ deps: HTTPDependencies) -> ProblemResponderBuilder<Router<SandiRequestContext>> {
        let router = Router(context: SandiRequestContext.self)
        // Metrics outermost, so they count the status a client really got (domain errors become
        // problem+json inside it).
        router.add(middleware: RequestMetricsMiddleware(registry: deps.registry))
        router.add(middleware: ProblemMiddleware())
        OpsController(store: deps.store, registry: deps.registry, metricsToken: deps.metricsToken).register(on: router)
        CallbackController(handlers: deps.callbacks, publicURL: deps.publicURL).register(on: router)
        for register in deps.extraRoutes { register(router) }

        let v1 = router.group("v1")
            .add(middleware: APIKeyMiddleware<SandiRequestContext>(store: deps.store) { $0.tenant = $1 })
            .group(context: TenantContext.self)
        let idempotency = IdempotencyGuard(store: deps.store, clock: deps.service.clock)
        VerificationController(service: deps.service, idempotency: idempotency).register(on: v1)
        let devices = TrustedDevices(store: deps.store, clock: deps.service.clock)
        DeviceController(devices: devices, groups: deps.service.groups, idempotency: idempotency).register(on: v1)
        AccountController(accounts: deps.accounts ?? AccountService(verifications: deps.service, devices: devices), idempotency: idempotency).register(on: v1)
        SettingsRoutes(path: "settings/groups", cache: deps.service.groups) { $0.problems }.register(on: v1)
        AssistController(assistant: AssistantService(service: deps.service), idempotency: idempotency).register(on: v1)
        ProviderController(providers: deps.service.providers, clock: deps.service.clock).register(on: v1)
        SettingsRoutes(path: "settings/routing", cache: deps.service.routing) { $0.problems }.register(on: v1)
        SettingsRoutes(path: "settings/messages", cache: deps.messageSettings ?? MessageSettingsCache(store: deps.store, clock: deps.service.clock)) { $0.problems }
            .register(on: v1)
        if let webhooks = deps.webhooks { WebhookController(webhooks: webhooks, idempotency: idempotency).register(on: v1) }
        RiskController(admin: RiskAdmin(store: deps.store, settings: deps.service.riskSettings, clock: deps.service.clock)).register(on: v1)
        if let simulator = deps.simulator {
            DevController(simulator: simulator, store: deps.store, parser: deps.service.parser, idempotency: idempotency).register(on: v1)
        }
        return ProblemResponderBuilder(router: router)
    }
}

/// Wraps the router so that requests matching no route also answer problem+json.
public struct ProblemResponderBuilder<Builder: HTTPResponderBuilder>: HTTPResponderBuilder where Builder.Responder.Context == SandiRequestContext {
    let router: Builder

    public func buildResponder() -> ProblemResponder<Builder.Responder> {
        ProblemResponder(inner: router.buildResponder())
    }
}

public struct ProblemResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == SandiRequestContext {
    let inner: Inner

    public func respond(to request: Request, context: SandiRequestContext) async throws -> Response {
        do {
            return try await inner.respond(to: request, context: context)
        } catch {
            return ProblemMiddleware<SandiRequestContext>.problem(for: error, logger: context.logger).response()
        }
    }
}
