import Foundation
public import Hummingbird
public import SandiCore

/// `POST /v1/assist`: the support assistant for apps ("my code never came"): the user's message
/// about a verification (by id, or the live one of a number) in, a reply in the user's language
/// and what Sandi did out. Never the code.
public struct AssistController: Sendable {
    public let assistant: AssistantService
    public let idempotency: IdempotencyGuard

    public init(assistant: AssistantService, idempotency: IdempotencyGuard) {
        self.assistant = assistant
        self.idempotency = idempotency
    }

    public func register(on group: RouterGroup<TenantContext>) {
        group.post("assist", use: assist)
    }

    @Sendable func assist(_ request: Request, context: TenantContext) async throws -> Response {
        try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let id = body.string("verification_id", maxLength: 64)
            let to = body.string("to", maxLength: 32)
            let message = body.string("message", required: true, maxLength: 2000)
            let locale = body.string("locale", maxLength: 16, pattern: InputRules.isLocale, reason: "must be a language tag such as id or en-US")
            if id == nil, to == nil { body.fail("verification_id", "give verification_id or to") }
            try body.validate()
            let answer = try await assistant.assist(AssistantRequest(
                tenantID: context.tenant.id, verificationID: id, to: to, message: message ?? "", locale: locale, source: "api"))
            return try JSONResponse.make(.ok, [
                "intent": answer.intent.map { JSONValue.string($0.rawValue) } ?? .null,
                "action": .string(answer.action.rawValue), "language": .string(answer.language), "reply": .string(answer.reply),
                "verification_id": answer.verificationID.map(JSONValue.string) ?? .null,
                "verification_status": answer.verificationStatus.map { .string($0.rawValue) } ?? .null,
                "ticket_id": answer.ticketID.map(JSONValue.string) ?? .null,
            ])
        }
    }
}
