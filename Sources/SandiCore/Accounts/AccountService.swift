public import Foundation

/// Changes to a user's account; nil leaves a field as it is, an empty string clears it.
public struct AccountUpdate: Sendable, Equatable {
    public var phone: PhoneNumber?
    public var group: String?
    public var locale: String?
    public var preferredChannel: String?
    public var supervisorRef: String?
    public var displayName: String?

    public init(phone: PhoneNumber? = nil, group: String? = nil, locale: String? = nil, preferredChannel: String? = nil,
                supervisorRef: String? = nil, displayName: String? = nil) {
        self.phone = phone
        self.group = group
        self.locale = locale
        self.preferredChannel = preferredChannel
        self.supervisorRef = supervisorRef
        self.displayName = displayName
    }
}

/// What redeeming a recovery code did.
public enum RecoveryOutcome: Sendable, Equatable {
    /// The code was good: a grant for re-enrolling, the devices signed out, codes left.
    case recovered(grantToken: String, expiresAt: Date, devicesRevoked: Int, remaining: Int)
    /// A wrong code; tries left before the lockout.
    case wrong(triesLeft: Int)
}

/// The accounts use cases: registering users (number, group, language, channel, supervisor),
/// number changes with a code to both numbers or a supervisor's approval, recovery codes and
/// admin-assisted recovery. Every change is an audited event; no number in full, no code and no
/// recovery code ever goes into one.
public struct AccountService: Sendable {
    public let verifications: VerificationService
    public let devices: TrustedDevices
    /// Wrong recovery codes allowed in a row, and the lockout after them.
    public var recoveryMaxFailures = 5
    public var recoveryLockoutSeconds = 900
    /// How long a number change may wait for its codes or approval.
    public var phoneChangeSeconds = 86_400
    /// How many recovery codes a set has.
    public var recoveryCodeCount = 10
    /// How long a recovery grant lives.
    public var recoveryGrantSeconds = 600

    public init(verifications: VerificationService, devices: TrustedDevices) {
        self.verifications = verifications
        self.devices = devices
    }

    var store: any SandiStore { verifications.store }
    var clock: any TimeSource { verifications.clock }
    var hasher: CodeHasher { verifications.hasher }

    // MARK: accounts

    /// A user's account (nil when the tenant registered none).
    public func account(tenantID: String, userRef: String) async throws -> UserAccount? {
        let key = UserAccount.key(tenantID: tenantID, userRef: userRef)
        return UserAccount.decode(try await store.riskStates(prefix: key, now: clock.now, limit: 1)[key])
    }

