/// The alphabet an SMS travels in, chosen per message: GSM 03.38 when every character is in it,
/// UCS-2 otherwise (one non-GSM character moves the whole message to UCS-2).
public enum SMSEncoding: Sendable, Equatable, Hashable {
    /// GSM 03.38 default alphabet, sent unpacked with `data_coding` 0x00.
    case gsm7
    /// UTF-16BE with `data_coding` 0x08.
    case ucs2

    /// Picks GSM-7 when `text` is fully encodable, UCS-2 otherwise.
    public static func choose(for text: String) -> SMSEncoding {
        GSM7.canEncode(text) ? .gsm7 : .ucs2
    }

    /// The SMPP `data_coding` value for this encoding.
    public var dataCoding: UInt8 {
        switch self {
        case .gsm7: 0x00
        case .ucs2: 0x08
        }
    }

    /// Units (septets or UTF-16 code units) that fit in one unsegmented SMS: 160 or 70.
    public var singleSegmentLimit: Int {
        switch self {
        case .gsm7: 160
        case .ucs2: 70
        }
    }

    /// Units per part of a concatenated SMS, after the 6-octet UDH: 153 or 67.
    public var concatenatedSegmentLimit: Int {
        switch self {
        case .gsm7: 153
        case .ucs2: 67
        }
    }

    /// The length of `text` in this encoding's units: septets (extension characters count two)
    /// or UTF-16 code units (surrogate pairs count two). `nil` when GSM-7 cannot carry it.
    public func units(of text: String) -> Int? {
        switch self {
        case .gsm7: GSM7.septetCount(text)
        case .ucs2: UCS2.unitCount(text)
        }
    }

    /// The encoded bytes of each character, so that splitting never cuts one in half
    /// (an escape pair or a surrogate pair stays together). `nil` when GSM-7 cannot carry it.
    func characterChunks(of text: String) -> [[UInt8]]? {
        var chunks: [[UInt8]] = []
        chunks.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch self {
            case .gsm7:
                guard let septets = GSM7Alphabet.septets(for: scalar) else { return nil }
                chunks.append(septets)
            case .ucs2:
                chunks.append(UCS2.encode(String(scalar)))
            }
        }
        return chunks
    }

    /// How many units one chunk of `characterChunks(of:)` costs.
    func units(ofChunk chunk: [UInt8]) -> Int {
        switch self {
        case .gsm7: chunk.count
        case .ucs2: chunk.count / 2
        }
    }
}
