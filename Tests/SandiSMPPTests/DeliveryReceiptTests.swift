import SandiSMPP
import Testing

@Suite("Delivery receipts")
struct DeliveryReceiptTests {
    @Test func parsesAppendixBTextForm() {
        let text = "id:0123456789 sub:001 dlvrd:001 submit date:2501151200 done date:2501151201 stat:DELIVRD err:000 Text:Kode Anda 123456"
        let receipt = SMPPDeliveryReceipt.parse(text: text)
        #expect(receipt == SMPPDeliveryReceipt(
            messageID: "0123456789", state: .delivered, errorCode: "000", submitted: "001", delivered: "001",
            submitDate: "2501151200", doneDate: "2501151201", text: "Kode Anda 123456"))
    }

    @Test func toleratesCaseAndMissingFields() {
        let receipt = SMPPDeliveryReceipt.parse(text: "ID:abc STAT:undeliv ERR:012 text:")
        #expect(receipt?.messageID == "abc")
        #expect(receipt?.state == .undeliverable)
        #expect(receipt?.errorCode == "012")
        #expect(receipt?.submitDate == nil)
        #expect(receipt?.text == "")
    }

    @Test func toleratesOrderSecondsAndUnderscoredKeys() {
        let receipt = SMPPDeliveryReceipt.parse(text: "stat:EXPIRED id:77 submit_date:250115120000 done_date:250115130000")
        #expect(receipt?.messageID == "77")
        #expect(receipt?.state == .expired)
        #expect(receipt?.submitDate == "250115120000")
        #expect(receipt?.doneDate == "250115130000")
    }

    @Test func textAfterTextKeyIsNotParsedForKeys() {
        let receipt = SMPPDeliveryReceipt.parse(text: "id:1 stat:DELIVRD text:your id: 999 stat: REJECTD")
        #expect(receipt?.messageID == "1")
        #expect(receipt?.state == .delivered)
        #expect(receipt?.text == "your id: 999 stat: REJECTD")
    }

    @Test func missingIDIsNoReceipt() {
        #expect(SMPPDeliveryReceipt.parse(text: "hello from a phone") == nil)
        #expect(SMPPDeliveryReceipt.parse(text: "stat:DELIVRD") == nil)
    }

    @Test func unknownOrMissingStatIsUnknown() {
        #expect(SMPPDeliveryReceipt.parse(text: "id:1 stat:WEIRD")?.state == .unknown)
        #expect(SMPPDeliveryReceipt.parse(text: "id:1 err:000")?.state == .unknown)
    }

    @Test(arguments: [
        ("DELIVRD", SMPPDeliveryState.delivered, UInt8(2)), ("UNDELIV", .undeliverable, 5), ("REJECTD", .rejected, 8),
        ("EXPIRED", .expired, 3), ("DELETED", .deleted, 4), ("UNKNOWN", .unknown, 7), ("ACCEPTD", .accepted, 6),
        ("ENROUTE", .enroute, 1),
    ])
    func statAndMessageStateMapToTheSameState(stat: String, state: SMPPDeliveryState, messageState: UInt8) {
        #expect(SMPPDeliveryState(stat: stat) == state)
        #expect(SMPPDeliveryState(stat: stat.lowercased()) == state)
        #expect(SMPPDeliveryState(messageState: messageState) == state)
        #expect(state.stat == stat)
        #expect(state.messageState == messageState)
    }

    @Test func messageStateOutOfRange() {
        #expect(SMPPDeliveryState(messageState: 0) == nil)
        #expect(SMPPDeliveryState(messageState: 9) == nil)
        #expect(!SMPPDeliveryState.enroute.isFinal)
        #expect(SMPPDeliveryState.delivered.isFinal)
    }

    @Test func tlvsWinOverText() {
        let message = SMPPShortMessage(
            source: .international("6281234567890"), destination: .alphanumeric("SANDI"), esmClass: 0x04,
            shortMessage: Array("id:OLD stat:ENROUTE err:001".utf8),
            tlvs: [.receiptedMessageID("NEW"), .messageState(5)])
        let receipt = SMPPDeliveryReceipt(deliverSM: message)
        #expect(receipt?.messageID == "NEW")
        #expect(receipt?.state == .undeliverable)
        #expect(receipt?.errorCode == "001")
        #expect(receipt?.recipient == .international("6281234567890"))
    }

    @Test func textFormFromDeliverSM() {
        let message = SMPPShortMessage(
            source: .international("6281234567890"), destination: .alphanumeric("SANDI"), esmClass: 0x04,
            shortMessage: Array("id:42 stat:REJECTD err:0B1".utf8))
        #expect(message.isDeliveryReceipt)
        #expect(SMPPDeliveryReceipt(deliverSM: message)?.state == .rejected)
    }

    @Test func mobileOriginatedMessageIsNoReceipt() {
        let message = SMPPShortMessage(source: .international("62812"), destination: .alphanumeric("SANDI"), shortMessage: Array("STOP".utf8))
        #expect(!message.isDeliveryReceipt)
        #expect(SMPPDeliveryReceipt(deliverSM: message) == nil)
    }

    @Test func idMatchingAcrossHexAndDecimal() {
        let receipt = SMPPDeliveryReceipt(messageID: "255", state: .delivered)
        #expect(receipt.matches(submitMessageID: "FF"))
        #expect(receipt.matches(submitMessageID: "255"))
        #expect(!receipt.matches(submitMessageID: "254"))
        #expect(SMPPDeliveryReceipt(messageID: "abc", state: .delivered).matches(submitMessageID: "ABC"))
    }
}