    /// Registers or updates a user. The number can be set once; moving to another number is a
    /// phone change (``startPhoneChange``).
    public func upsert(tenantID: String, userRef: String, _ update: AccountUpdate, actor: String) async throws -> (account: UserAccount, created: Bool) {
        let groups = try await verifications.groups.settings(tenantID: tenantID).settings
        var errors: [FieldError] = []
        if let group = update.group, !group.isEmpty, groups.groups[group] == nil {
            errors.append(FieldError(field: "group", reason: "no such group; the tenant's groups are: " + groups.groups.keys.sorted().joined(separator: ", ")))
        }
        if let channel = update.preferredChannel, !channel.isEmpty, Channel(rawValue: channel) == nil {
            errors.append(FieldError(field: "preferred_channel", reason: "must be whatsapp, sms or voice"))
        }
        if let supervisor = update.supervisorRef, supervisor == userRef {
            errors.append(FieldError(field: "supervisor_ref", reason: "a user cannot supervise themselves"))
        }
        guard errors.isEmpty else { throw VerificationError.invalidRequest(errors) }
        let now = clock.now
        let key = UserAccount.key(tenantID: tenantID, userRef: userRef)
        let catalog = verifications.catalog
        return try await store.updateRiskState(keys: [key], now: now) { state in
            let existing = UserAccount.decode(state[key])
            var account = existing ?? UserAccount(userRef: userRef, createdAt: now, updatedAt: now)
            var changed: [String] = []
            if let phone = update.phone, phone.e164 != account.phone {
                guard account.phone == nil else {
                    throw AccountError.conflict(code: "phone_change_required",
                                                detail: "the user already has a number; move them to another one with POST /v1/phone-changes")
                }
                account.phone = phone.e164
                changed.append("phone")
            }
            func set(_ field: String, _ value: String?, _ keyPath: WritableKeyPath<UserAccount, String?>) {
                guard let value else { return }
                let new: String? = value.isEmpty ? nil : value
                if account[keyPath: keyPath] != new { account[keyPath: keyPath] = new; changed.append(field) }
            }
            set("group", update.group, \.group)
            set("locale", update.locale.map { $0.isEmpty ? "" : catalog.resolve(requested: $0, country: nil) }, \.locale)
            set("supervisor_ref", update.supervisorRef, \.supervisorRef)
            set("display_name", update.displayName, \.displayName)
            if let raw = update.preferredChannel {
                let channel = raw.isEmpty ? nil : Channel(rawValue: raw)
                if account.preferredChannel != channel { account.preferredChannel = channel; changed.append("preferred_channel") }
            }
            guard existing == nil || !changed.isEmpty else { return ((account, false), RiskStateWrite()) }
            account.updatedAt = now
            let event = Event(tenantID: tenantID, verificationID: nil, type: existing == nil ? "user.created" : "user.updated", createdAt: now, data: [
                "user_ref": .string(userRef), "actor": .string(actor), "fields": .array(changed.map(JSONValue.string)),
                "group": account.group.map(JSONValue.string) ?? .null,
                "phone": account.phone.map { .string(PhoneNumber.mask($0)) } ?? .null,
            ])
            return ((account, existing == nil), RiskStateWrite(values: [key: RiskStateValue(account.encoded(), expiresAt: .distantFuture)], events: [event]))
        }
    }

    /// Forgets a user: the account (number history and recovery codes with it) and trusted devices.
    public func delete(tenantID: String, userRef: String, actor: String) async throws {
        let now = clock.now
        let key = UserAccount.key(tenantID: tenantID, userRef: userRef)
        let existed: Bool = try await store.updateRiskState(keys: [key], now: now) { state in
            guard state[key] != nil else { return (false, RiskStateWrite()) }
            return (true, RiskStateWrite(values: [key: RiskStateValue("", expiresAt: now)], events: [
                Event(tenantID: tenantID, verificationID: nil, type: "user.deleted", createdAt: now,
                      data: ["user_ref": .string(userRef), "actor": .string(actor)])]))
        }
        guard existed else { throw AccountError.notFound("no such user") }
        _ = try await devices.revoke(tenantID: tenantID, userRef: userRef, deviceID: nil, actor: actor)
    }

    // MARK: recovery codes

    /// Normalises what a person typed: case, dashes and spaces; i and l read as 1, o as 0.
    static func normalizeRecoveryCode(_ text: String) -> String {
        String(text.lowercased().unicodeScalars.compactMap { c -> Character? in
            switch c {
            case "-", " ": return nil
            case "i", "l": return "1"
            case "o": return "0"
            default: return Character(c)
            }
        })
    }

    static func recoveryContext(tenantID: String, userRef: String) -> String { "recovery|\(tenantID)|\(userRef)" }

