public import Foundation

/// Opaque identifiers with a type prefix (`ver_`, `dlv_`, `grt_`, `evt_`, `ten_`, `key_`).
///
/// The random part is 128 bits from the system CSPRNG, written in lowercase base32 (Crockford's
/// alphabet without ambiguous letters), so identifiers cannot be guessed or enumerated. Before it
/// comes the creation time (milliseconds, 10 characters), as in ULID or UUIDv7: identifiers made
/// one after the other sort together, so a database inserts them next to each other instead of on
/// a random page of each index (measured: about half the pages a start writes on SQLite).
public enum Identifier {
    /// The type prefixes used by Sandi.
    public enum Kind: String, Sendable, CaseIterable {
        case verification = "ver"
        case delivery = "dlv"
        case grant = "grt"
        case event = "evt"
        case tenant = "ten"
        case apiKey = "key"
        case job = "job"
        case message = "msg"
        case notice = "ntc"
        case deviceToken = "dvt"
        case webhook = "whk"
        case webhookDelivery = "whd"
        case phoneChange = "pcr"
        case recovery = "rcv"
    }

    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A new identifier of the given kind, e.g. `ver_3k9…`.
    public static func make(_ kind: Kind) -> String {
        // Written in place (several identifiers are made on every start): the prefix, the time
        // prefix, then 128 random bits in 26 characters, as ``randomBase32(bytes:)`` writes 16 bytes.
        var rng = SystemRandomNumberGenerator()
        let random = (rng.next(), rng.next())
        let millis = UInt64(max(0, (Date().timeIntervalSince1970 * 1000).rounded(.down)))
        let prefix = kind.rawValue.utf8
        return String(unsafeUninitializedCapacity: prefix.count + 37) { out in
            var index = 0
            for byte in prefix {
                out[index] = byte
                index += 1
            }
            out[index] = UInt8(ascii: "_")
            index += 1
            for shift in stride(from: 45, through: 0, by: -5) {
                out[index] = alphabet[Int((millis >> UInt64(shift)) & 31)]
                index += 1
            }
            var buffer: UInt64 = 0
            var bits = 0
            for byteIndex in 0..<16 {
                let word = byteIndex < 8 ? random.0 : random.1
                buffer = (buffer << 8) | ((word >> UInt64((byteIndex % 8) * 8)) & 0xFF)
                bits += 8
                while bits >= 5 {
                    bits -= 5
                    out[index] = alphabet[Int((buffer >> UInt64(bits)) & 31)]
                    index += 1
                }
            }
            out[index] = alphabet[Int((buffer << UInt64(5 - bits)) & 31)]
            return index + 1
        }
    }

    /// The instant in milliseconds since 1970 as 10 base32 characters (50 bits: until the year 37648).
    public static func timePrefix(_ date: Date) -> String {
        let millis = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        return String(decoding: (0..<10).reversed().map { alphabet[Int((millis >> UInt64($0 * 5)) & 31)] }, as: UTF8.self)
    }

    /// `count` random bytes written in base32 (5 bits a character).
    public static func randomBase32(bytes count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count * 8 / 5 + 1)
        // Eight random bytes per call to the system CSPRNG.
        var random: [UInt8] = []
        random.reserveCapacity(count + 8)
        while random.count < count {
            withUnsafeBytes(of: rng.next()) { random.append(contentsOf: $0) }
        }
        var buffer: UInt64 = 0
        var bits = 0
        for index in 0..<count {
            buffer = (buffer << 8) | UInt64(random[index])
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt64(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt64(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `value` looks like an identifier of `kind` (prefix and alphabet; length bounded).
    public static func isWellFormed(_ value: String, as kind: Kind) -> Bool {
        let utf8 = value.utf8
        guard utf8.count > kind.rawValue.utf8.count + 1, utf8.count <= 64 else { return false }
        guard value.hasPrefix(kind.rawValue + "_") else { return false }
        return utf8.dropFirst(kind.rawValue.utf8.count + 1).allSatisfy { alphabet.contains($0) }
    }
}
