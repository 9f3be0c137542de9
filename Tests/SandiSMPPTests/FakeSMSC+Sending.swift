import NIOCore
import SandiSMPP

extension FakeSMSC {
    /// Sends a PDU built for the next SMSC sequence number to every connection.
    func send(_ body: SMPPPDU.Body) {
        let (connections, sequence) = state.withLock { state in
            defer { state.nextSequence += 1 }
            return (state.connections, state.nextSequence)
        }
        for connection in connections {
            connection.writeAndFlush(SMPPPDU(sequenceNumber: sequence, body: body), promise: nil)
        }
    }

    /// Sends a delivery receipt in the Appendix B text form, `times` times (an SMSC that
    /// redelivers sends the same receipt again).
    func sendTextReceipt(messageID: String, stat: String, err: String = "000", times: Int = 1) {
        let text =
            "id:\(messageID) sub:001 dlvrd:001 submit date:2501151200 done date:2501151201 stat:\(stat) err:\(err) text:Kode Anda"
        for _ in 0..<times {
            send(.deliverSM(receipt(shortMessage: Array(text.utf8), tlvs: [])))
        }
    }

    /// Sends a delivery receipt carried by TLVs only (`receipted_message_id`, `message_state`).
    func sendTLVReceipt(messageID: String, state: SMPPDeliveryState, networkError: UInt16? = nil) {
        var tlvs: [SMPPTLV] = [.receiptedMessageID(messageID), .messageState(state.messageState)]
        if let networkError {
            tlvs.append(.networkErrorCode(networkType: 3, code: networkError))
        }
        send(.deliverSM(receipt(shortMessage: [], tlvs: tlvs)))
    }

    func receipt(shortMessage: [UInt8], tlvs: [SMPPTLV]) -> SMPPShortMessage {
        SMPPShortMessage(
            source: .international("6281234567890"),
            destination: .alphanumeric("SANDI"),
            esmClass: 0x04,
            shortMessage: shortMessage,
            tlvs: tlvs
        )
    }
}
