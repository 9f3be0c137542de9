import Foundation
public import SandiCore

/// Tenant and key administration used by the CLI.
public struct TenantAdmin: Sendable {
    public let store: any TenantStore
    public let clock: any TimeSource

    public init(store: any TenantStore, clock: any TimeSource = SystemTimeSource()) {
        self.store = store
        self.clock = clock
    }

    public enum AdminError: Error, CustomStringConvertible {
        case invalidName(String)
        case exists(String)
        case unknownKey(String)
        case unknownTenant(String)
        case unknownCountry(String)

        public var description: String {
            switch self {
            case .invalidName(let n): "invalid tenant name '\(n)': use 1–64 of a-z 0-9 - _ ."
            case .exists(let n): "tenant '\(n)' already exists"
            case .unknownKey(let id): "no live key \(id)"
            case .unknownTenant(let n): "no tenant '\(n)'"
            case .unknownCountry(let c): "unknown country code '\(c)'"
            }
        }
    }

    /// Creates a tenant.
    /// Creates a tenant; with a `region`, its geo permission starts as that country alone.
    public func createTenant(named name: String, region: String? = nil) async throws -> Tenant {
        guard Tenant.isValidName(name) else { throw AdminError.invalidName(name) }
        if try await store.tenant(named: name) != nil { throw AdminError.exists(name) }
        let tenant = Tenant(id: Identifier.make(.tenant), name: name, createdAt: clock.now, allowedCountries: region.map { [$0] })
        try await store.createTenant(tenant)
        return tenant
    }

    /// Creates a key for the tenant (creating the tenant if needed); returns the key, shown once.
    public func createKey(tenantName: String) async throws -> (key: String, record: APIKeyRecord) {
        let tenant: Tenant
        if let existing = try await store.tenant(named: tenantName) {
            tenant = existing
        } else {
            tenant = try await createTenant(named: tenantName)
        }
        let created = APIKeyRecord.generate(tenantID: tenant.id, now: clock.now)
        try await store.addKey(created.record)
        return created
    }

    /// Restricts (or, with nil, opens) the destination countries of a tenant.
    public func setCountries(tenantName: String, countries: Set<String>?) async throws {
        guard let tenant = try await store.tenant(named: tenantName) else { throw AdminError.unknownTenant(tenantName) }
        if let countries, let bad = countries.first(where: { PhoneNumberParser().plan.region(iso: $0) == nil }) {
            throw AdminError.unknownCountry(bad)
        }
        _ = try await store.setAllowedCountries(tenantID: tenant.id, countries: countries)
    }

    /// Revokes a key by id.
    public func revokeKey(id: String) async throws {
        guard try await store.revokeKey(id: id, now: clock.now) else { throw AdminError.unknownKey(id) }
    }
}
