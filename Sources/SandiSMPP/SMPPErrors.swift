/// Why bytes could not be read as an SMPP PDU. Decoding never traps: every malformed input
/// ends in one of these.
public enum SMPPDecodingError: Error, Equatable, Sendable {
    /// Fewer octets than the header or `command_length` announces.
    case truncated(needed: Int, available: Int)
    /// `command_length` below 16 or above the accepted maximum.
    case invalidCommandLength(UInt32)
    /// A `command_id` this codec does not handle.
    case unknownCommandID(SMPPCommandID)
    /// A C-octet string ran to the end of the PDU without its NUL.
    case missingNULTerminator(field: String)
    /// A C-octet string longer than its maximum (which counts the NUL).
    case fieldTooLong(field: String, maxLength: Int)
    /// A fixed-size mandatory field lies past the end of the PDU.
    case truncatedField(field: String)
    /// `sm_length` above 254 or past the end of the PDU.
    case invalidShortMessageLength(Int)
    /// A TLV header or value runs past the end of the PDU.
    case truncatedTLV(tag: UInt16)
    /// Octets after the body of a command that has none.
    case unexpectedBody(SMPPCommandID, extraOctets: Int)

    /// The `command_status` to put in a `generic_nack` for this error.
    public var commandStatus: SMPPCommandStatus {
        switch self {
        case .unknownCommandID: .invalidCommandID
        case .invalidShortMessageLength: .invalidMessageLength
        case .truncatedTLV: .invalidOptionalParameterStream
        case .truncated, .invalidCommandLength, .missingNULTerminator, .fieldTooLong, .truncatedField,
            .unexpectedBody:
            .invalidCommandLength
        }
    }
}

/// Why a PDU could not be written: a field breaks the SMPP 3.4 size limits.
public enum SMPPEncodingError: Error, Equatable, Sendable {
    /// A C-octet string longer than its maximum (which counts the NUL).
    case fieldTooLong(field: String, maxLength: Int)
    /// A C-octet string with a NUL inside.
    case fieldContainsNUL(field: String)
    /// `short_message` over 254 octets (use the `message_payload` TLV instead).
    case shortMessageTooLong(Int)
    /// A TLV value over 65535 octets.
    case tlvTooLong(tag: UInt16, length: Int)
}
