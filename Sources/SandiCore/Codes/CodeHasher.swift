import Crypto
public import Foundation

/// A code stored as HMAC-SHA256 under a server key, bound to its verification (and to any
/// transaction details), with the id of the key that made it.
public struct CodeDigest: Sendable, Equatable {
    public let keyID: String
    /// Base64 of the 32-byte MAC.
    public let mac: String

    public init(keyID: String, mac: String) {
        self.keyID = keyID
        self.mac = mac
    }
}

/// A code sealed (AES-GCM) under a server key so the same code can be delivered again by a
/// fallback or a resend; wiped as soon as the verification is no longer pending.
public struct SealedCode: Sendable, Equatable {
    public let keyID: String
    /// Base64 of nonce ‖ ciphertext ‖ tag.
    public let box: String

    public init(keyID: String, box: String) {
        self.keyID = keyID
        self.box = box
    }
}

/// Hashes, checks, seals and unseals codes with the keyring. Pure computation.
public struct CodeHasher: Sendable {
    public let keyring: Keyring
    /// Per key id, HMAC-SHA256 already keyed with the key's MAC subkey: each use copies it and
    /// hashes only its message (keying anew hashes two more blocks and allocates the pads).
    private let macs: [String: HMAC<SHA256>]
    private let sealKeys: [String: SymmetricKey]

    public init(keyring: Keyring) {
        self.keyring = keyring
        var mac: [String: HMAC<SHA256>] = [:]
        var seal: [String: SymmetricKey] = [:]
        for id in keyring.keyIDs {
            guard let key = keyring.key(id: id) else { continue }
            mac[id] = HMAC<SHA256>(key: keyring.subkey(key, label: "code-mac-v1"))
            seal[id] = keyring.subkey(key, label: "code-seal-v1")
        }
        self.macs = mac
        self.sealKeys = seal
    }

    /// HMAC-SHA256 of `message` under key `id`'s MAC subkey; nil when the key is not in the
    /// keyring. One update: each goes through swift-crypto's generic `DataProtocol` path.
    private func mac(keyID id: String, _ message: [UInt8]) -> HMAC<SHA256>.MAC? {
        guard var hmac = macs[id] else { return nil }
        hmac.update(data: message)
        return hmac.finalize()
    }

    /// The MAC of a code: `v1|<verification id>|<code>[|<binding>]`.
    private func codeMAC(keyID: String, code: String, verificationID: String, binding: String?) -> HMAC<SHA256>.MAC? {
        var message = Array("v1|".utf8)
        message.reserveCapacity(128)
        message += verificationID.utf8
        message.append(UInt8(ascii: "|"))
        message += code.utf8
        if let binding {
            message.append(UInt8(ascii: "|"))
            message += binding.utf8
        }
        return mac(keyID: keyID, message)
    }

    /// The digest of `code` for a verification, under the current key.
    public func digest(code: String, verificationID: String, binding: String? = nil) -> CodeDigest {
        let id = keyring.current.id
        let mac = codeMAC(keyID: id, code: code, verificationID: verificationID, binding: binding)!
        return CodeDigest(keyID: id, mac: Data(mac).base64EncodedString())
    }

    /// Whether `candidate` matches the stored digest, compared in constant time. A digest whose
    /// key has left the keyring never matches.
    public func matches(_ candidate: String, digest: CodeDigest, verificationID: String, binding: String? = nil) -> Bool {
        guard let expected = Data(base64Encoded: digest.mac),
              let mac = codeMAC(keyID: digest.keyID, code: candidate, verificationID: verificationID, binding: binding)
        else { return false }
        // `==` against bytes is the constant-time comparison of swift-crypto's MACs.
        return mac == expected
    }

    /// Seals `code` under the current key, bound to the verification id.
    public func seal(code: String, verificationID: String) throws -> SealedCode {
        let id = keyring.current.id
        let box = try AES.GCM.seal(Data(code.utf8), using: sealKeys[id]!, authenticating: Data(verificationID.utf8))
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return SealedCode(keyID: id, box: combined.base64EncodedString())
    }

    /// Opens a sealed code; nil when the key is gone or the box was altered or moved.
    public func unseal(_ sealed: SealedCode, verificationID: String) -> String? {
        guard let key = sealKeys[sealed.keyID], let data = Data(base64Encoded: sealed.box),
              let box = try? AES.GCM.SealedBox(combined: data),
              let plain = try? AES.GCM.open(box, using: key, authenticating: Data(verificationID.utf8))
        else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }

    /// A tag for `message` under the current key, separated by `purpose` from code digests
    /// (`<key id>.<base64 HMAC-SHA256>`): signs dashboard sessions.
    public func tag(_ message: Data, purpose: String) -> String {
        let id = keyring.current.id
        return id + "." + Data(tagMAC(keyID: id, message, purpose: purpose)!).base64EncodedString()
    }

    /// The MAC of a tag: `tag|<purpose>|<message>`.
    private func tagMAC(keyID: String, _ message: Data, purpose: String) -> HMAC<SHA256>.MAC? {
        mac(keyID: keyID, Array("tag|\(purpose)|".utf8) + message)
    }

    /// Whether `tag` was made by ``tag(_:purpose:)`` for this message with a key still in the
    /// keyring (constant time).
    public func isValidTag(_ tag: String, for message: Data, purpose: String) -> Bool {
        let parts = tag.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let expected = Data(base64Encoded: String(parts[1])),
              let mac = tagMAC(keyID: String(parts[0]), message, purpose: purpose)
        else { return false }
        return mac == expected
    }

    /// A keyed hash of a phone number for grouping events by number without storing it
    /// (`<key id>.<base64>`; the same number gives the same value until the code key rotates).
    public func numberHash(_ e164: String) -> String {
        tag(Data(e164.utf8), purpose: "number")
    }

    /// Seals arbitrary text (e.g. a simulated message) under the current key.
    public func sealText(_ text: String, context: String) throws -> SealedCode {
        try seal(code: text, verificationID: "text|" + context)
    }

    /// Opens text sealed by ``sealText(_:context:)``.
    public func unsealText(_ sealed: SealedCode, context: String) -> String? {
        unseal(sealed, verificationID: "text|" + context)
    }
}

/// Hashes of high-entropy secrets (API keys, grant tokens): SHA-256 is enough for 128+ bits of entropy.
public enum SecretHash {
    /// Hex SHA-256 of `secret`.
    public static func hex(_ secret: String) -> String {
        // On every authenticated request (the API key's hash): one pass, no string per byte.
        AuditChain.hex(SHA256.hash(data: Data(secret.utf8)))
    }
}
