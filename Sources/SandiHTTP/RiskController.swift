import Foundation
public import Hummingbird
public import SandiCore

/// `/v1/settings/risk` (a tenant's limits, scoring, pumping guard, safe list) and
/// `/v1/risk/prefix-blocks` (what the pumping guard blocked; lifting a block).
public struct RiskController: Sendable {
    public let admin: RiskAdmin

    public init(admin: RiskAdmin) {
        self.admin = admin
    }

    public func register(on group: RouterGroup<TenantContext>) {
        SettingsRoutes(path: "settings/risk", cache: admin.settings) { $0.problems }.register(on: group)
        group.get("risk/prefix-blocks", use: blocks)
        group.delete("risk/prefix-blocks/:prefix", use: lift)
    }

    struct BlockBody: Encodable {
        let b: PrefixBlock
        enum Key: String, CodingKey { case prefix, blocked_at, until, enforced, started, settled, approved, conversion, baseline }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode("+" + b.prefix, forKey: .prefix)
            try c.encode(Timestamp.format(b.blockedAt), forKey: .blocked_at)
            try c.encode(Timestamp.format(b.until), forKey: .until)
            try c.encode(b.enforced, forKey: .enforced)
            try c.encode(b.started, forKey: .started)
            try c.encode(b.settled, forKey: .settled)
            try c.encode(b.approved, forKey: .approved)
            try c.encode(b.conversion, forKey: .conversion)
            try c.encode(b.baseline, forKey: .baseline)
        }
    }

    @Sendable func blocks(_ request: Request, context: TenantContext) async throws -> Response {
        let blocks = try await admin.prefixBlocks(tenantID: context.tenant.id)
        return try JSONResponse.make(.ok, ["prefix_blocks": blocks.map(BlockBody.init)])
    }

    @Sendable func lift(_ request: Request, context: TenantContext) async throws -> Response {
        let raw = try context.parameters.require("prefix")
        let prefix = raw.hasPrefix("+") ? String(raw.dropFirst()) : raw.hasPrefix("%2B") ? String(raw.dropFirst(3)) : raw
        guard (3...15).contains(prefix.utf8.count), prefix.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw VerificationError.invalidRequest([FieldError(field: "prefix", reason: "must be + and 3–15 digits")])
        }
        guard try await admin.liftBlock(tenantID: context.tenant.id, prefix: prefix, actor: "api") else {
            throw APIProblem(status: .notFound, code: "not_found", title: "Not found", detail: "no active block for this prefix")
        }
        return Response(status: .noContent)
    }

    static func explain(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription.prefix(120))"
        case DecodingError.keyNotFound(let key, let c):
            return "\((c.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is required"
        default:
            return "unreadable"
        }
    }
}

/// `GET`, `PUT`, `DELETE` of one kind of tenant settings document: read (with `source`), save
/// after validation (422 with per-field errors), back to the server's defaults.
struct SettingsRoutes<Document: Codable & Sendable>: Sendable {
    let path: String
    let cache: TenantDocumentCache<Document>
    let problems: @Sendable (Document) -> [FieldError]

    struct Body: Encodable {
        let settings: Document
        let source: String
    }

    func register(on group: RouterGroup<TenantContext>) {
        group.get(RouterPath(path)) { _, context in
            let (settings, own) = try await cache.settings(tenantID: context.tenant.id)
            return try JSONResponse.make(.ok, Body(settings: settings, source: own ? "tenant" : "defaults"))
        }
        group.put(RouterPath(path)) { request, context in
            let raw = try await JSONBody.readRaw(request)
            _ = try JSONBody.parse(raw)
            let settings: Document
            do {
                settings = try JSONDecoder().decode(Document.self, from: Data(raw))
            } catch {
                throw APIProblem.invalid("the settings document does not have the expected shape: \(RiskController.explain(error))")
            }
            let found = problems(settings)
            guard found.isEmpty else { throw VerificationError.invalidRequest(found) }
            try await cache.save(tenantID: context.tenant.id, settings, actor: "api")
            return try JSONResponse.make(.ok, Body(settings: settings, source: "tenant"))
        }
        group.delete(RouterPath(path)) { _, context in
            try await cache.save(tenantID: context.tenant.id, nil, actor: "api")
            return Response(status: .noContent)
        }
    }
}