    /// Makes a new set of recovery codes (the old set stops working). The codes are returned
    /// once, here; only their keyed hashes are kept.
    public func generateRecoveryCodes(tenantID: String, userRef: String, actor: String) async throws -> [String] {
        let now = clock.now
        let key = UserAccount.key(tenantID: tenantID, userRef: userRef)
        let codes = (0..<recoveryCodeCount).map { _ -> String in
            let raw = Identifier.randomBase32(bytes: 7)
            return String(raw.prefix(5)) + "-" + String(raw.dropFirst(5).prefix(5))
        }
        let context = Self.recoveryContext(tenantID: tenantID, userRef: userRef)
        let digests = codes.map { hasher.digest(code: Self.normalizeRecoveryCode($0), verificationID: context) }
        try await store.updateRiskState(keys: [key], now: now) { state in
            guard var account = UserAccount.decode(state[key]) else { throw AccountError.notFound("no such user") }
            let replaced = account.recovery?.unused.count ?? 0
            account.recovery = RecoveryCodeSet(keyID: digests.first?.keyID ?? "", unused: digests.map { "\($0.keyID).\($0.mac)" }, createdAt: now)
            account.updatedAt = now
            return ((), RiskStateWrite(values: [key: RiskStateValue(account.encoded(), expiresAt: .distantFuture)], events: [
                Event(tenantID: tenantID, verificationID: nil, type: "recovery.codes_generated", createdAt: now, data: [
                    "user_ref": .string(userRef), "actor": .string(actor), "count": .number(Double(digests.count)),
                    "replaced_unused": .number(Double(replaced))])]))
        }
        return codes
    }

