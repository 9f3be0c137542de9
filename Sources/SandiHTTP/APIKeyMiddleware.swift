import Foundation
public import Hummingbird
import HTTPTypes
public import SandiCore
import Synchronization

/// Finds the tenant of a request's `Authorization: Bearer <key>`. Keys are looked up by their
/// SHA-256; found keys are cached for a few seconds, so a revocation takes effect within that time.
public final class APIKeyMiddleware<Context: RequestContext>: RouterMiddleware, Sendable {
    private let store: any TenantStore
    private let cacheSeconds: Double
    private let cache = Mutex<[String: (tenant: Tenant, at: ContinuousClock.Instant)]>([:])
    private let assign: @Sendable (inout Context, Tenant) -> Void

    public init(store: any TenantStore, cacheSeconds: Double = 5, assign: @escaping @Sendable (inout Context, Tenant) -> Void) {
        self.store = store
        self.cacheSeconds = cacheSeconds
        self.assign = assign
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let tenant = try await tenant(for: request) { assign(&context, tenant) }
        return try await next(request, context)
    }

    private func tenant(for request: Request) async throws -> Tenant? {
        guard let header = request.headers[.authorization], header.utf8.count <= 256 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        // Optional whitespace around a field value is spaces and tabs (RFC 9110, 5.6.3).
        let raw = parts[1]
        guard let first = raw.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = raw.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return nil }
        let key = String(raw[first...last])
        let hash = SecretHash.hex(key)
        let now = ContinuousClock.now
        if let hit = cache.withLock({ $0[hash] }), now - hit.at < .seconds(cacheSeconds) { return hit.tenant }
        guard let tenant = try await store.tenant(forKeyHash: hash) else {
            cache.withLock { _ = $0.removeValue(forKey: hash) }
            return nil
        }
        cache.withLock { entries in
            if entries.count > 10_000 { entries.removeAll(keepingCapacity: true) }
            entries[hash] = (tenant, now)
        }
        return tenant
    }
}
