import SandiCore
import Testing

@Suite("Line types")
struct LineTypeTests {
    let classifier = LineTypeClassifier.bundled

    /// Each expected type is what phonenumbers 9.0.43 `number_type` gives for the E.164 number in
    /// the comment (national number = digits after the calling code).
    @Test("line types agree with libphonenumber", arguments: [
        ("ID", "8123456789", LineType.mobile),                 // +628123456789
        ("ID", "212345678", LineType.fixedLine),               // +62212345678 (Jakarta)
        ("ID", "8091234567", LineType.premiumRate),            // +628091234567
        ("ID", "8041234567", LineType.sharedCost),             // +628041234567
        ("ID", "8001234567", LineType.tollFree),               // +628001234567
        ("ID", "809123456", LineType.unallocated),             // +62809123456: possible length, not valid
        ("GB", "9098765432", LineType.premiumRate),            // +449098765432
        ("GB", "7400123456", LineType.mobile),                 // +447400123456
        ("GB", "5612345678", LineType.voip),                   // +445612345678
        ("GB", "7012345678", LineType.personalNumber),         // +447012345678
        ("GB", "1000000000", LineType.unallocated),            // +441000000000: possible length, not valid
        ("US", "8002530000", LineType.tollFree),               // +18002530000
        ("US", "2015550123", LineType.fixedLineOrMobile),      // +12015550123
        ("PH", "9171234567", LineType.mobile),                 // +639171234567
        ("IT", "33101234501", LineType.voicemail),             // +3933101234501
    ])
    func vectors(_ region: String, _ nationalNumber: String, _ expected: LineType) {
        #expect(classifier.lineType(region: region, nationalNumber: nationalNumber) == expected)
    }

    @Test("the bundled table loads")
    func bundled() {
        #expect(!classifier.isEmpty)
        #expect(classifier.dataVersion == "9.0.43")
    }

    @Test("unknown regions give nil; region codes are case-insensitive")
    func regions() {
        #expect(classifier.lineType(region: "XX", nationalNumber: "8123456789") == nil)
        #expect(classifier.lineType(region: "001", nationalNumber: "8123456789") == nil)
        #expect(classifier.lineType(region: "id", nationalNumber: "8123456789") == .mobile)
    }

    @Test("non-digits, empty and wrong lengths are unallocated")
    func malformed() {
        #expect(classifier.lineType(region: "ID", nationalNumber: "") == .unallocated)
        #expect(classifier.lineType(region: "ID", nationalNumber: "8123456789\n") == .unallocated)
        #expect(classifier.lineType(region: "ID", nationalNumber: "812-3456-789") == .unallocated)
        #expect(classifier.lineType(region: "ID", nationalNumber: "٨١٢٣٤٥٦٧٨٩") == .unallocated)
        #expect(classifier.lineType(region: "ID", nationalNumber: "81") == .unallocated)
        #expect(classifier.lineType(region: "ID", nationalNumber: "812345678901234567") == .unallocated)
    }

    @Test("a pattern that does not compile matches nothing and does not crash")
    func badPattern() {
        let custom = LineTypeClassifier(patterns: [
            "ZZ": ["general": "\\d{4}(", "mobile": "9\\d{3}"],
            "ZY": ["general": "\\d{4}", "premium_rate": "(?<=x", "mobile": "[9", "fixed_line": "1\\d{3}"],
        ])
        #expect(custom.lineType(region: "ZZ", nationalNumber: "9123") == .unallocated)
        #expect(custom.lineType(region: "ZY", nationalNumber: "9123") == .unallocated)
        #expect(custom.lineType(region: "ZY", nationalNumber: "1123") == .fixedLine)
    }

    @Test("fixed line and mobile: identical patterns or both matching give fixed_line_or_mobile")
    func fixedOrMobile() {
        let custom = LineTypeClassifier(patterns: [
            "AA": ["general": "\\d{4}", "fixed_line": "[1-9]\\d{3}", "mobile": "[1-9]\\d{3}"],
            "BB": ["general": "\\d{4}", "fixed_line": "[12]\\d{3}", "mobile": "[23]\\d{3}"],
        ])
        #expect(custom.lineType(region: "AA", nationalNumber: "5123") == .fixedLineOrMobile)
        #expect(custom.lineType(region: "BB", nationalNumber: "1123") == .fixedLine)
        #expect(custom.lineType(region: "BB", nationalNumber: "2123") == .fixedLineOrMobile)
        #expect(custom.lineType(region: "BB", nationalNumber: "3123") == .mobile)
        #expect(custom.lineType(region: "BB", nationalNumber: "4123") == .unallocated)
    }

    @Test("risk flags")
    func risk() {
        #expect(LineType.allCases.filter(\.isRisky) == [.premiumRate, .sharedCost, .unallocated])
        #expect(LineType.allCases.filter(\.isVirtual) == [.voip])
    }
}
