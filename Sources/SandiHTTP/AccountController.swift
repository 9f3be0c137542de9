import Foundation
public import Hummingbird
public import SandiCore

/// `/v1/users/{user_ref}…` (accounts, recovery codes, admin-assisted recovery) and
/// `/v1/phone-changes…` (moving a user to a new number).
public struct AccountController: Sendable {
    public let accounts: AccountService
    public let idempotency: IdempotencyGuard

    public init(accounts: AccountService, idempotency: IdempotencyGuard) {
        self.accounts = accounts
        self.idempotency = idempotency
    }

    public func register(on group: RouterGroup<TenantContext>) {
        group.put("users/:user_ref", use: upsert)
        group.get("users/:user_ref", use: read)
        group.delete("users/:user_ref", use: delete)
        group.post("users/:user_ref/recovery-codes", use: generateCodes)
        group.post("users/:user_ref/recovery-codes/redeem", use: redeemCode)
        group.post("users/:user_ref/recover", use: recover)
        group.post("phone-changes", use: startChange)
        group.get("phone-changes", use: listChanges)
        group.get("phone-changes/:id", use: readChange)
        group.post("phone-changes/:id/complete", use: completeChange)
        group.post("phone-changes/:id/approve", use: approveChange)
        group.post("phone-changes/:id/reject", use: rejectChange)
    }

    var parser: PhoneNumberParser { accounts.verifications.parser }

    /// The user_ref of the path (percent-decoded, printable, at most 128 bytes).
    static func userRef(_ context: TenantContext) throws -> String {
        let raw = try context.parameters.require("user_ref")
        guard let ref = raw.removingPercentEncoding, (1...128).contains(ref.utf8.count), InputRules.isPrintable(ref) else {
            throw APIProblem.invalid("user_ref must be 1–128 bytes of printable text", errors: [FieldError(field: "user_ref", reason: "invalid")])
        }
        return ref
    }

    func parsePhone(_ text: String?, country: String?, field: String) throws -> PhoneNumber? {
        guard let text else { return nil }
        do {
            return try parser.parse(text, country: country)
        } catch {
            throw APIProblem(status: .unprocessableContent, code: "invalid_phone_number", title: "Invalid phone number",
                             detail: error.explanation, errors: [FieldError(field: field, reason: error.explanation)])
        }
    }

    // MARK: users

