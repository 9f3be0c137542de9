/// UCS-2 as SMSCs use it for `data_coding` 0x08: UTF-16 big-endian, where a character outside
/// the Basic Multilingual Plane takes a surrogate pair (two units, four octets).
public enum UCS2: Sendable {
    /// The number of UTF-16 code units of `text` (surrogate pairs count two).
    public static func unitCount(_ text: String) -> Int {
        text.utf16.count
    }

    /// UTF-16BE bytes of `text`.
    public static func encode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf16.count * 2)
        for unit in text.utf16 {
            out.append(UInt8(truncatingIfNeeded: unit >> 8))
            out.append(UInt8(truncatingIfNeeded: unit))
        }
        return out
    }

    /// Decodes UTF-16BE bytes; an odd trailing byte is ignored and lone surrogates become U+FFFD.
    public static func decode(_ bytes: [UInt8]) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = 0
        while index + 1 < bytes.count {
            units.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
            index += 2
        }
        return String(decoding: units, as: UTF16.self)
    }
}