    /// Redeems a recovery code once. A good code signs every trusted device out, starts the
    /// cooling-off period, tells the user's number, and hands out a grant for re-enrolling.
    /// Wrong codes count towards a lockout.
    public func redeemRecoveryCode(tenantID: String, userRef: String, code: String) async throws -> RecoveryOutcome {
        let now = clock.now
        let nowMs = Timestamp.millis(now)
        let key = UserAccount.key(tenantID: tenantID, userRef: userRef)
        let groups = try await verifications.groups.settings(tenantID: tenantID).settings
        let context = Self.recoveryContext(tenantID: tenantID, userRef: userRef)
        let candidate = Self.normalizeRecoveryCode(String(code.prefix(64)))
        let hasher = self.hasher
        let maxFailures = recoveryMaxFailures, lockout = Int64(recoveryLockoutSeconds) * 1000
        let token = "grt_" + Identifier.randomBase32(bytes: 32)
        let grantID = Identifier.make(.recovery)
        let grantExpiry = now.addingTimeInterval(Double(recoveryGrantSeconds))
        let (outcome, account): (RecoveryOutcome, UserAccount) = try await store.updateRiskState(keys: [key], now: now) { state in
            guard var account = UserAccount.decode(state[key]) else { throw AccountError.notFound("no such user") }
            guard var set = account.recovery, !set.unused.isEmpty else {
                throw AccountError.conflict(code: "no_recovery_codes", detail: "the user has no unused recovery codes")
            }
            if set.failures >= maxFailures, set.lastFailure + lockout > nowMs {
                throw VerificationError.rateLimited(limit: "recovery_code_failures", retryAfter: max(1, Int((set.lastFailure + lockout - nowMs + 999) / 1000)))
            }
            // Every stored hash is compared (in constant time each), whatever matches first.
            var match: Int?
            for (i, stored) in set.unused.enumerated() {
                let parts = stored.split(separator: ".", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                if hasher.matches(candidate, digest: CodeDigest(keyID: parts[0], mac: parts[1]), verificationID: context), match == nil { match = i }
            }
            var events: [Event] = []
            var grants: [Grant] = []
            let outcome: RecoveryOutcome
            if let match {
                set.unused.remove(at: match)
                set.failures = 0
                account.startCoolingOff(hours: groups.coolingOffHours(for: account.group), at: now)
                grants.append(Self.recoveryGrant(token: token, id: grantID, account: account, tenantID: tenantID, now: now, expiresAt: grantExpiry))
                events.append(Event(tenantID: tenantID, verificationID: grantID, type: "account.recovered", createdAt: now, data: [
                    "user_ref": .string(userRef), "method": .string("recovery_code"), "codes_left": .number(Double(set.unused.count)),
                    "cooling_off_until": .string(Timestamp.format(account.coolingOffUntil ?? now))]))
                outcome = .recovered(grantToken: token, expiresAt: grantExpiry, devicesRevoked: 0, remaining: set.unused.count)
            } else {
                set.failures = set.failures >= maxFailures ? 1 : set.failures + 1
                set.lastFailure = nowMs
                events.append(Event(tenantID: tenantID, verificationID: nil, type: "recovery.code_rejected", createdAt: now, data: [
                    "user_ref": .string(userRef), "failures": .number(Double(set.failures))]))
                outcome = .wrong(triesLeft: max(0, maxFailures - set.failures))
            }
            account.recovery = set
            account.updatedAt = now
            return ((outcome, account), RiskStateWrite(values: [key: RiskStateValue(account.encoded(), expiresAt: .distantFuture)],
                                                       events: events, grants: grants))
        }
        guard case .recovered(let token, let expiry, _, let remaining) = outcome else { return outcome }
        let revoked = try await devices.revoke(tenantID: tenantID, userRef: userRef, deviceID: nil, actor: "recovery_code")
        if let phone = account.phone {
            try await queueNotice(.accountRecovered, tenantID: tenantID, referenceID: grantID, to: phone, locale: account.locale, purpose: .newDevice)
        }
        return .recovered(grantToken: token, expiresAt: expiry, devicesRevoked: revoked, remaining: remaining)
    }

    /// The grant a recovery hands out: for re-enrolling a device (`new_device`), under a `rcv_` id.
    static func recoveryGrant(token: String, id: String, account: UserAccount, tenantID: String, now: Date, expiresAt: Date) -> Grant {
        Grant(tokenHash: SecretHash.hex(token), tenantID: tenantID, verificationID: id, userRef: account.userRef,
              to: account.phone ?? "", purpose: .newDevice, createdAt: now, expiresAt: expiresAt)
    }

    /// What an admin-assisted recovery did.
    public struct AdminRecovery: Sendable {
        public var grantToken: String
        public var expiresAt: Date
        public var devicesRevoked: Int
        public var account: UserAccount
    }

    /// An admin recovers a user who lost their device (and maybe their number): audited with
    /// the admin and the reason; trusted devices are signed out; a new number, when given, is set
    /// with the number history; the cooling-off period starts; the old and new numbers are told.
    public func adminRecover(tenantID: String, userRef: String, actor: String, reason: String, newPhone: PhoneNumber?) async throws -> AdminRecovery {
        let now = clock.now
        let key = UserAccount.key(tenantID: tenantID, userRef: userRef)
        let groups = try await verifications.groups.settings(tenantID: tenantID).settings
        let token = "grt_" + Identifier.randomBase32(bytes: 32)
        let grantID = Identifier.make(.recovery)
        let expiry = now.addingTimeInterval(Double(recoveryGrantSeconds))
        let hasher = self.hasher
        let (before, after): (UserAccount, UserAccount) = try await store.updateRiskState(keys: [key], now: now) { state in
            guard let before = UserAccount.decode(state[key]) else { throw AccountError.notFound("no such user") }
            var account = before
            account.startCoolingOff(hours: groups.coolingOffHours(for: account.group), at: now)
            if let newPhone, newPhone.e164 != account.phone {
                account.moveNumber(to: newPhone.e164, method: "admin_recovery", approvedBy: actor, at: now, digest: hasher.numberHash)
            }
            account.updatedAt = now
            let event = Event(tenantID: tenantID, verificationID: grantID, type: "account.recovered", createdAt: now, data: [
                "user_ref": .string(userRef), "method": .string("admin"), "actor": .string(actor), "reason": .string(String(reason.prefix(500))),
                "number_changed": .bool(account.phone != before.phone),
                "cooling_off_until": .string(Timestamp.format(account.coolingOffUntil ?? now))])
            let grant = Self.recoveryGrant(token: token, id: grantID, account: account, tenantID: tenantID, now: now, expiresAt: expiry)
            return ((before, account), RiskStateWrite(values: [key: RiskStateValue(account.encoded(), expiresAt: .distantFuture)],
                                                      events: [event], grants: [grant]))
        }
        let revoked = try await devices.revoke(tenantID: tenantID, userRef: userRef, deviceID: nil, actor: actor)
        if let phone = after.phone {
            try await queueNotice(.accountRecovered, tenantID: tenantID, referenceID: grantID, to: phone, locale: after.locale, purpose: .newDevice)
        }
        if let old = before.phone, old != after.phone {
            try await queueNotice(.phoneChange, tenantID: tenantID, referenceID: grantID, to: old, locale: after.locale, purpose: .phoneChange)
        }
        return AdminRecovery(grantToken: token, expiresAt: expiry, devicesRevoked: revoked, account: after)
    }

    // MARK: number changes

    /// Starts moving a user to a new number: a code to the new number, and a code to the old one
    /// when the user still has it; otherwise the change waits for a supervisor's or admin's
    /// approval. Both codes go through the usual start (limits, risk, plan).
    public func startPhoneChange(tenantID: String, userRef: String, newNumber: PhoneNumber, oldNumberAvailable: Bool, locale: String?,
                                 context: ClientContext) async throws -> PhoneChange {
        guard let account = try await account(tenantID: tenantID, userRef: userRef) else { throw AccountError.notFound("no such user") }
        guard let old = account.phone else {
            throw AccountError.conflict(code: "no_registered_number", detail: "register the user's number first (PUT /v1/users/{user_ref})")
        }
        guard old != newNumber.e164 else {
            throw VerificationError.invalidRequest([FieldError(field: "new_to", reason: "is already the user's number")])
        }
        let now = clock.now
        let id = Identifier.make(.phoneChange)
        let fresh = try await verifications.start(tenantID: tenantID, StartRequest(
            to: newNumber.e164, purpose: Purpose.phoneChange.rawValue, userRef: userRef, locale: locale, context: context))
        var oldVerification: Verification?
        if oldNumberAvailable, fresh.status != .blocked {
            oldVerification = try await verifications.start(tenantID: tenantID, StartRequest(
                to: old, purpose: Purpose.phoneChange.rawValue, userRef: userRef, locale: locale, context: context))
        }
        let blocked = fresh.status == .blocked || oldVerification?.status == .blocked
        let change = PhoneChange(id: id, userRef: userRef, oldNumber: old, newNumber: newNumber.e164,
                                 method: oldNumberAvailable ? .oldNumber : .approval, status: blocked ? .blocked : .pending,
                                 newVerificationID: fresh.id, oldVerificationID: oldVerification?.id, createdAt: now,
                                 expiresAt: now.addingTimeInterval(Double(phoneChangeSeconds)))
        let key = PhoneChange.key(tenantID: tenantID, id: id)
        let saved = change
        let oldID = oldVerification?.id
        try await store.updateRiskState(keys: [key], now: now) { _ in
            ((), RiskStateWrite(values: [key: RiskStateValue(saved.encoded(), expiresAt: saved.keptUntil)], events: [
                Event(tenantID: tenantID, verificationID: id, type: "phone_change.requested", createdAt: now, data: [
                    "user_ref": .string(userRef), "method": .string(saved.method.rawValue), "status": .string(saved.status.rawValue),
                    "from": .string(PhoneNumber.mask(old)), "to": .string(newNumber.masked),
                    "new_verification_id": .string(fresh.id), "old_verification_id": oldID.map(JSONValue.string) ?? .null])]))
        }
        return change
    }

    /// A phone change of the tenant, its status as of now.
    public func phoneChange(tenantID: String, id: String) async throws -> PhoneChange {
        guard Identifier.isWellFormed(id, as: .phoneChange) else { throw AccountError.notFound("no such phone change") }
        let key = PhoneChange.key(tenantID: tenantID, id: id)
        guard var change = PhoneChange.decode(try await store.riskStates(prefix: key, now: clock.now, limit: 1)[key]) else {
            throw AccountError.notFound("no such phone change")
        }
        change.status = change.effectiveStatus(at: clock.now)
        return change
    }

    /// The tenant's changes waiting for an approval, oldest first.
    public func pendingApprovals(tenantID: String, limit: Int = 200) async throws -> [PhoneChange] {
        let now = clock.now
        return try await store.riskStates(prefix: PhoneChange.keyPrefix(tenantID: tenantID), now: now, limit: 20_000).values
            .compactMap(PhoneChange.decode)
            .filter { $0.method == .approval && $0.effectiveStatus(at: now) == .pending && $0.approvedBy == nil }
            .sorted { $0.createdAt < $1.createdAt }
            .prefix(limit).map { $0 }
    }

    /// Records a supervisor's or admin's decision on a change that waits for one. Through the
    /// API the approver is a user of a group that may approve (never the user themselves); the
    /// dashboard passes its admin as `dashboard:<name>` with `checked: true`. An approval whose
    /// new-number code was already approved completes the change at once.
    public func decide(tenantID: String, id: String, approve: Bool, approver: String, approverChecked: Bool = false, note: String?) async throws -> PhoneChange {
        let current = try await phoneChange(tenantID: tenantID, id: id)
        guard current.method == .approval else {
            throw AccountError.conflict(code: "approval_not_needed", detail: "this change is proven with a code to the old number")
        }
        guard current.status == .pending, current.approvedBy == nil else {
            throw AccountError.conflict(code: "phone_change_not_pending", detail: "the change is \(current.approvedBy == nil ? current.status.rawValue : "approved already")")
        }
        if !approverChecked {
            guard approver != current.userRef else {
                throw AccountError.forbidden(code: "approver_not_allowed", detail: "users cannot approve their own number change")
            }
            let groups = try await verifications.groups.settings(tenantID: tenantID).settings
            guard let account = try await account(tenantID: tenantID, userRef: approver),
                  groups.policy(for: account.group)?.policy.canApprove == true else {
                throw AccountError.forbidden(code: "approver_not_allowed", detail: "the approver must be a registered user of a group that may approve")
            }
        }
        let now = clock.now
        let key = PhoneChange.key(tenantID: tenantID, id: id)
        let note = note.map { String($0.prefix(500)) }
        let decided: PhoneChange = try await store.updateRiskState(keys: [key], now: now) { state in
            guard var change = PhoneChange.decode(state[key]), change.effectiveStatus(at: now) == .pending, change.approvedBy == nil else {
                throw AccountError.conflict(code: "phone_change_not_pending", detail: "the change was decided meanwhile")
            }
            if approve {
                change.approvedBy = approver
                change.approvedAt = now
            } else {
                change.status = .rejected
                change.rejectedBy = approver
            }
            change.decidedNote = note
            return (change, RiskStateWrite(values: [key: RiskStateValue(change.encoded(), expiresAt: approve ? change.keptUntil : now.addingTimeInterval(PhoneChange.keptAfterEnd))], events: [
                Event(tenantID: tenantID, verificationID: id, type: approve ? "phone_change.approved" : "phone_change.rejected", createdAt: now, data: [
                    "user_ref": .string(change.userRef), "actor": .string(approver), "note": note.map(JSONValue.string) ?? .null])]))
        }
        if !approve {
            _ = try? await verifications.cancel(id: decided.newVerificationID, tenantID: tenantID)
            return decided
        }
        if (try? await verifications.read(id: decided.newVerificationID, tenantID: tenantID))?.status == .approved {
            return try await complete(tenantID: tenantID, id: id)
        }
        return decided
    }

    /// What a pending change still needs: `new_number_code`, `old_number_code`, `approval`.
    public func stillNeeded(_ change: PhoneChange, tenantID: String) async throws -> [String] {
        guard change.status == .pending else { return [] }
        var missing: [String] = []
        if try await verifications.read(id: change.newVerificationID, tenantID: tenantID).status != .approved { missing.append("new_number_code") }
        switch change.method {
        case .oldNumber:
            if let old = change.oldVerificationID, try await verifications.read(id: old, tenantID: tenantID).status != .approved {
                missing.append("old_number_code")
            }
        case .approval:
            if change.approvedBy == nil { missing.append("approval") }
        }
        return missing
    }

    /// Completes a change once it is proven: the new number's code approved, and the old
    /// number's code approved or an approval given. The account moves to the new number, the
    /// number history grows, the cooling-off period starts, and the old number is told.
    public func complete(tenantID: String, id: String) async throws -> PhoneChange {
        let current = try await phoneChange(tenantID: tenantID, id: id)
        if current.status == .completed { return current }
        guard current.status == .pending else {
            throw AccountError.conflict(code: "phone_change_not_pending", detail: "the change is \(current.status.rawValue)")
        }
        let missing = try await stillNeeded(current, tenantID: tenantID)
        guard missing.isEmpty else {
            throw AccountError.conflict(code: "phone_change_incomplete", detail: "still needed: " + missing.joined(separator: ", "))
        }
        let now = clock.now
        let changeKey = PhoneChange.key(tenantID: tenantID, id: id)
        let accountKey = UserAccount.key(tenantID: tenantID, userRef: current.userRef)
        let groups = try await verifications.groups.settings(tenantID: tenantID).settings
        let hasher = self.hasher
        let (done, account): (PhoneChange, UserAccount) = try await store.updateRiskState(keys: [changeKey, accountKey], now: now) { state in
            guard var change = PhoneChange.decode(state[changeKey]) else { throw AccountError.notFound("no such phone change") }
            guard var account = UserAccount.decode(state[accountKey]) else { throw AccountError.notFound("no such user") }
            if change.status == .completed { return ((change, account), RiskStateWrite()) }
            guard change.effectiveStatus(at: now) == .pending else {
                throw AccountError.conflict(code: "phone_change_not_pending", detail: "the change is \(change.effectiveStatus(at: now).rawValue)")
            }
            guard account.phone == change.oldNumber else {
                throw AccountError.conflict(code: "phone_changed_meanwhile", detail: "the user's number changed since this change was requested")
            }
            account.moveNumber(to: change.newNumber, method: change.method.rawValue, approvedBy: change.approvedBy, at: now, digest: hasher.numberHash)
            account.startCoolingOff(hours: groups.coolingOffHours(for: account.group), at: now)
            account.updatedAt = now
            change.status = .completed
            change.completedAt = now
            return ((change, account), RiskStateWrite(values: [
                changeKey: RiskStateValue(change.encoded(), expiresAt: now.addingTimeInterval(PhoneChange.keptAfterEnd)),
                accountKey: RiskStateValue(account.encoded(), expiresAt: .distantFuture),
            ], events: [Event(tenantID: tenantID, verificationID: id, type: "phone_change.completed", createdAt: now, data: [
                "user_ref": .string(change.userRef), "method": .string(change.method.rawValue),
                "from": .string(PhoneNumber.mask(change.oldNumber)), "to": .string(PhoneNumber.mask(change.newNumber)),
                "approved_by": change.approvedBy.map(JSONValue.string) ?? .null,
                "cooling_off_until": .string(Timestamp.format(account.coolingOffUntil ?? now))])]))
        }
        try await queueNotice(.phoneChange, tenantID: tenantID, referenceID: done.newVerificationID, to: done.oldNumber,
                              locale: account.locale, purpose: .phoneChange)
        return done
    }

    // MARK: notices

    /// Queues a security notice to a number on the first channel with a provider (WhatsApp, SMS,
    /// voice), in the user's language (else the number's country's).
    func queueNotice(_ kind: NoticeKind, tenantID: String, referenceID: String, to e164: String, locale: String?, purpose: Purpose) async throws {
        guard let number = try? verifications.parser.parse(e164, country: nil) else { return }
        try await verifications.queueNotice(kind, tenantID: tenantID, referenceID: referenceID, to: number.e164, country: number.country,
                                            operator: number.operator, locale: verifications.catalog.resolve(requested: locale, country: number.country),
                                            purpose: purpose, data: ["to": .string(number.masked)])
    }
}
