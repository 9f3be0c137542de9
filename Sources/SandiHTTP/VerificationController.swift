import Foundation
public import Hummingbird
public import SandiCore

/// `/v1/verifications…` and `/v1/grants/redeem`: parse and validate, call the service, answer JSON.
public struct VerificationController: Sendable {
    public let service: VerificationService
    public let idempotency: IdempotencyGuard

    public init(service: VerificationService, idempotency: IdempotencyGuard) {
        self.service = service
        self.idempotency = idempotency
    }

    public func register(on group: RouterGroup<TenantContext>) {
        group.post("verifications", use: start)
        group.post("verifications/check", use: checkByDestination)
        group.get("verifications/:id", use: read)
        group.post("verifications/:id/check", use: check)
        group.post("verifications/:id/resend", use: resend)
        group.post("verifications/:id/cancel", use: cancel)
        group.post("grants/redeem", use: redeem)
    }

    /// A state-changing route: the body parsed, under the request's Idempotency-Key.
    func changing(_ request: Request, _ context: TenantContext, emptyIsObject: Bool = false,
                  _ handle: (inout JSONBody, String) async throws -> Response) async throws -> Response {
        let tenantID = context.tenant.id
        return try await idempotency.runParsed(request, tenantID: tenantID, emptyIsObject: emptyIsObject) { body in
            try await handle(&body, tenantID)
        }
    }

    @Sendable func start(_ request: Request, context: TenantContext) async throws -> Response {
        try await changing(request, context) { body, tenantID in
            let to = body.string("to", required: true, maxLength: 40)
            let purpose = body.string("purpose", required: true, maxLength: 40)
            let country = body.string("country", maxLength: 2, pattern: InputRules.isCountry, reason: "must be an ISO 3166-1 alpha-2 code")
            let userRef = body.string("user_ref", maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
            let channel = body.string("channel", maxLength: 16)
            let locale = body.string("locale", maxLength: 35, pattern: InputRules.isLocale, reason: "must be a language tag such as id or en-US")
            let client = Self.clientContext(&body)
            let transaction = Self.transaction(&body)
            try body.validate()
            let verification = try await service.start(tenantID: tenantID, allowedCountries: context.tenant.allowedCountries, StartRequest(
                to: to ?? "", country: country, purpose: purpose ?? "", userRef: userRef, channel: channel, locale: locale, context: client,
                transaction: transaction))
            return try JSONResponse.make(.created, VerificationBody(v: verification, events: nil))
        }
    }

    /// The optional `context` object {ip, device_id, user_agent, app_hash, ip_country}; problems go to `body`.
    static func clientContext(_ body: inout JSONBody) -> ClientContext {
        var client = ClientContext()
        guard let fields = body.object("context") else { return client }
        var inner = JSONBody(fields: fields, raw: [])
        client.ip = inner.string("ip", maxLength: 45, pattern: InputRules.isIP, reason: "must be an IPv4 or IPv6 address")
        client.deviceID = inner.string("device_id", maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
        client.userAgent = inner.string("user_agent", maxLength: 512, pattern: InputRules.isPrintable, reason: "must be printable text")
        client.appHash = inner.string("app_hash", maxLength: 11, pattern: InputRules.isAppHash, reason: "must be an 11-character SMS Retriever hash")
        client.ipCountry = inner.string("ip_country", maxLength: 2, pattern: InputRules.isCountry, reason: "must be an ISO 3166-1 alpha-2 code")?.uppercased()
        for error in inner.errors { body.fail("context.\(error.field)", error.reason) }
        return client
    }

    /// The optional `transaction` object {amount, currency, payee}; problems go to `body`.
    static func transaction(_ body: inout JSONBody) -> TransactionDetails? {
        guard let fields = body.object("transaction") else { return nil }
        var inner = JSONBody(fields: fields, raw: [])
        let amount = inner.string("amount", required: true, maxLength: 32)
        let currency = inner.string("currency", required: true, maxLength: 3)
        let payee = inner.string("payee", required: true, maxLength: 256)
        for error in inner.errors { body.fail("transaction.\(error.field)", error.reason) }
        // Fields already refused above are not judged twice.
        let details = TransactionDetails(amount: amount ?? "0", currency: currency ?? "XXX", payee: payee ?? "-")
        let problems = details.problems
        for problem in problems { body.fail(problem.field, problem.reason) }
        guard amount != nil, currency != nil, payee != nil, problems.isEmpty else { return nil }
        return details
    }

    @Sendable func read(_ request: Request, context: TenantContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let verification = try await service.read(id: id, tenantID: context.tenant.id)
        let include = request.uri.queryParameters.get("include")?.split(separator: ",").map(String.init) ?? []
        let events = include.contains("events") ? try await service.events(id: id, tenantID: context.tenant.id) : nil
        return try JSONResponse.make(.ok, VerificationBody(v: verification, events: events))
    }

    @Sendable func check(_ request: Request, context: TenantContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return try await changing(request, context) { body, tenantID in
            let code = body.string("code", required: true, maxLength: 32)
            let transaction = Self.transaction(&body)
            try body.validate()
            return try JSONResponse.make(.ok, CheckBody(r: try await service.check(id: id, tenantID: tenantID, code: code ?? "", transaction: transaction)))
        }
    }

    @Sendable func checkByDestination(_ request: Request, context: TenantContext) async throws -> Response {
        try await changing(request, context) { body, tenantID in
            let to = body.string("to", required: true, maxLength: 40)
            let purpose = body.string("purpose", required: true, maxLength: 40)
            let country = body.string("country", maxLength: 2, pattern: InputRules.isCountry, reason: "must be an ISO 3166-1 alpha-2 code")
            let code = body.string("code", required: true, maxLength: 32)
            let transaction = Self.transaction(&body)
            try body.validate()
            let result = try await service.check(tenantID: tenantID, to: to ?? "", country: country, purpose: purpose ?? "", code: code ?? "", transaction: transaction)
            return try JSONResponse.make(.ok, CheckBody(r: result))
        }
    }

    @Sendable func resend(_ request: Request, context: TenantContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return try await changing(request, context, emptyIsObject: true) { body, tenantID in
            let channel = body.string("channel", maxLength: 16)
            try body.validate()
            return try JSONResponse.make(.ok, VerificationBody(v: try await service.resend(id: id, tenantID: tenantID, channel: channel), events: nil))
        }
    }

    @Sendable func cancel(_ request: Request, context: TenantContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return try await changing(request, context, emptyIsObject: true) { _, tenantID in
            try JSONResponse.make(.ok, VerificationBody(v: try await service.cancel(id: id, tenantID: tenantID), events: nil))
        }
    }

    @Sendable func redeem(_ request: Request, context: TenantContext) async throws -> Response {
        try await changing(request, context) { body, tenantID in
            let token = body.string("token", required: true, maxLength: 128)
            try body.validate()
            let grant = try await service.redeem(token: token ?? "", tenantID: tenantID)
            return try JSONResponse.make(.ok, [
                "verification_id": JSONValue.string(grant.verificationID),
                "user_ref": grant.userRef.map(JSONValue.string) ?? .null,
                "to": .string(grant.to), "purpose": .string(grant.purpose.rawValue),
                "redeemed_at": .string(Timestamp.format(grant.redeemedAt ?? service.clock.now)),
            ])
        }
    }
}
