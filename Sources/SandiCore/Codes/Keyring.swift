public import Crypto
import Foundation

/// The server's secret keys for codes, identified by key id so they can rotate: the current key
/// issues, every listed key still verifies and unseals. Keys never live in the database.
public struct Keyring: Sendable {
    /// One key with its id.
    public struct Key: Sendable {
        public let id: String
        public let secret: SymmetricKey

        public init(id: String, secret: SymmetricKey) {
            self.id = id
            self.secret = secret
        }
    }

    /// The key that issues new hashes and seals.
    public let current: Key
    private let byID: [String: Key]

    /// A keyring whose current key is `current`; `older` keys still verify.
    public init(current: Key, older: [Key] = []) {
        self.current = current
        var map: [String: Key] = [:]
        for key in older { map[key.id] = key }
        map[current.id] = current
        self.byID = map
    }

    /// Every key id, current first.
    public var keyIDs: [String] { [current.id] + byID.keys.filter { $0 != current.id }.sorted() }

    /// The key with this id, if the keyring still holds it.
    public func key(id: String) -> Key? { byID[id] }

    /// A new random 256-bit key with a random id.
    public static func generateKey() -> Key {
        Key(id: "k" + Identifier.randomBase32(bytes: 5), secret: SymmetricKey(size: .bits256))
    }

    /// Derives a purpose-specific subkey so one server secret never serves two uses.
    func subkey(_ key: Key, label: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key.secret, salt: Data("sandi".utf8), info: Data(label.utf8), outputByteCount: 32)
    }
}
