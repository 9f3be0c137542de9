import NIOCore

/// Reads the fields of one PDU body, throwing a typed error at the first malformed field.
struct SMPPBodyReader {
    var buffer: ByteBuffer

    var isAtEnd: Bool {
        buffer.readableBytes == 0
    }

    /// A C-octet string whose NUL must come within `maxLength` octets.
    mutating func cString(_ field: String, maxLength: Int) throws(SMPPDecodingError) -> String {
        let window = min(buffer.readableBytes, maxLength)
        let nul = buffer.withUnsafeReadableBytes { raw in
            raw.prefix(window).firstIndex(of: 0)
        }
        guard let nul else {
            if buffer.readableBytes < maxLength {
                throw .missingNULTerminator(field: field)
            }
            throw .fieldTooLong(field: field, maxLength: maxLength)
        }
        let bytes = buffer.readBytes(length: nul) ?? []
        buffer.moveReaderIndex(forwardBy: 1)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One octet.
    mutating func octet(_ field: String) throws(SMPPDecodingError) -> UInt8 {
        guard let value = buffer.readInteger(as: UInt8.self) else { throw .truncatedField(field: field) }
        return value
    }

    /// `sm_length` followed by `short_message`.
    mutating func shortMessage() throws(SMPPDecodingError) -> [UInt8] {
        let length = Int(try octet("sm_length"))
        guard length <= SMPPFieldLimits.shortMessage, let bytes = buffer.readBytes(length: length) else {
            throw .invalidShortMessageLength(length)
        }
        return bytes
    }

    /// TLVs until the end of the body.
    mutating func tlvs() throws(SMPPDecodingError) -> [SMPPTLV] {
        var result: [SMPPTLV] = []
        while !isAtEnd {
            guard let tag = buffer.readInteger(as: UInt16.self) else {
                throw .truncatedTLV(tag: 0)
            }
            guard let length = buffer.readInteger(as: UInt16.self),
                let value = buffer.readBytes(length: Int(length))
            else {
                throw .truncatedTLV(tag: tag)
            }
            result.append(SMPPTLV(tag: SMPPTLVTag(rawValue: tag), value: value))
        }
        return result
    }

    /// Fails when octets remain after a body that allows nothing more.
    func expectEnd(_ command: SMPPCommandID) throws(SMPPDecodingError) {
        guard isAtEnd else { throw .unexpectedBody(command, extraOctets: buffer.readableBytes) }
    }
}
