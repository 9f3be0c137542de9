/// How the parts of a long SMS are tied together for the handset.
public enum SMSConcatenation: Sendable, Equatable, Hashable {
    /// A 6-octet user data header `05 00 03 ref total seq` at the start of each `short_message`,
    /// with `esm_class` 0x40 (UDHI).
    case udh
    /// The SMSC builds the header from TLVs `sar_msg_ref_num` (0x020C), `sar_total_segments`
    /// (0x020E) and `sar_segment_seqnum` (0x020F); `short_message` holds text only.
    case sar
    /// No splitting by us: a long body goes whole in the `message_payload` TLV (0x0424) and the
    /// SMSC splits it. A body that fits one SMS still goes in `short_message`.
    case messagePayload
}

/// One submit_sm worth of an SMS: what goes in `short_message`, `esm_class` and TLVs.
public struct SMSSegment: Sendable, Equatable {
    /// The `short_message` octets: optional UDH followed by the encoded text.
    public var shortMessage: [UInt8]
    /// `esm_class`: 0x40 when `shortMessage` starts with a UDH, else 0x00.
    public var esmClass: UInt8
    /// SAR or `message_payload` TLVs, when the concatenation mode asks for them.
    public var tlvs: [SMPPTLV]
    /// Text length of this part in the encoding's units (septets or UTF-16 units).
    public var units: Int

    /// Creates a segment.
    public init(shortMessage: [UInt8], esmClass: UInt8 = 0, tlvs: [SMPPTLV] = [], units: Int) {
        self.shortMessage = shortMessage
        self.esmClass = esmClass
        self.tlvs = tlvs
        self.units = units
    }
}

/// Why a text cannot be split into SMS parts.
public enum SMSSegmentationError: Error, Equatable, Sendable {
    /// More than 255 parts would be needed (the concatenation counters are one octet).
    case tooManySegments(Int)
}

/// An SMS text encoded and split into the parts to submit, in order.
public struct SMSSegmentation: Sendable, Equatable {
    /// The encoding chosen for the whole text.
    public var encoding: SMSEncoding
    /// The parts, first to last; one part when the text fits a single SMS.
    public var segments: [SMSSegment]

    /// Encodes `text` (GSM-7 when possible, else UCS-2) and splits it at 160/153 septets or
    /// 70/67 UTF-16 units, never inside an escape pair or a surrogate pair. `reference` ties
    /// the parts together (its low octet only, with UDH).
    public init(
        text: String,
        concatenation: SMSConcatenation = .udh,
        reference: UInt16 = 0
    ) throws(SMSSegmentationError) {
        let encoding = SMSEncoding.choose(for: text)
        let chunks = encoding.characterChunks(of: text) ?? []
        let total = chunks.reduce(0) { $0 + encoding.units(ofChunk: $1) }
        self.encoding = encoding
        if total <= encoding.singleSegmentLimit {
            segments = [SMSSegment(shortMessage: chunks.flatMap { $0 }, units: total)]
            return
        }
        if concatenation == .messagePayload {
            let payload = SMPPTLV(tag: .messagePayload, value: chunks.flatMap { $0 })
            segments = [SMSSegment(shortMessage: [], tlvs: [payload], units: total)]
            return
        }
        let parts = Self.split(chunks, limit: encoding.concatenatedSegmentLimit, encoding: encoding)
        guard parts.count <= 255 else { throw .tooManySegments(parts.count) }
        let count = UInt8(parts.count)
        segments = parts.enumerated().map { index, part in
            let sequence = UInt8(index + 1)
            switch concatenation {
            case .sar:
                let tlvs: [SMPPTLV] = [
                    .sarMessageReference(reference), .sarTotalSegments(count), .sarSegmentSequence(sequence),
                ]
                return SMSSegment(shortMessage: part.bytes, tlvs: tlvs, units: part.units)
            case .udh, .messagePayload:
                let header: [UInt8] = [0x05, 0x00, 0x03, UInt8(truncatingIfNeeded: reference), count, sequence]
                return SMSSegment(shortMessage: header + part.bytes, esmClass: 0x40, units: part.units)
            }
        }
    }

    /// Greedy split of whole characters into parts of at most `limit` units.
    private static func split(
        _ chunks: [[UInt8]],
        limit: Int,
        encoding: SMSEncoding
    ) -> [(bytes: [UInt8], units: Int)] {
        var parts: [(bytes: [UInt8], units: Int)] = []
        var bytes: [UInt8] = []
        var units = 0
        for chunk in chunks {
            let cost = encoding.units(ofChunk: chunk)
            if units + cost > limit {
                parts.append((bytes, units))
                bytes = []
                units = 0
            }
            bytes.append(contentsOf: chunk)
            units += cost
        }
        if units > 0 {
            parts.append((bytes, units))
        }
        return parts
    }
}
