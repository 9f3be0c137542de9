public import NIOCore

extension SMPPPDU {
    /// Reads the header at the reader index without consuming it; `nil` with fewer than 16 octets.
    public static func peekHeader(_ buffer: ByteBuffer) -> SMPPHeader? {
        let at = buffer.readerIndex
        guard buffer.readableBytes >= SMPPHeader.length,
            let length = buffer.getInteger(at: at, as: UInt32.self),
            let id = buffer.getInteger(at: at + 4, as: UInt32.self),
            let status = buffer.getInteger(at: at + 8, as: UInt32.self),
            let sequence = buffer.getInteger(at: at + 12, as: UInt32.self)
        else { return nil }
        return SMPPHeader(
            commandLength: length,
            commandID: SMPPCommandID(rawValue: id),
            commandStatus: SMPPCommandStatus(rawValue: status),
            sequenceNumber: sequence
        )
    }

    /// Reads one whole PDU (exactly `command_length` octets) from `buffer`. On error the reader
    /// index is left where it was.
    public static func decode(
        from buffer: inout ByteBuffer,
        maximumLength: Int = SMPPFrameDecoder.defaultMaximumLength
    ) throws(SMPPDecodingError) -> SMPPPDU {
        guard let header = peekHeader(buffer) else {
            throw .truncated(needed: SMPPHeader.length, available: buffer.readableBytes)
        }
        let length = Int(header.commandLength)
        guard length >= SMPPHeader.length, length <= maximumLength else {
            throw .invalidCommandLength(header.commandLength)
        }
        guard buffer.readableBytes >= length,
            let body = buffer.getSlice(at: buffer.readerIndex + SMPPHeader.length, length: length - SMPPHeader.length)
        else {
            throw .truncated(needed: length, available: buffer.readableBytes)
        }
        let pdu = try decodeBody(header: header, body: body)
        buffer.moveReaderIndex(forwardBy: length)
        return pdu
    }

    private static func decodeBody(header: SMPPHeader, body: ByteBuffer) throws(SMPPDecodingError) -> SMPPPDU {
        var reader = SMPPBodyReader(buffer: body)
        let decoded: Body
        switch header.commandID {
        case .bindTransceiver:
            decoded = .bindTransceiver(
                SMPPBind(
                    systemID: try reader.cString("system_id", maxLength: SMPPFieldLimits.systemID),
                    password: try reader.cString("password", maxLength: SMPPFieldLimits.password),
                    systemType: try reader.cString("system_type", maxLength: SMPPFieldLimits.systemType),
                    interfaceVersion: try reader.octet("interface_version"),
                    addressTON: try reader.octet("addr_ton"),
                    addressNPI: try reader.octet("addr_npi"),
                    addressRange: try reader.cString("address_range", maxLength: SMPPFieldLimits.addressRange)
                ))
            try reader.expectEnd(header.commandID)
        case .bindTransceiverResp:
            let systemID =
                if reader.isAtEnd { "" } else { try reader.cString("system_id", maxLength: SMPPFieldLimits.systemID) }
            decoded = .bindTransceiverResp(SMPPBindResponse(systemID: systemID, tlvs: try reader.tlvs()))
        case .submitSM:
            decoded = .submitSM(try decodeShortMessage(&reader))
        case .deliverSM:
            decoded = .deliverSM(try decodeShortMessage(&reader))
        case .submitSMResp, .deliverSMResp:
            let id =
                if reader.isAtEnd { "" } else { try reader.cString("message_id", maxLength: SMPPFieldLimits.messageID) }
            _ = try reader.tlvs()
            decoded = header.commandID == .submitSMResp ? .submitSMResp(messageID: id) : .deliverSMResp(messageID: id)
        case .enquireLink, .enquireLinkResp, .unbind, .unbindResp, .genericNack:
            try reader.expectEnd(header.commandID)
            decoded = try headerOnlyBody(header.commandID)
        default:
            throw .unknownCommandID(header.commandID)
        }
        return SMPPPDU(sequenceNumber: header.sequenceNumber, commandStatus: header.commandStatus, body: decoded)
    }

    private static func headerOnlyBody(_ id: SMPPCommandID) throws(SMPPDecodingError) -> Body {
        switch id {
        case .enquireLink: .enquireLink
        case .enquireLinkResp: .enquireLinkResp
        case .unbind: .unbind
        case .unbindResp: .unbindResp
        case .genericNack: .genericNack
        default: throw .unknownCommandID(id)
        }
    }

    private static func decodeShortMessage(_ reader: inout SMPPBodyReader) throws(SMPPDecodingError) -> SMPPShortMessage {
        let serviceType = try reader.cString("service_type", maxLength: SMPPFieldLimits.serviceType)
        let source = SMPPAddress(
            ton: try reader.octet("source_addr_ton"),
            npi: try reader.octet("source_addr_npi"),
            address: try reader.cString("source_addr", maxLength: SMPPFieldLimits.address)
        )
        let destination = SMPPAddress(
            ton: try reader.octet("dest_addr_ton"),
            npi: try reader.octet("dest_addr_npi"),
            address: try reader.cString("destination_addr", maxLength: SMPPFieldLimits.address)
        )
        return SMPPShortMessage(
            serviceType: serviceType,
            source: source,
            destination: destination,
            esmClass: try reader.octet("esm_class"),
            protocolID: try reader.octet("protocol_id"),
            priorityFlag: try reader.octet("priority_flag"),
            scheduleDeliveryTime: try reader.cString("schedule_delivery_time", maxLength: SMPPFieldLimits.time),
            validityPeriod: try reader.cString("validity_period", maxLength: SMPPFieldLimits.time),
            registeredDelivery: try reader.octet("registered_delivery"),
            replaceIfPresent: try reader.octet("replace_if_present_flag"),
            dataCoding: try reader.octet("data_coding"),
            defaultMessageID: try reader.octet("sm_default_msg_id"),
            shortMessage: try reader.shortMessage(),
            tlvs: try reader.tlvs()
        )
    }
}
