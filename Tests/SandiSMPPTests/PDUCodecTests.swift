import NIOCore
import SandiSMPP
import Testing

@Suite("PDU codec: byte-exact vectors")
struct PDUCodecTests {
    private func roundTrip(_ pdu: SMPPPDU, _ expected: [UInt8]) throws {
        #expect(try pdu.encoded().bytes == expected)
        var buffer = ByteBuffer(bytes: expected)
        #expect(try SMPPPDU.decode(from: &buffer) == pdu)
        #expect(buffer.readableBytes == 0)
    }

    @Test func enquireLink() throws {
        try roundTrip(SMPPPDU(sequenceNumber: 1, body: .enquireLink), hex("00 00 00 10  00 00 00 15  00 00 00 00  00 00 00 01"))
    }

    @Test func headerOnlyResponses() throws {
        try roundTrip(SMPPPDU(sequenceNumber: 9, body: .enquireLinkResp), hex("00000010 80000015 00000000 00000009"))
        try roundTrip(SMPPPDU(sequenceNumber: 3, body: .unbind), hex("00000010 00000006 00000000 00000003"))
        try roundTrip(SMPPPDU(sequenceNumber: 3, body: .unbindResp), hex("00000010 80000006 00000000 00000003"))
        try roundTrip(
            SMPPPDU(sequenceNumber: 4, commandStatus: .invalidCommandID, body: .genericNack),
            hex("00000010 80000000 00000003 00000004"))
    }

