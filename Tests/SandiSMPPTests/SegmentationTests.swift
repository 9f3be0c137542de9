import SandiSMPP
import Testing

@Suite("SMS encoding choice and segmentation")
struct SegmentationTests {
    @Test func choosesGSMWhenEverythingEncodes() throws {
        let split = try SMSSegmentation(text: "Kode Anda 123456")
        #expect(split.encoding == .gsm7)
        #expect(split.encoding.dataCoding == 0x00)
        #expect(split.segments == [SMSSegment(shortMessage: GSM7.encode("Kode Anda 123456") ?? [], units: 16)])
    }

    @Test(arguments: ["รหัสของคุณคือ 123456", "သင့်ကုဒ်မှာ 123456", "您的验证码是123456", "Kode “123456”"])
    func choosesUCS2ForNonGSMText(text: String) throws {
        let split = try SMSSegmentation(text: text)
        #expect(split.encoding == .ucs2)
        #expect(split.encoding.dataCoding == 0x08)
        #expect(split.segments.count == 1)
        #expect(split.segments[0].shortMessage == UCS2.encode(text))
    }

    @Test func oneHundredSixtyCharactersFitOneSMS() throws {
        let split = try SMSSegmentation(text: String(repeating: "a", count: 160))
        #expect(split.segments.count == 1)
        #expect(split.segments[0].esmClass == 0)
        #expect(split.segments[0].shortMessage.count == 160)
    }

    @Test func oneHundredSixtyOneCharactersMakeTwoPartsWithUDH() throws {
        let split = try SMSSegmentation(text: String(repeating: "a", count: 161), reference: 0x2A)
        #expect(split.segments.map(\.units) == [153, 8])
        #expect(split.segments.map(\.esmClass) == [0x40, 0x40])
        #expect(Array(split.segments[0].shortMessage.prefix(6)) == [0x05, 0x00, 0x03, 0x2A, 0x02, 0x01])
        #expect(Array(split.segments[1].shortMessage.prefix(6)) == [0x05, 0x00, 0x03, 0x2A, 0x02, 0x02])
        #expect(split.segments[0].shortMessage.count == 6 + 153)
        #expect(split.segments[1].shortMessage.count == 6 + 8)
    }

    @Test func escapePairIsNeverSplit() throws {
        // '€' would occupy septets 153 and 154: it moves whole to the second part.
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "b", count: 10)
        let split = try SMSSegmentation(text: text)
        #expect(split.segments.map(\.units) == [152, 12])
        #expect(split.segments[0].shortMessage.last == 0x61)
        #expect(Array(split.segments[1].shortMessage[6..<8]) == [0x1B, 0x65])
    }

    @Test func ucs2LimitsAreSeventyAndSixtySeven() throws {
        let seventy = try SMSSegmentation(text: String(repeating: "ก", count: 70))
        #expect(seventy.segments.count == 1)
        #expect(seventy.segments[0].shortMessage.count == 140)
        let seventyOne = try SMSSegmentation(text: String(repeating: "ก", count: 71))
        #expect(seventyOne.segments.map(\.units) == [67, 4])
        #expect(seventyOne.segments[0].shortMessage.count == 6 + 134)
    }

    @Test func surrogatePairIsNeverSplit() throws {
        let text = String(repeating: "a", count: 66) + "😀" + String(repeating: "b", count: 10)
        let split = try SMSSegmentation(text: text)
        #expect(split.encoding == .ucs2)
        #expect(split.segments.map(\.units) == [66, 12])
        #expect(Array(split.segments[1].shortMessage[6..<10]) == [0xD8, 0x3D, 0xDE, 0x00])
    }

    @Test func surrogatePairsCountTwoUnits() throws {
        let thirtyFive = try SMSSegmentation(text: String(repeating: "😀", count: 35))
        #expect(thirtyFive.segments.count == 1)
        let thirtySix = try SMSSegmentation(text: String(repeating: "😀", count: 36))
        #expect(thirtySix.segments.map(\.units) == [66, 6])
    }

    @Test func sarModeUsesTLVsInsteadOfUDH() throws {
        let split = try SMSSegmentation(text: String(repeating: "a", count: 161), concatenation: .sar, reference: 0x1234)
        #expect(split.segments.count == 2)
        #expect(split.segments[0].esmClass == 0)
        #expect(split.segments[0].shortMessage.count == 153)
        #expect(split.segments[1].tlvs == [
            SMPPTLV(tag: .sarMessageReference, value: [0x12, 0x34]),
            SMPPTLV(tag: .sarTotalSegments, value: [0x02]),
            SMPPTLV(tag: .sarSegmentSequence, value: [0x02]),
        ])
    }

    @Test func singlePartHasNoConcatenationData() throws {
        for mode in [SMSConcatenation.udh, .sar, .messagePayload] {
            let split = try SMSSegmentation(text: "Kode Anda 123456", concatenation: mode)
            #expect(split.segments.count == 1)
            #expect(split.segments[0].tlvs.isEmpty)
            #expect(split.segments[0].esmClass == 0)
        }
    }

    @Test func messagePayloadModeSendsLongTextWhole() throws {
        let split = try SMSSegmentation(text: String(repeating: "a", count: 161), concatenation: .messagePayload)
        #expect(split.segments.count == 1)
        #expect(split.segments[0].shortMessage.isEmpty)
        #expect(split.segments[0].tlvs.first(.messagePayload)?.value.count == 161)
    }

    @Test func tooManyPartsIsAnError() {
        #expect(throws: SMSSegmentationError.tooManySegments(256)) {
            try SMSSegmentation(text: String(repeating: "a", count: 153 * 256))
        }
    }

    @Test func submitsCarryEncodingAndAddresses() throws {
        let messages = try SMPPShortMessage.submits(
            text: "รหัส 123456", from: .sender("SANDI"), to: .international("+6281234567890"))
        #expect(messages.count == 1)
        #expect(messages[0].dataCoding == 0x08)
        #expect(messages[0].source == SMPPAddress(ton: 5, npi: 0, address: "SANDI"))
        #expect(messages[0].destination == SMPPAddress(ton: 1, npi: 1, address: "6281234567890"))
        #expect(messages[0].registeredDelivery == 1)
        #expect(SMPPAddress.sender("+15551234") == SMPPAddress(ton: 1, npi: 1, address: "15551234"))
    }

    @Test func relativeValidityFormat() {
        #expect(SMPPShortMessage.relativeValidity(seconds: 300) == "000000000500000R")
        #expect(SMPPShortMessage.relativeValidity(seconds: 90_061) == "000001010101000R")
    }
}
