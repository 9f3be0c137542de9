import SandiSMPP
import Testing

@Suite("GSM 03.38 and UCS-2")
struct GSM7Tests {
    @Test func basicTableStartsWithAtPoundDollarYen() {
        #expect(GSM7.encode("@£$¥") == [0x00, 0x01, 0x02, 0x03])
    }

    @Test func extensionCharactersUseEscape() {
        #expect(GSM7.encode("€") == [0x1B, 0x65])
        #expect(GSM7.encode("[") == [0x1B, 0x3C])
        #expect(GSM7.encode("^{}\\~]|") == [0x1B, 0x14, 0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x2F, 0x1B, 0x3D, 0x1B, 0x3E, 0x1B, 0x40])
        #expect(GSM7.encode("\u{0C}") == [0x1B, 0x0A])
        #expect(GSM7.septetCount("€") == 2)
        #expect(GSM7.septetCount("a[b]") == 6)
    }

    @Test func threeGPPTableAt0x5FIsSectionSign() {
        #expect(GSM7.encode("§") == [0x5F])
        #expect(GSM7.encode("¤") == [0x24])
        #expect(!GSM7.canEncode("`"))
    }

    @Test func otpTextStaysGSM() {
        #expect(GSM7.canEncode("Kode Anda 123456"))
        #expect(GSM7.septetCount("Kode Anda 123456") == 16)
        #expect(GSM7.canEncode("Kode verifikasi: 123456\r\nJangan berikan ke siapa pun."))
    }

    @Test func nonGSMCharactersAreRefused() {
        #expect(!GSM7.canEncode("Kode “123”"))
        #expect(GSM7.encode("รหัส") == nil)
        #expect(GSM7.septetCount("😀") == nil)
    }

    @Test func packsTheWellKnownVector() {
        let septets = GSM7.encode("hellohello") ?? []
        #expect(GSM7.pack(septets) == [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37])
        #expect(GSM7.unpack([0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37], septetCount: 10) == septets)
    }

    @Test func packingEightSeptetsFillsSevenOctets() {
        let septets = Array(repeating: UInt8(0x7F), count: 8)
        #expect(GSM7.pack(septets) == Array(repeating: 0xFF, count: 7))
        #expect(GSM7.unpack(Array(repeating: 0xFF, count: 7), septetCount: 8) == septets)
    }

    @Test func packingWithFillBitAfterUDH() {
        // After a 6-octet UDH one fill bit aligns the text to a septet boundary.
        let septets = GSM7.encode("hellohello") ?? []
        let packed = GSM7.pack(septets, paddingBits: 1)
        #expect(packed.first == 0xD0)  // 'h' 0x68 shifted left by one
        #expect(GSM7.unpack(packed, septetCount: 10, paddingBits: 1) == septets)
    }

    @Test func decodesWholeAlphabetRoundTrip() {
        let text = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€\u{0C}"
        let septets = GSM7.encode(text)
        #expect(septets != nil)
        #expect(GSM7.decode(septets ?? []) == text)
        #expect(GSM7.decode(GSM7.unpack(GSM7.pack(septets ?? []), septetCount: septets?.count ?? 0)) == text)
    }

    @Test func decodingToleratesUnknownEscapesAndTrailingEscape() {
        #expect(GSM7.decode([0x1B, 0x41]) == "A")
        #expect(GSM7.decode([0x41, 0x1B]) == "A")
        #expect(GSM7.decode([0xC1]) == "A")
    }

    @Test func ucs2IsUTF16BigEndian() {
        #expect(UCS2.encode("ก") == [0x0E, 0x01])
        #expect(UCS2.encode("A€") == [0x00, 0x41, 0x20, 0xAC])
        #expect(UCS2.encode("😀") == [0xD8, 0x3D, 0xDE, 0x00])
        #expect(UCS2.unitCount("😀") == 2)
        #expect(UCS2.unitCount("您的验证码") == 5)
        #expect(UCS2.decode([0xD8, 0x3D, 0xDE, 0x00, 0x00, 0x41]) == "😀A")
        #expect(UCS2.decode([0x00, 0x41, 0x00]) == "A")
    }
}
