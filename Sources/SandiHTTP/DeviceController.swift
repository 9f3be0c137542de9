import Foundation
public import Hummingbird
public import SandiCore

/// `/v1/devices/trust`, `/v1/devices/check`, `/v1/devices/revoke`: trusted devices for login 2FA.
public struct DeviceController: Sendable {
    public let devices: TrustedDevices
    /// Groups whose `two_factor: always` asks for a code at every login.
    public let groups: GroupSettingsCache?
    public let idempotency: IdempotencyGuard

    public init(devices: TrustedDevices, groups: GroupSettingsCache? = nil, idempotency: IdempotencyGuard) {
        self.devices = devices
        self.groups = groups
        self.idempotency = idempotency
    }

    public func register(on group: RouterGroup<TenantContext>) {
        group.post("devices/trust", use: trust)
        group.post("devices/check", use: check)
        group.post("devices/revoke", use: revoke)
    }

    @Sendable func trust(_ request: Request, context: TenantContext) async throws -> Response {
        try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let id = body.string("verification_id", required: true, maxLength: 64)
            try body.validate()
            do {
                let trusted = try await devices.trust(verificationID: id ?? "", tenantID: context.tenant.id)
                return try JSONResponse.make(.created, [
                    "device_token": JSONValue.string(trusted.token), "user_ref": .string(trusted.userRef),
                    "device_id": .string(trusted.deviceID), "expires_at": .string(Timestamp.format(trusted.expiresAt)),
                ])
            } catch TrustedDevices.TrustError.notFound {
                throw VerificationError.notFound
            } catch TrustedDevices.TrustError.notEligible(let why) {
                throw APIProblem(status: .conflict, code: "device_not_trustable", title: "Device cannot be trusted", detail: why)
            }
        }
    }

    @Sendable func check(_ request: Request, context: TenantContext) async throws -> Response {
        var body = try JSONBody.parse(try await JSONBody.readRaw(request))
        let userRef = body.string("user_ref", required: true, maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
        let deviceID = body.string("device_id", required: true, maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
        let token = body.string("device_token", maxLength: 128)
        let purpose = body.string("purpose", required: true, maxLength: 40)
        var ipCountry: String?
        if let fields = body.object("context") {
            var inner = JSONBody(fields: fields, raw: [])
            ipCountry = inner.string("ip_country", maxLength: 2, pattern: InputRules.isCountry, reason: "must be an ISO 3166-1 alpha-2 code")
            for error in inner.errors { body.fail("context.\(error.field)", error.reason) }
        }
        try body.validate()
        guard let parsed = Purpose(rawValue: purpose ?? "") else { throw VerificationError.unsupportedPurpose(purpose ?? "") }
        let answer = try await devices.assess(tenantID: context.tenant.id, userRef: userRef ?? "", deviceID: deviceID ?? "",
                                              token: token, purpose: parsed, ipCountry: ipCountry,
                                              groups: try await groups?.settings(tenantID: context.tenant.id).settings)
        return try JSONResponse.make(.ok, [
            "code_required": JSONValue.bool(answer.required), "reasons": .array(answer.reasons.map(JSONValue.string)),
            "trusted_until": answer.trustedUntil.map { .string(Timestamp.format($0)) } ?? .null,
        ])
    }

    @Sendable func revoke(_ request: Request, context: TenantContext) async throws -> Response {
        try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let userRef = body.string("user_ref", required: true, maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
            let deviceID = body.string("device_id", maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
            try body.validate()
            let count = try await devices.revoke(tenantID: context.tenant.id, userRef: userRef ?? "", deviceID: deviceID, actor: "api")
            return try JSONResponse.make(.ok, ["revoked": JSONValue.number(Double(count))])
        }
    }
}
