import Foundation
public import Hummingbird
public import SandiCore

/// `/v1/webhooks`: register (the secret is shown only then), list, delete; and the deliveries of a
/// webhook, with replay of parked (dead) ones.
public struct WebhookController: Sendable {
    public let webhooks: WebhookService
    public let idempotency: IdempotencyGuard

    public init(webhooks: WebhookService, idempotency: IdempotencyGuard) {
        self.webhooks = webhooks
        self.idempotency = idempotency
    }

    public func register(on group: RouterGroup<TenantContext>) {
        group.post("webhooks", use: create)
        group.get("webhooks", use: list)
        group.delete("webhooks/:id", use: delete)
        group.get("webhooks/:id/deliveries", use: deliveries)
        group.post("webhooks/deliveries/:id/replay", use: replay)
    }

    static func body(_ w: Webhook, secret: String? = nil) -> JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(w.id), "url": .string(w.url), "events": .array(w.events.map(JSONValue.string)),
            "created_at": .string(Timestamp.format(w.createdAt)),
        ]
        if let secret { fields["secret"] = .string(secret) }
        return .object(fields)
    }

    @Sendable func create(_ request: Request, context: TenantContext) async throws -> Response {
        try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let url = body.string("url", required: true, maxLength: 2048)
            var events: [String] = []
            switch body.fields["events"] {
            case .array(let items)? where items.allSatisfy({ $0.stringValue != nil }):
                events = items.compactMap(\.stringValue)
            case nil, .null?:
                body.fail("events", "required")
            default:
                body.fail("events", "must be a list of event types, or [\"*\"]")
            }
            try body.validate()
            do {
                let (webhook, secret) = try await webhooks.register(tenantID: context.tenant.id, url: url ?? "", events: events)
                return try JSONResponse.make(.created, Self.body(webhook, secret: secret))
            } catch WebhookService.RegistrationError.invalid(let problems) {
                throw VerificationError.invalidRequest(problems)
            }
        }
    }

    @Sendable func list(_ request: Request, context: TenantContext) async throws -> Response {
        let all = try await webhooks.store.webhooks(tenantID: context.tenant.id)
        return try JSONResponse.make(.ok, ["webhooks": JSONValue.array(all.map { Self.body($0) })])
    }

    @Sendable func delete(_ request: Request, context: TenantContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard Identifier.isWellFormed(id, as: .webhook), try await webhooks.store.deleteWebhook(id: id, tenantID: context.tenant.id) else {
            throw APIProblem(status: .notFound, code: "not_found", title: "Not found", detail: "no such webhook")
        }
        return Response(status: .noContent)
    }

    @Sendable func deliveries(_ request: Request, context: TenantContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let raw = request.uri.queryParameters.get("status")
        guard raw == nil || WebhookDelivery.Status(rawValue: raw ?? "") != nil else {
            throw VerificationError.invalidRequest([FieldError(field: "status", reason: "must be pending, delivered or dead")])
        }
        let list = try await webhooks.store.webhookDeliveries(webhookID: id, tenantID: context.tenant.id,
                                                              status: raw.flatMap(WebhookDelivery.Status.init), limit: 200)
        return try JSONResponse.make(.ok, ["deliveries": JSONValue.array(list.map { d in
            .object([
                "id": .string(d.id), "event_id": .string(d.eventID), "status": .string(d.status.rawValue),
                "attempts": .number(Double(d.attempts)), "next_at": .string(Timestamp.format(d.nextAt)),
                "last_result": d.lastResult.map(JSONValue.string) ?? .null,
            ])
        })])
    }

    @Sendable func replay(_ request: Request, context: TenantContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard Identifier.isWellFormed(id, as: .webhookDelivery),
              try await webhooks.store.replayWebhookDelivery(id: id, tenantID: context.tenant.id, now: webhooks.clock.now) else {
            throw APIProblem(status: .notFound, code: "not_found", title: "Not found", detail: "no finished delivery with this id")
        }
        return try JSONResponse.make(.ok, ["id": JSONValue.string(id), "status": "pending"])
    }
}
