/// GSM 03.38 default alphabet codec (basic table plus the basic extension table).
///
/// SMPP `data_coding` 0x00 carries GSM text *unpacked*: one septet per octet. The packed form
/// (eight septets in seven octets) is what travels over the air and inside TPDUs; it is offered
/// here for reference and UDH alignment work.
public enum GSM7: Sendable {
    /// Whether every character of `text` is in the basic table or the extension table.
    public static func canEncode(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { GSM7Alphabet.septets(for: $0) != nil }
    }

    /// The number of septets `text` needs (extension characters count two), or `nil` when a
    /// character is outside the alphabet.
    public static func septetCount(_ text: String) -> Int? {
        var count = 0
        for scalar in text.unicodeScalars {
            guard let septets = GSM7Alphabet.septets(for: scalar) else { return nil }
            count += septets.count
        }
        return count
    }

    /// Unpacked encoding: one septet per octet, extension characters as `1B xx`.
    /// Returns `nil` when a character is outside the alphabet.
    public static func encode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard let septets = GSM7Alphabet.septets(for: scalar) else { return nil }
            out.append(contentsOf: septets)
        }
        return out
    }

    /// Decodes unpacked septets (one per octet; the top bit is ignored). An escape followed by a
    /// code missing from the extension table decodes as that code's basic character, as TS 23.038
    /// asks of receivers; a trailing lone escape is dropped.
    public static func decode(_ septets: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        var escaped = false
        for raw in septets {
            let septet = raw & 0x7F
            if escaped {
                escaped = false
                scalars.append(GSM7Alphabet.extensionReverse[septet] ?? GSM7Alphabet.basic[Int(septet)])
            } else if septet == GSM7Alphabet.escape {
                escaped = true
            } else {
                scalars.append(GSM7Alphabet.basic[Int(septet)])
            }
        }
        return String(scalars)
    }

    /// Packs septets into octets, least significant bit first. `paddingBits` (0–6) fill bits are
    /// put first, as after a user data header that does not end on a septet boundary.
    public static func pack(_ septets: [UInt8], paddingBits: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((septets.count * 7 + paddingBits + 7) / 8)
        var accumulator: UInt32 = 0
        var bits = max(0, min(paddingBits, 6))
        for septet in septets {
            accumulator |= UInt32(septet & 0x7F) << UInt32(bits)
            bits += 7
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator >>= 8
                bits -= 8
            }
        }
        if bits > 0 {
            out.append(UInt8(truncatingIfNeeded: accumulator))
        }
        return out
    }

    /// Unpacks `septetCount` septets from packed octets, skipping `paddingBits` leading fill bits.
    /// Stops early when the octets run out.
    public static func unpack(_ octets: [UInt8], septetCount: Int, paddingBits: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(max(0, septetCount))
        var bitOffset = max(0, min(paddingBits, 6))
        while out.count < septetCount {
            let byteIndex = bitOffset / 8
            guard byteIndex < octets.count else { break }
            let shift = bitOffset % 8
            var value = UInt16(octets[byteIndex]) >> UInt16(shift)
            if shift > 1 {
                guard byteIndex + 1 < octets.count else { break }
                value |= UInt16(octets[byteIndex + 1]) << UInt16(8 - shift)
            }
            out.append(UInt8(value & 0x7F))
            bitOffset += 7
        }
        return out
    }
}
