import _CryptoExtras
import Crypto
import Foundation
public import SandiCore

/// Why an administrative step on dashboard accounts was refused.
public enum AdminError: Error, Equatable, CustomStringConvertible {
    case invalidName
    case exists
    case notFound

    public var description: String {
        switch self {
        case .invalidName: "names are 3–32 lowercase letters, digits, '.', '-' or '_'"
        case .exists: "an account with this name exists"
        case .notFound: "no such account"
        }
    }
}

/// The dashboard's accounts, kept in the shared key-value state (so every node sees them):
/// passwords as scrypt hashes, TOTP secrets sealed under the server's code key. Sign-ins need the
/// password and a fresh TOTP code; a code is accepted once; five failures lock the account for
/// 15 minutes. Every change and sign-in is an event of the operator (`_sandi`) in the audit trail.
public struct AdminDirectory: Sendable {
    /// The tenant id under which the operator's own events are recorded.
    public static let operatorTenant = "_sandi"
    static let prefix = "admin|"
    public let store: any RiskStateStore
    public let hasher: CodeHasher
    public let clock: any TimeSource
    /// scrypt cost (log2 N); tests may lower it.
    public let scryptLogN: Int

    public init(store: any RiskStateStore, hasher: CodeHasher, clock: any TimeSource, scryptLogN: Int = 15) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.scryptLogN = scryptLogN
    }

    /// What `create` hands out once: the password and the authenticator secret.
    public struct Credentials: Sendable {
        public let password: String
        public let totpSecret: [UInt8]
        public let totpURI: String
    }

    /// Creates an account with a generated password and TOTP secret (shown once).
    public func create(name: String, role: AdminRole, tenantID: String?, actor: String) async throws -> Credentials {
        guard AdminAccount.isValidName(name) else { throw AdminError.invalidName }
        let password = Identifier.randomBase32(bytes: 15).lowercased()
        let secret = (0..<20).map { _ in UInt8.random(in: 0...255) }
        let now = clock.now
        let account = AdminAccount(name: name, role: role, tenantID: tenantID, passwordHash: try hash(password: password),
                                   totp: try hasher.sealText(Base32.encode(secret), context: "totp|" + name), createdAt: now)
        let text = String(decoding: try JSONEncoder().encode(account), as: UTF8.self)
        let key = Self.prefix + name
        let created: Bool = try await store.updateRiskState(keys: [key], now: now) { existing in
            guard existing[key] == nil else { return (false, RiskStateWrite()) }
            return (true, RiskStateWrite(values: [key: RiskStateValue(text, expiresAt: .distantFuture)], events: [
                Event(tenantID: Self.operatorTenant, verificationID: nil, type: "admin.created", createdAt: now,
                      data: ["name": .string(name), "role": .string(role.rawValue), "tenant_id": tenantID.map(JSONValue.string) ?? .null, "actor": .string(actor)]),
            ]))
        }
        guard created else { throw AdminError.exists }
        return Credentials(password: password, totpSecret: secret, totpURI: TOTP.uri(secret: secret, account: name, issuer: "Sandi"))
    }

    public func account(named name: String) async throws -> AdminAccount? {
        let values = try await store.riskStates(prefix: Self.prefix + name, now: clock.now, limit: 10)
        return values[Self.prefix + name].flatMap { try? JSONDecoder().decode(AdminAccount.self, from: Data($0.utf8)) }
    }

    public func accounts() async throws -> [AdminAccount] {
        try await store.riskStates(prefix: Self.prefix, now: clock.now, limit: 10_000).values
            .compactMap { try? JSONDecoder().decode(AdminAccount.self, from: Data($0.utf8)) }
            .sorted { $0.name < $1.name }
    }

    /// Disables or enables an account (sessions of a disabled account stop at their next request).
    public func setDisabled(_ name: String, _ disabled: Bool, actor: String) async throws {
        let key = Self.prefix + name
        let now = clock.now
        let done: Bool = try await store.updateRiskState(keys: [key], now: now) { existing in
            guard let text = existing[key], var account = try? JSONDecoder().decode(AdminAccount.self, from: Data(text.utf8)) else { return (false, RiskStateWrite()) }
            account.disabled = disabled
            let updated = String(decoding: try JSONEncoder().encode(account), as: UTF8.self)
            return (true, RiskStateWrite(values: [key: RiskStateValue(updated, expiresAt: .distantFuture)], events: [
                Event(tenantID: Self.operatorTenant, verificationID: nil, type: disabled ? "admin.disabled" : "admin.enabled", createdAt: now,
                      data: ["name": .string(name), "actor": .string(actor)]),
            ]))
        }
        guard done else { throw AdminError.notFound }
    }

    /// The account when `password` and `code` are right and the account may sign in now; nil
    /// otherwise (the same answer for every reason, recorded as an event).
    public func authenticate(name: String, password: String, code: String, from address: String?) async throws -> AdminAccount? {
        let now = clock.now
        let account = try await self.account(named: name)
        // The password check runs (on a dummy hash) even for unknown names, so timing tells nothing.
        let passwordOK = verify(password: password, hash: account?.passwordHash ?? Self.dummyHash)
        let secret = account.flatMap { hasher.unsealText($0.totp, context: "totp|" + $0.name) }.flatMap(Base32.decode)
        let step = secret.flatMap { TOTP.matchingStep(code, secret: $0, at: now) }
        let failKey = "admin.fail|" + name
        let stepKey = "admin.totp|" + name
        let ok = account != nil && account?.disabled == false && passwordOK && step != nil
        let accepted: Bool = try await store.updateRiskState(keys: [failKey, stepKey], now: now) { state in
            let failures = Int(state[failKey] ?? "0") ?? 0
            let lastStep = Int64(state[stepKey] ?? "-1") ?? -1
            let data: [String: JSONValue] = ["name": .string(name), "ip": address.map(JSONValue.string) ?? .null]
            if ok, failures < 5, let step, step > lastStep {
                return (true, RiskStateWrite(
                    values: [failKey: RiskStateValue("0", expiresAt: now), stepKey: RiskStateValue(String(step), expiresAt: now.addingTimeInterval(120))],
                    events: [Event(tenantID: Self.operatorTenant, verificationID: nil, type: "admin.signed_in", createdAt: now, data: data)]))
            }
            var failed = data
            failed["locked"] = .bool(failures + 1 >= 5)
            return (false, RiskStateWrite(
                values: [failKey: RiskStateValue(String(failures + 1), expiresAt: now.addingTimeInterval(15 * 60))],
                events: [Event(tenantID: Self.operatorTenant, verificationID: nil, type: "admin.sign_in_failed", createdAt: now, data: failed)]))
        }
        return accepted ? account : nil
    }

    // MARK: passwords

    static let dummyHash = "scrypt$10$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

    /// `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64).
    func hash(password: String) throws -> String {
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: 1 << scryptLogN, blockSize: 8, parallelism: 1)
        let bytes = key.withUnsafeBytes { Data($0) }
        return "scrypt$\(scryptLogN)$8$1$\(Data(salt).base64EncodedString())$\(bytes.base64EncodedString())"
    }

    func verify(password: String, hash: String) -> Bool {
        let parts = hash.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), (10...20).contains(logN), let r = Int(parts[2]), let p = Int(parts[3]),
              let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]),
              let key = try? KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: expected.count, rounds: 1 << logN, blockSize: r, parallelism: p)
        else { return false }
        let derived = key.withUnsafeBytes { Data($0) }
        var difference: UInt8 = 0
        for (a, b) in zip(derived, expected) { difference |= a ^ b }
        return difference == 0 && derived.count == expected.count
    }
}
