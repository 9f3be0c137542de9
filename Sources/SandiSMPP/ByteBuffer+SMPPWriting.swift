import NIOCore

extension ByteBuffer {
    /// Writes `value` as a C-octet string, checking it fits `maxLength` octets with its NUL.
    mutating func writeSMPPCString(
        _ value: String,
        field: String,
        maxLength: Int
    ) throws(SMPPEncodingError) {
        let bytes = Array(value.utf8)
        guard !bytes.contains(0) else { throw .fieldContainsNUL(field: field) }
        guard bytes.count + 1 <= maxLength else { throw .fieldTooLong(field: field, maxLength: maxLength) }
        writeBytes(bytes)
        writeInteger(UInt8(0))
    }

    /// Writes TLVs in order: tag, two-octet length, value.
    mutating func writeSMPPTLVs(_ tlvs: [SMPPTLV]) throws(SMPPEncodingError) {
        for tlv in tlvs {
            guard tlv.value.count <= Int(UInt16.max) else {
                throw .tlvTooLong(tag: tlv.tag.rawValue, length: tlv.value.count)
            }
            writeInteger(tlv.tag.rawValue)
            writeInteger(UInt16(tlv.value.count))
            writeBytes(tlv.value)
        }
    }
}
