import Crypto
public import Foundation
public import SandiCore

/// Errors about the code keys.
public enum KeyringError: Error, CustomStringConvertible {
    case malformed(String)
    case tooShort(String)
    case unreadable(String)

    public var description: String {
        switch self {
        case .malformed(let why): "code keys are malformed: \(why)"
        case .tooShort(let id): "code key \(id) is shorter than 32 bytes"
        case .unreadable(let path): "cannot read the key file at \(path)"
        }
    }
}

/// The code keys: from configuration (`kid:base64,…`, current first) or from the data
/// directory's key file (`code-keys.json`, mode 0600), created on first use and rotated by
/// `sandi secret rotate`. Keys never go into the database.
public enum KeyringFile {
    struct Stored: Codable {
        struct Key: Codable { var id: String; var secret: String; var createdAt: String }
        var current: String
        var keys: [Key]
    }

    /// Parses `kid:base64[,kid:base64…]`.
    public static func parse(_ text: String) throws -> Keyring {
        var keys: [Keyring.Key] = []
        for item in text.split(separator: ",") {
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, let data = Data(base64Encoded: String(parts[1])) else {
                throw KeyringError.malformed("each key is `id:base64`")
            }
            guard data.count >= 32 else { throw KeyringError.tooShort(String(parts[0])) }
            keys.append(Keyring.Key(id: String(parts[0]), secret: SymmetricKey(data: data)))
        }
        guard let first = keys.first else { throw KeyringError.malformed("no key given") }
        return Keyring(current: first, older: Array(keys.dropFirst()))
    }

    /// The keyring in `directory`, created with a fresh key if the file does not exist.
    public static func loadOrCreate(directory: String) throws -> Keyring {
        let path = directory + "/code-keys.json"
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        let key = Keyring.generateKey()
        try write(Stored(current: key.id, keys: [stored(key)]), path: path)
        return Keyring(current: key)
    }

    /// Adds a new current key, keeping the old ones for verification. Returns the new key id.
    @discardableResult
    public static func rotate(directory: String) throws -> String {
        let path = directory + "/code-keys.json"
        var file: Stored
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else { throw KeyringError.unreadable(path) }
            file = try JSONDecoder().decode(Stored.self, from: data)
        } else {
            file = Stored(current: "", keys: [])
        }
        let key = Keyring.generateKey()
        file.keys.append(stored(key))
        file.current = key.id
        try write(file, path: path)
        return key.id
    }

    static func load(path: String) throws -> Keyring {
        guard let data = FileManager.default.contents(atPath: path) else { throw KeyringError.unreadable(path) }
        let file = try JSONDecoder().decode(Stored.self, from: data)
        let keys = try file.keys.map { stored -> Keyring.Key in
            guard let secret = Data(base64Encoded: stored.secret), secret.count >= 32 else { throw KeyringError.tooShort(stored.id) }
            return Keyring.Key(id: stored.id, secret: SymmetricKey(data: secret))
        }
        guard let current = keys.first(where: { $0.id == file.current }) else { throw KeyringError.malformed("current key \(file.current) missing") }
        return Keyring(current: current, older: keys.filter { $0.id != current.id })
    }

    static func stored(_ key: Keyring.Key) -> Stored.Key {
        Stored.Key(id: key.id, secret: key.secret.withUnsafeBytes { Data($0) }.base64EncodedString(), createdAt: Timestamp.format(Date()))
    }

    static func write(_ file: Stored, path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try SecretFile.write(try encoder.encode(file), to: path)
    }
}

/// Files readable only by their owner (mode 0600), written atomically.
public enum SecretFile {
    public static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw KeyringError.unreadable(temporary)
        }
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}
