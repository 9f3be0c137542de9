import NIOCore
import SandiSMPP
import SandiCore
import Testing

@Suite("Malformed input gives typed errors")
struct MalformedPDUTests {
    private func decode(_ bytes: [UInt8]) throws(SMPPDecodingError) -> SMPPPDU {
        var buffer = ByteBuffer(bytes: bytes)
        return try SMPPPDU.decode(from: &buffer)
    }

    @Test func truncatedHeader() {
        #expect(throws: SMPPDecodingError.truncated(needed: 16, available: 10)) {
            try decode(hex("00000010 00000015 0000"))
        }
    }

    @Test func truncatedBody() {
        #expect(throws: SMPPDecodingError.truncated(needed: 20, available: 16)) {
            try decode(hex("00000014 80000004 00000000 00000001"))
        }
    }

    @Test func commandLengthBelowHeader() {
        #expect(throws: SMPPDecodingError.invalidCommandLength(5)) {
            try decode(hex("00000005 00000015 00000000 00000001"))
        }
    }

    @Test func commandLengthAboveMaximum() {
        #expect(throws: SMPPDecodingError.invalidCommandLength(0x0010_0000)) {
            try decode(hex("00100000 00000015 00000000 00000001"))
        }
    }

    @Test func cStringWithoutNUL() {
        // bind_transceiver whose system_id runs to the end of the PDU.
        #expect(throws: SMPPDecodingError.missingNULTerminator(field: "system_id")) {
            try decode(hex("00000015 00000009 00000000 00000001 6162636465"))
        }
    }

    @Test func cStringTooLong() {
        let longID = Array(repeating: UInt8(0x61), count: 20) + [0]
        let length = UInt8(16 + longID.count + 12)
        let bytes = hex("000000") + [length] + hex("00000009 00000000 00000001") + longID + Array(repeating: 0, count: 12)
        #expect(throws: SMPPDecodingError.fieldTooLong(field: "system_id", maxLength: 16)) {
            try decode(bytes)
        }
    }

    @Test func tlvLengthPastEnd() {
        var bytes = try? SMPPPDU(sequenceNumber: 1, body: .deliverSM(SMPPShortMessage(source: .init(), destination: .init())))
            .encoded().bytes
        bytes?.append(contentsOf: hex("0427 0005 02"))
        bytes?[3] += 5
        #expect(throws: SMPPDecodingError.truncatedTLV(tag: 0x0427)) {
            try decode(bytes ?? [])
        }
    }

    @Test func tlvHeaderCutShort() {
        var bytes = try? SMPPPDU(sequenceNumber: 1, body: .bindTransceiverResp(SMPPBindResponse(systemID: "S"))).encoded().bytes
        bytes?.append(contentsOf: [0x02])
        bytes?[3] += 1
        #expect(throws: SMPPDecodingError.truncatedTLV(tag: 0)) {
            try decode(bytes ?? [])
        }
    }

    @Test func shortMessageLengthPastEnd() {
        var bytes = (try? SMPPPDU(sequenceNumber: 1, body: .submitSM(SMPPShortMessage(source: .init(), destination: .init())))
            .encoded().bytes) ?? []
        bytes[bytes.count - 1] = 10  // sm_length 10 with no octets after it
        #expect(throws: SMPPDecodingError.invalidShortMessageLength(10)) {
            try decode(bytes)
        }
    }

    @Test func unknownCommand() {
        #expect(throws: SMPPDecodingError.unknownCommandID(SMPPCommandID(rawValue: 0x99))) {
            try decode(hex("00000010 00000099 00000000 00000001"))
        }
    }

    @Test func bodyOnHeaderOnlyCommand() {
        #expect(throws: SMPPDecodingError.unexpectedBody(.enquireLink, extraOctets: 2)) {
            try decode(hex("00000012 00000015 00000000 00000001 0000"))
        }
    }

    @Test func failedDecodeLeavesReaderIndex() {
        var buffer = ByteBuffer(bytes: hex("00000015 00000009 00000000 00000001 6162636465"))
        #expect(throws: SMPPDecodingError.self) { try SMPPPDU.decode(from: &buffer) }
        #expect(buffer.readerIndex == 0)
    }

    @Test func decodingErrorsMapToNackStatuses() {
        #expect(SMPPDecodingError.unknownCommandID(SMPPCommandID(rawValue: 0x99)).commandStatus == .invalidCommandID)
        #expect(SMPPDecodingError.invalidCommandLength(5).commandStatus == .invalidCommandLength)
        #expect(SMPPDecodingError.invalidShortMessageLength(300).commandStatus == .invalidMessageLength)
    }

    @Test func everyPrefixOfAValidPDUThrowsWithoutCrashing() throws {
        let message = SMPPShortMessage(
            source: .alphanumeric("SANDI"), destination: .international("6281234567890"),
            shortMessage: Array("Hello".utf8))
        let bytes = try SMPPPDU(sequenceNumber: 2, body: .submitSM(message)).encoded().bytes
        for cut in 0..<bytes.count {
            var prefix = Array(bytes.prefix(cut))
            if prefix.count >= 4 {
                prefix[3] = UInt8(prefix.count)  // claim exactly what is there
            }
            #expect(throws: SMPPDecodingError.self) { try decode(prefix) }
        }
    }

    @Test func randomBodiesNeverCrash() {
        var generator = SeededRandom(seed: 0x5A4D_5050)
        let ids: [UInt32] = [0x09, 0x80000009, 0x04, 0x80000004, 0x05, 0x80000005, 0x15, 0x06]
        for _ in 0..<3000 {
            let bodyLength = Int(generator.next() % 80)
            var bytes = hex("000000") + [UInt8(16 + bodyLength)]
            let id = ids[Int(generator.next() % UInt64(ids.count))]
            bytes += [UInt8(id >> 24), UInt8(id >> 16 & 0xFF), UInt8(id >> 8 & 0xFF), UInt8(id & 0xFF)]
            bytes += [0, 0, 0, 0, 0, 0, 0, 1]
            bytes += (0..<bodyLength).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? decode(bytes)
        }
    }

    @Test func encodingRejectsOversizedFields() {
        let longID = SMPPPDU(sequenceNumber: 1, body: .bindTransceiver(SMPPBind(systemID: String(repeating: "x", count: 16), password: "p")))
        #expect(throws: SMPPEncodingError.fieldTooLong(field: "system_id", maxLength: 16)) { try longID.validate() }
        let longText = SMPPPDU(
            sequenceNumber: 1,
            body: .submitSM(SMPPShortMessage(source: .init(), destination: .init(), shortMessage: Array(repeating: 0x41, count: 255))))
        #expect(throws: SMPPEncodingError.shortMessageTooLong(255)) { try longText.validate() }
        let nul = SMPPPDU(sequenceNumber: 1, body: .submitSMResp(messageID: "a\u{0}b"))
        #expect(throws: SMPPEncodingError.fieldContainsNUL(field: "message_id")) { try nul.validate() }
        var buffer = ByteBuffer()
        #expect(throws: SMPPEncodingError.self) { try longID.encode(into: &buffer) }
        #expect(buffer.readableBytes == 0)
    }
}
