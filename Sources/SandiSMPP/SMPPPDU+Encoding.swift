public import NIOCore

extension SMPPPDU {
    /// Appends the PDU to `buffer`, `command_length` included. On error nothing is appended.
    public func encode(into buffer: inout ByteBuffer) throws(SMPPEncodingError) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(commandID.rawValue)
        buffer.writeInteger(commandStatus.rawValue)
        buffer.writeInteger(sequenceNumber)
        do {
            try encodeBody(into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
        buffer.setInteger(UInt32(buffer.writerIndex - start), at: start)
    }

    /// The PDU's wire bytes.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(SMPPEncodingError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        try encode(into: &buffer)
        return buffer
    }

    /// Checks every field against the SMPP 3.4 limits without keeping the bytes.
    public func validate() throws(SMPPEncodingError) {
        _ = try encoded()
    }

    private func encodeBody(into buffer: inout ByteBuffer) throws(SMPPEncodingError) {
        switch body {
        case .bindTransceiver(let bind):
            try buffer.writeSMPPCString(bind.systemID, field: "system_id", maxLength: SMPPFieldLimits.systemID)
            try buffer.writeSMPPCString(bind.password, field: "password", maxLength: SMPPFieldLimits.password)
            try buffer.writeSMPPCString(bind.systemType, field: "system_type", maxLength: SMPPFieldLimits.systemType)
            buffer.writeInteger(bind.interfaceVersion)
            buffer.writeInteger(bind.addressTON)
            buffer.writeInteger(bind.addressNPI)
            try buffer.writeSMPPCString(
                bind.addressRange, field: "address_range", maxLength: SMPPFieldLimits.addressRange)
        case .bindTransceiverResp(let response):
            guard commandStatus == .ok else { return }
            try buffer.writeSMPPCString(response.systemID, field: "system_id", maxLength: SMPPFieldLimits.systemID)
            try buffer.writeSMPPTLVs(response.tlvs)
        case .submitSM(let message), .deliverSM(let message):
            try Self.encode(message, into: &buffer)
        case .submitSMResp(let messageID):
            guard commandStatus == .ok else { return }
            try buffer.writeSMPPCString(messageID, field: "message_id", maxLength: SMPPFieldLimits.messageID)
        case .deliverSMResp(let messageID):
            try buffer.writeSMPPCString(messageID, field: "message_id", maxLength: SMPPFieldLimits.messageID)
        case .enquireLink, .enquireLinkResp, .unbind, .unbindResp, .genericNack:
            return
        }
    }

    private static func encode(_ message: SMPPShortMessage, into buffer: inout ByteBuffer) throws(SMPPEncodingError) {
        guard message.shortMessage.count <= SMPPFieldLimits.shortMessage else {
            throw .shortMessageTooLong(message.shortMessage.count)
        }
        try buffer.writeSMPPCString(message.serviceType, field: "service_type", maxLength: SMPPFieldLimits.serviceType)
        buffer.writeInteger(message.source.ton)
        buffer.writeInteger(message.source.npi)
        try buffer.writeSMPPCString(message.source.address, field: "source_addr", maxLength: SMPPFieldLimits.address)
        buffer.writeInteger(message.destination.ton)
        buffer.writeInteger(message.destination.npi)
        try buffer.writeSMPPCString(
            message.destination.address, field: "destination_addr", maxLength: SMPPFieldLimits.address)
        buffer.writeInteger(message.esmClass)
        buffer.writeInteger(message.protocolID)
        buffer.writeInteger(message.priorityFlag)
        try buffer.writeSMPPCString(
            message.scheduleDeliveryTime, field: "schedule_delivery_time", maxLength: SMPPFieldLimits.time)
        try buffer.writeSMPPCString(message.validityPeriod, field: "validity_period", maxLength: SMPPFieldLimits.time)
        buffer.writeInteger(message.registeredDelivery)
        buffer.writeInteger(message.replaceIfPresent)
        buffer.writeInteger(message.dataCoding)
        buffer.writeInteger(message.defaultMessageID)
        buffer.writeInteger(UInt8(message.shortMessage.count))
        buffer.writeBytes(message.shortMessage)
        try buffer.writeSMPPTLVs(message.tlvs)
    }
}
