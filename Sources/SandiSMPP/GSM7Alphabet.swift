/// The GSM 03.38 (3GPP TS 23.038) default alphabet and its basic extension table.
enum GSM7Alphabet {
    /// The escape septet that announces a character from the extension table.
    static let escape: UInt8 = 0x1B

    /// The basic table, indexed by septet value (0x00–0x7F). Index 0x1B is the escape and maps to
    /// no character of its own (a non-breaking space is its display fallback).
    static let basic: [Unicode.Scalar] = [
        "@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø", "ø", "\r", "Å", "å",
        "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", "\u{A0}", "Æ", "æ", "ß", "É",
        " ", "!", "\"", "#", "¤", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
        "¡", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
        "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "Ä", "Ö", "Ñ", "Ü", "§",
        "¿", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
        "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "ä", "ö", "ñ", "ü", "à",
    ]

    /// The basic extension table: character → code that follows the escape septet.
    static let extensionTable: [Unicode.Scalar: UInt8] = [
        "\u{0C}": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F,
        "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65,
    ]

    /// Character → septet for the basic table (the escape slot excluded).
    static let basicLookup: [Unicode.Scalar: UInt8] = {
        var table: [Unicode.Scalar: UInt8] = [:]
        for (index, scalar) in basic.enumerated() where UInt8(index) != escape {
            table[scalar] = UInt8(index)
        }
        return table
    }()

    /// Code after the escape → character, for decoding.
    static let extensionReverse: [UInt8: Unicode.Scalar] = {
        var table: [UInt8: Unicode.Scalar] = [:]
        for (scalar, code) in extensionTable {
            table[code] = scalar
        }
        return table
    }()

    /// The septets for one character: one for the basic table, two (escape + code) for the
    /// extension table, `nil` when the character is not in the alphabet.
    static func septets(for scalar: Unicode.Scalar) -> [UInt8]? {
        if let septet = basicLookup[scalar] {
            return [septet]
        }
        if let code = extensionTable[scalar] {
            return [escape, code]
        }
        return nil
    }
}