    @Sendable func upsert(_ request: Request, context: TenantContext) async throws -> Response {
        let userRef = try Self.userRef(context)
        var body = try JSONBody.parse(try await JSONBody.readRaw(request))
        /// A field to set (a string), to clear (null: ""), or to leave (absent: nil).
        func field(_ name: String, maxLength: Int, pattern: ((String) -> Bool)? = nil, reason: String? = nil) -> String? {
            if body.fields[name] == .null { return "" }
            return body.string(name, maxLength: maxLength, pattern: pattern, reason: reason)
        }
        let phone = body.string("phone", maxLength: 40)
        let country = body.string("country", maxLength: 2, pattern: InputRules.isCountry, reason: "must be an ISO 3166-1 alpha-2 code")
        let group = field("group", maxLength: 40, pattern: GroupSettings.isValidName, reason: "must be a group name (a–z, 0–9, _ and -)")
        let locale = field("locale", maxLength: 35, pattern: InputRules.isLocale, reason: "must be a language tag such as id or en-US")
        let channel = field("preferred_channel", maxLength: 16)
        let supervisor = field("supervisor_ref", maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
        let name = field("display_name", maxLength: 80, pattern: InputRules.isPrintable, reason: "must be printable text")
        if body.fields["phone"] == .null { body.fail("phone", "cannot be cleared; move the user with POST /v1/phone-changes") }
        try body.validate()
        let number = try parsePhone(phone, country: country, field: "phone")
        let (account, created) = try await accounts.upsert(tenantID: context.tenant.id, userRef: userRef, AccountUpdate(
            phone: number, group: group, locale: locale, preferredChannel: channel, supervisorRef: supervisor, displayName: name), actor: "api")
        return try JSONResponse.make(created ? .created : .ok, AccountBody(account, parser: parser, now: accounts.verifications.clock.now))
    }

    @Sendable func read(_ request: Request, context: TenantContext) async throws -> Response {
        let userRef = try Self.userRef(context)
        guard let account = try await accounts.account(tenantID: context.tenant.id, userRef: userRef) else { throw AccountError.notFound("no such user") }
        return try JSONResponse.make(.ok, AccountBody(account, parser: parser, now: accounts.verifications.clock.now))
    }

    @Sendable func delete(_ request: Request, context: TenantContext) async throws -> Response {
        let userRef = try Self.userRef(context)
        try await accounts.delete(tenantID: context.tenant.id, userRef: userRef, actor: "api")
        return Response(status: .noContent)
    }

    // MARK: recovery

    /// Not under Idempotency-Key: a replay would have to keep the codes in plain text. Calling
    /// again makes a new set (and the previous one stops working).
    @Sendable func generateCodes(_ request: Request, context: TenantContext) async throws -> Response {
        let userRef = try Self.userRef(context)
        _ = try JSONBody.parse(try await JSONBody.readRaw(request), emptyIsObject: true)
        let codes = try await accounts.generateRecoveryCodes(tenantID: context.tenant.id, userRef: userRef, actor: "api")
        var response = try JSONResponse.make(.created, [
            "user_ref": JSONValue.string(userRef), "codes": .array(codes.map(JSONValue.string)),
            "count": .number(Double(codes.count)),
            "note": .string("shown once: Sandi keeps only keyed hashes; each code works once; a new set replaces this one"),
        ])
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func redeemCode(_ request: Request, context: TenantContext) async throws -> Response {
        let userRef = try Self.userRef(context)
        return try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let code = body.string("code", required: true, maxLength: 64)
            try body.validate()
            switch try await accounts.redeemRecoveryCode(tenantID: context.tenant.id, userRef: userRef, code: code ?? "") {
            case .recovered(let token, let expiresAt, let revoked, let remaining):
                return try JSONResponse.make(.ok, [
                    "valid": JSONValue.bool(true), "grant_token": .string(token), "grant_expires_at": .string(Timestamp.format(expiresAt)),
                    "devices_revoked": .number(Double(revoked)), "codes_left": .number(Double(remaining)),
                ])
            case .wrong(let triesLeft):
                return try JSONResponse.make(.ok, ["valid": JSONValue.bool(false), "tries_left": .number(Double(triesLeft))])
            }
        }
    }

    @Sendable func recover(_ request: Request, context: TenantContext) async throws -> Response {
        let userRef = try Self.userRef(context)
        return try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let actor = body.string("actor", required: true, maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
            let reason = body.string("reason", required: true, maxLength: 500, pattern: InputRules.isPrintable, reason: "must be printable text")
            let newTo = body.string("new_to", maxLength: 40)
            let country = body.string("country", maxLength: 2, pattern: InputRules.isCountry, reason: "must be an ISO 3166-1 alpha-2 code")
            try body.validate()
            let number = try parsePhone(newTo, country: country, field: "new_to")
            let done = try await accounts.adminRecover(tenantID: context.tenant.id, userRef: userRef, actor: "api:" + (actor ?? ""),
                                                       reason: reason ?? "", newPhone: number)
            return try JSONResponse.make(.ok, RecoveryBody(
                grant_token: done.grantToken, grant_expires_at: Timestamp.format(done.expiresAt), devices_revoked: done.devicesRevoked,
                user: AccountBody(done.account, parser: parser, now: accounts.verifications.clock.now)))
        }
    }

    // MARK: phone changes

    @Sendable func startChange(_ request: Request, context: TenantContext) async throws -> Response {
        try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let userRef = body.string("user_ref", required: true, maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
            let newTo = body.string("new_to", required: true, maxLength: 40)
            let country = body.string("country", maxLength: 2, pattern: InputRules.isCountry, reason: "must be an ISO 3166-1 alpha-2 code")
            let oldAvailable = body.bool("old_number_available") ?? true
            let locale = body.string("locale", maxLength: 35, pattern: InputRules.isLocale, reason: "must be a language tag such as id or en-US")
            let client = VerificationController.clientContext(&body)
            try body.validate()
            guard let number = try parsePhone(newTo, country: country, field: "new_to") else { throw APIProblem.invalid("new_to is required") }
            let change = try await accounts.startPhoneChange(tenantID: context.tenant.id, userRef: userRef ?? "", newNumber: number,
                                                             oldNumberAvailable: oldAvailable, locale: locale, context: client)
            return try await changeResponse(change, tenantID: context.tenant.id, status: .created)
        }
    }

    @Sendable func listChanges(_ request: Request, context: TenantContext) async throws -> Response {
        let filter = request.uri.queryParameters.get("status") ?? "awaiting_approval"
        guard filter == "awaiting_approval" else {
            throw APIProblem.invalid("status must be awaiting_approval", errors: [FieldError(field: "status", reason: "unsupported")])
        }
        let changes = try await accounts.pendingApprovals(tenantID: context.tenant.id)
        var items: [PhoneChangeBody] = []
        for change in changes { items.append(PhoneChangeBody(change, requires: ["approval"])) }
        return try JSONResponse.make(.ok, ["items": items])
    }

    @Sendable func readChange(_ request: Request, context: TenantContext) async throws -> Response {
        let change = try await accounts.phoneChange(tenantID: context.tenant.id, id: try context.parameters.require("id"))
        return try await changeResponse(change, tenantID: context.tenant.id, status: .ok)
    }

    @Sendable func completeChange(_ request: Request, context: TenantContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return try await idempotency.runParsed(request, tenantID: context.tenant.id, emptyIsObject: true) { _ in
            let change = try await accounts.complete(tenantID: context.tenant.id, id: id)
            return try await changeResponse(change, tenantID: context.tenant.id, status: .ok)
        }
    }

    @Sendable func approveChange(_ request: Request, context: TenantContext) async throws -> Response {
        try await decide(request, context, approve: true)
    }

    @Sendable func rejectChange(_ request: Request, context: TenantContext) async throws -> Response {
        try await decide(request, context, approve: false)
    }

    func decide(_ request: Request, _ context: TenantContext, approve: Bool) async throws -> Response {
        let id = try context.parameters.require("id")
        return try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let approver = body.string("approver_ref", required: true, maxLength: 128, pattern: InputRules.isPrintable, reason: "must be printable text")
            let note = body.string("note", maxLength: 500, pattern: InputRules.isPrintable, reason: "must be printable text")
            try body.validate()
            let change = try await accounts.decide(tenantID: context.tenant.id, id: id, approve: approve, approver: approver ?? "", note: note)
            return try await changeResponse(change, tenantID: context.tenant.id, status: .ok)
        }
    }