    @Test func bindTransceiver() throws {
        let pdu = SMPPPDU(sequenceNumber: 1, body: .bindTransceiver(SMPPBind(systemID: "smppclient1", password: "password")))
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x2A,  // command_length 42 = 16 header + 26 body
            0x00, 0x00, 0x00, 0x09,  // command_id bind_transceiver
            0x00, 0x00, 0x00, 0x00,  // command_status 0
            0x00, 0x00, 0x00, 0x01,  // sequence_number 1
            0x73, 0x6D, 0x70, 0x70, 0x63, 0x6C, 0x69, 0x65, 0x6E, 0x74, 0x31, 0x00,  // system_id "smppclient1\0"
            0x70, 0x61, 0x73, 0x73, 0x77, 0x6F, 0x72, 0x64, 0x00,  // password "password\0"
            0x00,  // system_type ""
            0x34,  // interface_version 3.4
            0x00,  // addr_ton
            0x00,  // addr_npi
            0x00,  // address_range ""
        ]
        try roundTrip(pdu, expected)
    }

    @Test func bindTransceiverResp() throws {
        let ok = SMPPPDU(sequenceNumber: 1, body: .bindTransceiverResp(SMPPBindResponse(systemID: "SMSC")))
        try roundTrip(ok, hex("00000015 80000009 00000000 00000001 534D534300"))
        // A refused bind carries no body.
        let refused = SMPPPDU(sequenceNumber: 1, commandStatus: .bindFailed, body: .bindTransceiverResp(SMPPBindResponse(systemID: "")))
        try roundTrip(refused, hex("00000010 80000009 0000000D 00000001"))
    }

    @Test func submitSM() throws {
        let message = SMPPShortMessage(
            source: .alphanumeric("SANDI"),
            destination: .international("6281234567890"),
            registeredDelivery: 1,
            dataCoding: 0,
            shortMessage: Array("Hello".utf8)
        )
        let pdu = SMPPPDU(sequenceNumber: 2, body: .submitSM(message))
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x38,  // command_length 56 = 16 + 40
            0x00, 0x00, 0x00, 0x04,  // command_id submit_sm
            0x00, 0x00, 0x00, 0x00,  // command_status
            0x00, 0x00, 0x00, 0x02,  // sequence_number 2
            0x00,  // service_type ""
            0x05,  // source_addr_ton alphanumeric
            0x00,  // source_addr_npi unknown
            0x53, 0x41, 0x4E, 0x44, 0x49, 0x00,  // source_addr "SANDI\0"
            0x01,  // dest_addr_ton international
            0x01,  // dest_addr_npi ISDN
            0x36, 0x32, 0x38, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x30, 0x00,  // "6281234567890\0"
            0x00,  // esm_class
            0x00,  // protocol_id
            0x00,  // priority_flag
            0x00,  // schedule_delivery_time ""
            0x00,  // validity_period ""
            0x01,  // registered_delivery
            0x00,  // replace_if_present_flag
            0x00,  // data_coding SMSC default
            0x00,  // sm_default_msg_id
            0x05,  // sm_length
            0x48, 0x65, 0x6C, 0x6C, 0x6F,  // short_message "Hello"
        ]
        try roundTrip(pdu, expected)
    }

    @Test func submitSMResp() throws {
        try roundTrip(
            SMPPPDU(sequenceNumber: 2, body: .submitSMResp(messageID: "abc")),
            hex("00000014 80000004 00000000 00000002 61626300"))
        try roundTrip(
            SMPPPDU(sequenceNumber: 2, commandStatus: .throttled, body: .submitSMResp(messageID: "")),
            hex("00000010 80000004 00000058 00000002"))
    }

    @Test func deliverSMReceiptWithTLVs() throws {
        let message = SMPPShortMessage(
            source: .international("6281234567890"),
            destination: .alphanumeric("SANDI"),
            esmClass: 0x04,
            tlvs: [.receiptedMessageID("ab12cd34"), .messageState(2), .networkErrorCode(networkType: 3, code: 1)]
        )
        let pdu = SMPPPDU(sequenceNumber: 7, body: .deliverSM(message))
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x4C,  // command_length 76
            0x00, 0x00, 0x00, 0x05,  // command_id deliver_sm
            0x00, 0x00, 0x00, 0x00,  // command_status
            0x00, 0x00, 0x00, 0x07,  // sequence_number 7
            0x00,  // service_type ""
            0x01, 0x01,  // source TON 1, NPI 1
            0x36, 0x32, 0x38, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x30, 0x00,  // "6281234567890\0"
            0x05, 0x00,  // destination TON 5, NPI 0
            0x53, 0x41, 0x4E, 0x44, 0x49, 0x00,  // "SANDI\0"
            0x04,  // esm_class: SMSC delivery receipt
            0x00, 0x00,  // protocol_id, priority_flag
            0x00, 0x00,  // schedule_delivery_time "", validity_period ""
            0x00, 0x00, 0x00, 0x00,  // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
            0x00,  // sm_length 0
            0x00, 0x1E, 0x00, 0x09, 0x61, 0x62, 0x31, 0x32, 0x63, 0x64, 0x33, 0x34, 0x00,  // receipted_message_id "ab12cd34\0"
            0x04, 0x27, 0x00, 0x01, 0x02,  // message_state DELIVERED
            0x04, 0x23, 0x00, 0x03, 0x03, 0x00, 0x01,  // network_error_code GSM 0x0001
        ]
        try roundTrip(pdu, expected)
        let receipt = SMPPDeliveryReceipt(deliverSM: message)
        #expect(receipt?.messageID == "ab12cd34")
        #expect(receipt?.state == .delivered)
        #expect(receipt?.networkError == SMPPNetworkError(networkType: 3, code: 1))
    }

    @Test func deliverSMResp() throws {
        try roundTrip(SMPPPDU(sequenceNumber: 7, body: .deliverSMResp(messageID: "")), hex("00000011 80000005 00000000 00000007 00"))
    }

    @Test func decodesTwoPDUsFromOneBuffer() throws {
        var buffer = ByteBuffer(bytes: hex("00000010 00000015 00000000 00000001 00000010 80000015 00000000 00000001"))
        #expect(try SMPPPDU.decode(from: &buffer).body == .enquireLink)
        #expect(try SMPPPDU.decode(from: &buffer).body == .enquireLinkResp)
        #expect(buffer.readableBytes == 0)
    }

    @Test func commandIDAndStatusDescriptions() {
        #expect(SMPPCommandID.submitSMResp.description == "0x80000004")
        #expect(SMPPCommandStatus.throttled.description == "ESME_RTHROTTLED (0x00000058)")
        #expect(SMPPCommandStatus.messageQueueFull.isThrottling)
        #expect(SMPPCommandStatus.systemError.isRetryable)
        #expect(!SMPPCommandStatus.invalidDestinationAddress.isRetryable)
    }
}
