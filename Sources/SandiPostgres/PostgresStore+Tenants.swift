public import Foundation
public import SandiCore
import SandiStorage

extension PostgresStore {
    public func createTenant(_ tenant: Tenant) async throws {
        let created = try await read { tx in
            try await tx.query(
                "INSERT INTO tenants (id, name, created_at, allowed_countries) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING id",
                [.text(tenant.id), .text(tenant.name), .ms(tenant.createdAt), .text(tenant.allowedCountries.map(StoredRecords.countryList))]).count
        }
        if created == 0 { throw StoreError.conflict("tenant name taken") }
    }

    public func tenant(named name: String) async throws -> Tenant? {
        try await read { tx in try await tx.query("SELECT * FROM tenants WHERE name = $1", [.text(name)]).first.map(StoredRecords.tenant) }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await read { tx in try await tx.query("SELECT * FROM tenants WHERE id = $1", [.text(id)]).first.map(StoredRecords.tenant) }
    }

    public func tenants() async throws -> [Tenant] {
        try await read { tx in try await tx.query("SELECT * FROM tenants ORDER BY created_at, name").map(StoredRecords.tenant) }
    }

    public func setAllowedCountries(tenantID: String, countries: Set<String>?) async throws -> Bool {
        try await read { tx in
            try await tx.query("UPDATE tenants SET allowed_countries = $1 WHERE id = $2 RETURNING id",
                               [.text(countries.map(StoredRecords.countryList)), .text(tenantID)]).count == 1
        }
    }

    public func addKey(_ key: APIKeyRecord) async throws {
        _ = try await read { tx in
            try await tx.query(
                "INSERT INTO api_keys (id, tenant_id, hash, hint, created_at, revoked_at) VALUES ($1,$2,$3,$4,$5,$6)",
                [.text(key.id), .text(key.tenantID), .text(key.hash), .text(key.hint), .ms(key.createdAt), .ms(key.revokedAt)])
        }
    }

    public func revokeKey(id: String, now: Date) async throws -> Bool {
        try await read { tx in
            try await tx.query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id", [.ms(now), .text(id)]).count == 1
        }
    }

    public func keys(tenantID: String) async throws -> [APIKeyRecord] {
        try await read { tx in
            try await tx.query("SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id", [.text(tenantID)]).map(StoredRecords.key)
        }
    }

    public func tenant(forKeyHash hash: String) async throws -> Tenant? {
        try await read { tx in
            try await tx.query(
                "SELECT t.* FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = $1 AND k.revoked_at IS NULL",
                [.text(hash)]).first.map(StoredRecords.tenant)
        }
    }
}
