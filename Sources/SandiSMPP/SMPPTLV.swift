/// The tag of an SMPP optional parameter (TLV).
public struct SMPPTLVTag: RawRepresentable, Hashable, Sendable {
    /// The wire value.
    public var rawValue: UInt16

    /// Wraps a wire value.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// `receipted_message_id` (0x001E): C-octet string, the id of the message a receipt is for.
    public static let receiptedMessageID = SMPPTLVTag(rawValue: 0x001E)
    /// `user_message_reference` (0x0204).
    public static let userMessageReference = SMPPTLVTag(rawValue: 0x0204)
    /// `sar_msg_ref_num` (0x020C): two octets.
    public static let sarMessageReference = SMPPTLVTag(rawValue: 0x020C)
    /// `sar_total_segments` (0x020E): one octet.
    public static let sarTotalSegments = SMPPTLVTag(rawValue: 0x020E)
    /// `sar_segment_seqnum` (0x020F): one octet.
    public static let sarSegmentSequence = SMPPTLVTag(rawValue: 0x020F)
    /// `sc_interface_version` (0x0210): one octet, in bind responses.
    public static let scInterfaceVersion = SMPPTLVTag(rawValue: 0x0210)
    /// `network_error_code` (0x0423): three octets, network type then a two-octet code.
    public static let networkErrorCode = SMPPTLVTag(rawValue: 0x0423)
    /// `message_payload` (0x0424): the message body instead of `short_message`.
    public static let messagePayload = SMPPTLVTag(rawValue: 0x0424)
    /// `message_state` (0x0427): one octet, see ``SMPPDeliveryState``.
    public static let messageState = SMPPTLVTag(rawValue: 0x0427)
}

/// An SMPP optional parameter: tag, two-octet length, value.
public struct SMPPTLV: Sendable, Equatable, Hashable {
    /// The parameter tag.
    public var tag: SMPPTLVTag
    /// The raw value (its length goes on the wire before it).
    public var value: [UInt8]

    /// Creates a TLV from raw value octets.
    public init(tag: SMPPTLVTag, value: [UInt8]) {
        self.tag = tag
        self.value = value
    }

    /// `sar_msg_ref_num` with a 16-bit reference.
    public static func sarMessageReference(_ reference: UInt16) -> SMPPTLV {
        SMPPTLV(tag: .sarMessageReference, value: [UInt8(reference >> 8), UInt8(truncatingIfNeeded: reference)])
    }

    /// `sar_total_segments`.
    public static func sarTotalSegments(_ total: UInt8) -> SMPPTLV {
        SMPPTLV(tag: .sarTotalSegments, value: [total])
    }

    /// `sar_segment_seqnum` (1-based).
    public static func sarSegmentSequence(_ sequence: UInt8) -> SMPPTLV {
        SMPPTLV(tag: .sarSegmentSequence, value: [sequence])
    }

    /// `receipted_message_id` as a NUL-terminated string.
    public static func receiptedMessageID(_ id: String) -> SMPPTLV {
        SMPPTLV(tag: .receiptedMessageID, value: Array(id.utf8) + [0])
    }

    /// `message_state`.
    public static func messageState(_ state: UInt8) -> SMPPTLV {
        SMPPTLV(tag: .messageState, value: [state])
    }

    /// `network_error_code`: network type (1 ANSI-136, 2 IS-95, 3 GSM, …) and its code.
    public static func networkErrorCode(networkType: UInt8, code: UInt16) -> SMPPTLV {
        SMPPTLV(tag: .networkErrorCode, value: [networkType, UInt8(code >> 8), UInt8(truncatingIfNeeded: code)])
    }

    /// The value read as a C-octet string (up to the first NUL, or all of it).
    public var stringValue: String {
        let end = value.firstIndex(of: 0) ?? value.endIndex
        return String(decoding: value[..<end], as: UTF8.self)
    }

    /// The value as a big-endian unsigned integer of one, two or four octets, else `nil`.
    public var integerValue: UInt32? {
        guard [1, 2, 4].contains(value.count) else { return nil }
        return value.reduce(0) { $0 << 8 | UInt32($1) }
    }
}

extension Array where Element == SMPPTLV {
    /// The first TLV with `tag`, if present.
    public func first(_ tag: SMPPTLVTag) -> SMPPTLV? {
        first { $0.tag == tag }
    }
}