    func changeResponse(_ change: PhoneChange, tenantID: String, status: HTTPResponse.Status) async throws -> Response {
        let requires = try await accounts.stillNeeded(change, tenantID: tenantID)
        return try JSONResponse.make(status, PhoneChangeBody(change, requires: requires))
    }
}

/// The JSON form of a user's account.
struct AccountBody: Encodable {
    struct Change: Encodable {
        let method: String
        let from: String?
        let to: String
        let at: String
        let approved_by: String?
    }

    let user_ref: String
    let phone: String?
    let country: String?
    let group: String?
    let locale: String?
    let preferred_channel: String?
    let supervisor_ref: String?
    let display_name: String?
    let number_history: [Change]
    let cooling_off_until: String?
    let recovery_codes_left: Int?
    let created_at: String
    let updated_at: String

    init(_ a: UserAccount, parser: PhoneNumberParser, now: Date) {
        user_ref = a.userRef
        phone = a.phone
        country = a.phone.flatMap { try? parser.parse($0, country: nil) }?.country
        group = a.group
        locale = a.locale
        preferred_channel = a.preferredChannel?.rawValue
        supervisor_ref = a.supervisorRef
        display_name = a.displayName
        number_history = a.numberHistory.map { Change(method: $0.method, from: $0.from, to: $0.to, at: Timestamp.format($0.at), approved_by: $0.approvedBy) }
        cooling_off_until = a.coolingOff(at: now) ? a.coolingOffUntil.map(Timestamp.format) : nil
        recovery_codes_left = a.recovery?.unused.count
        created_at = Timestamp.format(a.createdAt)
        updated_at = Timestamp.format(a.updatedAt)
    }

    enum CodingKeys: String, CodingKey {
        case user_ref, phone, country, group, locale, preferred_channel, supervisor_ref, display_name, number_history, cooling_off_until
        case recovery_codes_left, created_at, updated_at
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(user_ref, forKey: .user_ref)
        try c.encode(phone, forKey: .phone)
        try c.encode(country, forKey: .country)
        try c.encode(group, forKey: .group)
        try c.encode(locale, forKey: .locale)
        try c.encode(preferred_channel, forKey: .preferred_channel)
        try c.encode(supervisor_ref, forKey: .supervisor_ref)
        try c.encode(display_name, forKey: .display_name)
        try c.encode(number_history, forKey: .number_history)
        try c.encode(cooling_off_until, forKey: .cooling_off_until)
        try c.encode(recovery_codes_left, forKey: .recovery_codes_left)
        try c.encode(created_at, forKey: .created_at)
        try c.encode(updated_at, forKey: .updated_at)
    }
}

struct RecoveryBody: Encodable {
    let grant_token: String
    let grant_expires_at: String
    let devices_revoked: Int
    let user: AccountBody
}

/// The JSON form of a phone change.
struct PhoneChangeBody: Encodable {
    let change: PhoneChange
    let requires: [String]

    init(_ change: PhoneChange, requires: [String]) {
        self.change = change
        self.requires = requires
    }

    enum Key: String, CodingKey {
        case id, user_ref, status, method, old_to, new_to, new_verification_id, old_verification_id, requires, approved_by, approved_at
        case rejected_by, note, created_at, expires_at, completed_at
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        let x = change
        try c.encode(x.id, forKey: .id)
        try c.encode(x.userRef, forKey: .user_ref)
        try c.encode(x.status == .pending && requires == ["approval"] ? "awaiting_approval" : x.status.rawValue, forKey: .status)
        try c.encode(x.method.rawValue, forKey: .method)
        try c.encode(x.oldNumber, forKey: .old_to)
        try c.encode(x.newNumber, forKey: .new_to)
        try c.encode(x.newVerificationID, forKey: .new_verification_id)
        try c.encode(x.oldVerificationID, forKey: .old_verification_id)
        try c.encode(requires, forKey: .requires)
        try c.encode(x.approvedBy, forKey: .approved_by)
        try c.encode(x.approvedAt.map(Timestamp.format), forKey: .approved_at)
        try c.encode(x.rejectedBy, forKey: .rejected_by)
        try c.encode(x.decidedNote, forKey: .note)
        try c.encode(Timestamp.format(x.createdAt), forKey: .created_at)
        try c.encode(Timestamp.format(x.expiresAt), forKey: .expires_at)
        try c.encode(x.completedAt.map(Timestamp.format), forKey: .completed_at)
    }
}
