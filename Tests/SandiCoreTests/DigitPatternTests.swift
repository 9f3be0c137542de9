import Foundation
@testable import SandiCore
import Testing

/// ``DigitPattern`` against ICU (`NSRegularExpression`) on every pattern of the bundled line-type
/// table: numbers the pattern generates, near misses of them, and random digit strings.
@Suite("Digit patterns")
struct DigitPatternTests {
    /// A number the node matches, chosen at random.
    static func sample(_ node: DigitPattern.Node, _ rng: inout SeededRandom) -> [UInt8] {
        switch node {
        case .digits(let set):
            let digits = (0..<10).filter { set & (1 << $0) != 0 }
            return [UInt8(0x30 + digits.randomElement(using: &rng)!)]
        case .sequence(let nodes):
            return nodes.flatMap { sample($0, &rng) }
        case .choice(let nodes):
            return sample(nodes.randomElement(using: &rng)!, &rng)
        case .repeated(let node, let min, let max):
            let count = Int.random(in: min...(max ?? min + 3), using: &rng)
            return (0..<count).flatMap { _ in sample(node, &rng) }
        }
    }

    @Test("every bundled pattern compiles, and matches exactly what ICU matches")
    func agreesWithICU() async {
        let regions = LineTypeClassifier.bundled.patterns
        #expect(!regions.isEmpty)
        var rng = SeededRandom(seed: 20_261_203)
        var patterns = 0, compared = 0, matched = 0
        for region in regions.keys.sorted() {
            await Task.yield()
            for (key, text) in regions[region]!.sorted(by: { $0.key < $1.key }) {
                let pattern = FullMatchPattern(text)
                guard let digits = pattern.digits else {
                    Issue.record("\(region) \(key): \(text) is outside the subset")
                    continue
                }
                patterns += 1
                var numbers: [[UInt8]] = []
                for _ in 0..<12 {
                    var number = Self.sample(digits.root, &rng)
                    numbers.append(number)
                    // A near miss: one digit changed, dropped or added.
                    if !number.isEmpty {
                        let at = Int.random(in: 0..<number.count, using: &rng)
                        switch Int.random(in: 0...2, using: &rng) {
                        case 0: number[at] = UInt8.random(in: 0x30...0x39, using: &rng)
                        case 1: number.remove(at: at)
                        default: number.insert(UInt8.random(in: 0x30...0x39, using: &rng), at: at)
                        }
                        numbers.append(number)
                    }
                }
                for _ in 0..<6 {
                    numbers.append((0..<Int.random(in: 1...17, using: &rng)).map { _ in UInt8.random(in: 0x30...0x39, using: &rng) })
                }
                for number in numbers {
                    let text = String(decoding: number, as: UTF8.self)
                    let icu = pattern.regexMatches(text)
                    compared += 1
                    if icu { matched += 1 }
                    #expect(digits.matches(text) == icu, "\(region) \(key) \(text)")
                }
            }
        }
        #expect(patterns > 1_000)
        // Both answers are well represented.
        #expect(matched > compared / 5 && matched < compared * 4 / 5, "\(matched) of \(compared) matched")
    }

    @Test("the subset's syntax, and what falls back to ICU")
    func syntax() {
        let cases: [(String, String, Bool)] = [
            ("8[1-35-9]\\d{7,10}", "81234567890", true), ("8[1-35-9]\\d{7,10}", "84234567890", false),
            ("(?:1|23)?4", "4", true), ("(?:1|23)?4", "234", true), ("(?:1|23)?4", "1234", false),
            ("(12)+3", "1212123", true), ("(12)*3", "3", true), ("1{2,}", "1111", true), ("1{2,}", "1", false),
            ("|5", "", true), ("[\\d]{2}", "07", true),
        ]
        for (pattern, number, expected) in cases {
            let compiled = DigitPattern(pattern)
            #expect(compiled?.matches(number) == expected, "\(pattern) \(number)")
            #expect(FullMatchPattern(pattern).regexMatches(number) == expected, "ICU: \(pattern) \(number)")
        }
        for outside in ["1??", "\\w", "[^1]", "1{2}+", "(?=1)1", "a", "1.", "[a-z]", "(1", "1)", "1{3,2}"] {
            #expect(DigitPattern(outside) == nil, "\(outside)")
        }
        // Not digits, or longer than the bit sets follow: no answer (ICU decides).
        #expect(DigitPattern("\\d+")?.matches("12a") == nil)
        #expect(DigitPattern("\\d+")?.matches(String(repeating: "1", count: 64)) == nil)
        #expect(FullMatchPattern("\\d+").matches(String(repeating: "1", count: 64)))
    }
}
