public import Foundation

/// Opaque identifiers with a type prefix (`ver_`, `dlv_`, `grt_`, `evt_`, `ten_`, `key_`).
///
/// The random part is 128 bits from the system CSPRNG (read in blocks, see ``RandomPool``),
/// written in lowercase base32 (Crockford's alphabet without ambiguous letters), so identifiers
/// cannot be guessed or enumerated. Before it comes the creation time (milliseconds, 10
/// characters), as in ULID or UUIDv7: identifiers made one after the other sort together, so a
/// database inserts them next to each other instead of on a random page of each index (measured:
/// about half the pages a start writes on SQLite).
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
        // prefix, then 128 random bits in 26 characters.
        let random = RandomPool.shared.next128()
        let prefix = kind.rawValue.utf8
        return String(unsafeUninitializedCapacity: prefix.count + 37) { out in
            var index = 0
            for byte in prefix {
                out[index] = byte
                index += 1
            }
            out[index] = UInt8(ascii: "_")
            index = writeTime(millis(Date()), into: out, at: index + 1)
            return writeBase32(count: 16, { UInt8(truncatingIfNeeded: ($0 < 8 ? random.0 : random.1) >> UInt64(($0 % 8) * 8)) }, into: out, at: index)
        }
    }

    /// The instant in milliseconds since 1970 as 10 base32 characters (50 bits: until the year 37648).
    public static func timePrefix(_ date: Date) -> String {
        String(unsafeUninitializedCapacity: 10) { writeTime(millis(date), into: $0, at: 0) }
    }

    /// `count` random bytes written in base32 (5 bits a character).
    public static func randomBase32(bytes count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        // Eight random bytes per call to the system CSPRNG.
        var random: [UInt8] = []
        random.reserveCapacity(count + 8)
        while random.count < count {
            withUnsafeBytes(of: rng.next()) { random.append(contentsOf: $0) }
        }
        return String(unsafeUninitializedCapacity: count * 8 / 5 + 1) { writeBase32(count: count, { random[$0] }, into: $0, at: 0) }
    }

    private static func millis(_ date: Date) -> UInt64 {
        UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Writes `millis` as 10 base32 characters (most significant first) from `start`; returns the
    /// index after them.
    private static func writeTime(_ millis: UInt64, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        for position in 0..<10 {
            out[start + position] = alphabet[Int((millis >> UInt64((9 - position) * 5)) & 31)]
        }
        return start + 10
    }

    /// Writes `count` bytes (`byte(i)` for each) in base32 from `start`, 5 bits a character, the
    /// last character padded with zero bits; returns the index after them.
    private static func writeBase32(count: Int, _ byte: (Int) -> UInt8, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var index = start
        var buffer: UInt64 = 0
        var bits = 0
        for position in 0..<count {
            buffer = (buffer << 8) | UInt64(byte(position))
            bits += 8
            while bits >= 5 {
                bits -= 5
                out[index] = alphabet[Int((buffer >> UInt64(bits)) & 31)]
                index += 1
            }
        }
        if bits > 0 {
            out[index] = alphabet[Int((buffer << UInt64(5 - bits)) & 31)]
            index += 1
        }
        return index
    }

    /// Whether `value` looks like an identifier of `kind` (prefix and alphabet; length bounded).
    public static func isWellFormed(_ value: String, as kind: Kind) -> Bool {
        let utf8 = value.utf8
        guard utf8.count > kind.rawValue.utf8.count + 1, utf8.count <= 64 else { return false }
        guard value.hasPrefix(kind.rawValue + "_") else { return false }
        return utf8.dropFirst(kind.rawValue.utf8.count + 1).allSatisfy { alphabet.contains($0) }
    }
}
