public import Foundation

/// Login 2FA with trusted devices: after an approved login the app may trust the device (Sandi
/// returns a device token, stored only as a hash, bound to the user_ref and device id, with an
/// expiry) and later ask whether a login from that device needs a code at all.
public struct TrustedDevices: Sendable {
    public let store: any RiskStateStore
    public let verifications: any VerificationStore
    public let clock: any TimeSource
    /// How long a device stays trusted (30 days).
    public var trustSeconds = 30 * 86_400
    /// How soon after approval a verification can still be used to trust its device (10 minutes).
    public var trustWindowSeconds = 600

    public init(store: any SandiStore, clock: any TimeSource) {
        self.store = store
        self.verifications = store
        self.clock = clock
    }

    /// What is kept per trusted device (under the hashes of user_ref and device id).
    struct Record: Codable {
        var tokenHash: String
        var createdAt: Int64
        var expiresAt: Int64
        /// Countries the device was trusted from (number country, and IP country when known).
        var countries: [String]
    }

    static func userPrefix(tenantID: String, userRef: String) -> String { "dev|\(tenantID)|\(RiskEngine.digest(userRef))|" }
    static func key(tenantID: String, userRef: String, deviceID: String) -> String {
        userPrefix(tenantID: tenantID, userRef: userRef) + RiskEngine.digest(deviceID)
    }

    public enum TrustError: Error, Equatable {
        case notFound
        /// The verification cannot trust a device, and why.
        case notEligible(String)
    }

    /// Trusts the device of an approved login (or new_device / signup) verification; returns the
    /// device token (shown only here) and its expiry.
    public func trust(verificationID: String, tenantID: String) async throws -> (token: String, userRef: String, deviceID: String, expiresAt: Date) {
        guard Identifier.isWellFormed(verificationID, as: .verification),
              let v = try await verifications.verification(id: verificationID, tenantID: tenantID, deliveries: false)
        else { throw TrustError.notFound }
        let now = clock.now
        guard v.status == .approved else { throw TrustError.notEligible("the verification is \(v.status.rawValue), not approved") }
        guard [.login, .newDevice, .signup].contains(v.purpose) else { throw TrustError.notEligible("only login, new_device and signup verifications trust a device") }
        guard let userRef = v.userRef, let deviceID = v.context.deviceID else {
            throw TrustError.notEligible("the verification needs user_ref and context.device_id")
        }
        guard now.timeIntervalSince(v.updatedAt) <= Double(trustWindowSeconds) else {
            throw TrustError.notEligible("approved more than \(trustWindowSeconds / 60) minutes ago")
        }
        let token = "dvt_" + Identifier.randomBase32(bytes: 32)
        let expires = now.addingTimeInterval(Double(trustSeconds))
        let record = Record(tokenHash: SecretHash.hex(token), createdAt: Timestamp.millis(now), expiresAt: Timestamp.millis(expires),
                            countries: [v.country, v.context.ipCountry].compactMap { $0 })
        let key = Self.key(tenantID: tenantID, userRef: userRef, deviceID: deviceID)
        let text = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        try await store.updateRiskState(keys: [key], now: now) { _ in
            ((), RiskStateWrite(values: [key: RiskStateValue(text, expiresAt: expires)], events: [
                Event(tenantID: tenantID, verificationID: v.id, type: "device.trusted", createdAt: now,
                      data: ["expires_at": .string(Timestamp.format(expires))]),
            ]))
        }
        return (token, userRef, deviceID, expires)
    }

    /// Whether a login needs a code: always for a sensitive purpose, an unknown or expired device,
    /// a token that does not match, or a country the device was not trusted from.
    /// A user whose group has `two_factor: always` needs a code at every login (`group_policy`).
    public func assess(tenantID: String, userRef: String, deviceID: String, token: String?, purpose: Purpose, ipCountry: String?,
                       groups: GroupSettings? = nil) async throws -> (required: Bool, reasons: [String], trustedUntil: Date?) {
        let now = clock.now
        var always = false
        if let groups {
            let accountKey = UserAccount.key(tenantID: tenantID, userRef: userRef)
            let account = UserAccount.decode(try await store.riskStates(prefix: accountKey, now: now, limit: 1)[accountKey])
            always = groups.policy(for: account?.group)?.policy.twoFactor == .always
        }
        let key = Self.key(tenantID: tenantID, userRef: userRef, deviceID: deviceID)
        let stored = try await store.riskStates(prefix: key, now: now, limit: 1)[key]
        let record = stored.flatMap { try? JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
        var reasons: [String] = []
        if ![.login].contains(purpose) { reasons.append("sensitive_purpose") }
        if always { reasons.append("group_policy") }
        if let record, let token, Self.constantTimeEqual(SecretHash.hex(token), record.tokenHash) {
            if let ipCountry, !record.countries.contains(ipCountry.uppercased()) { reasons.append("new_country") }
        } else {
            reasons.append(record == nil ? "unknown_device" : "device_token_invalid")
        }
        let trusted = reasons.isEmpty ? record.map { Timestamp.date(millis: $0.expiresAt) } : nil
        return (!reasons.isEmpty, reasons, trusted)
    }

    /// Revokes the trusted devices of a user (one device, or all); returns how many.
    public func revoke(tenantID: String, userRef: String, deviceID: String?, actor: String) async throws -> Int {
        let now = clock.now
        let keys: [String]
        if let deviceID {
            keys = [Self.key(tenantID: tenantID, userRef: userRef, deviceID: deviceID)]
        } else {
            keys = Array(try await store.riskStates(prefix: Self.userPrefix(tenantID: tenantID, userRef: userRef), now: now, limit: 1000).keys)
        }
        return try await store.updateRiskState(keys: keys, now: now) { state in
            let live = keys.filter { state[$0] != nil }
            guard !live.isEmpty else { return (0, RiskStateWrite()) }
            return (live.count, RiskStateWrite(
                values: Dictionary(uniqueKeysWithValues: live.map { ($0, RiskStateValue("", expiresAt: now)) }),
                events: [Event(tenantID: tenantID, verificationID: nil, type: "device.revoked", createdAt: now,
                               data: ["count": .number(Double(live.count)), "actor": .string(actor)])]))
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
