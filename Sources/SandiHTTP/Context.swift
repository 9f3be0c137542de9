public import Hummingbird
public import SandiCore

/// The request context of every request: the tenant once an API key proved it.
public struct SandiRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``APIKeyMiddleware`` when the request carries a valid key.
    public var tenant: Tenant?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
    }

    /// Larger bodies are refused with 413 before they are read.
    public var maxUploadSize: Int { HTTPLimits.maxBody }
}

/// The context of tenant routes: the tenant is proven, so it is not optional.
public struct TenantContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: Tenant

    public init(context: SandiRequestContext) throws {
        guard let tenant = context.tenant else { throw APIProblem.unauthorized }
        self.coreContext = context.coreContext
        self.tenant = tenant
    }

    public var maxUploadSize: Int { HTTPLimits.maxBody }
}

/// Limits on what a client may send.
public enum HTTPLimits {
    /// Request bodies over 16 KiB answer 413.
    public static let maxBody = 16 * 1024
}
