/// A regular expression over ASCII digits in the subset libphonenumber's number patterns use
/// (digits, `\d`, digit classes and ranges, `(?:…)` and `(…)` groups, `|`, and the greedy
/// quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`), matched against a whole number.
///
/// Classifying a start's number took seven ICU regular expressions (`NSRegularExpression`), 1.8 %
/// of a start's CPU. This matcher follows the set of positions a pattern can reach, as one bit
/// each of a 64-bit word, so a match is a few dozen integer operations with no backtracking.
/// A pattern outside the subset is not compiled (nil), and ``FullMatchPattern`` keeps ICU for it;
/// a test compares the two on every bundled pattern.
struct DigitPattern: Sendable {
    indirect enum Node: Sendable {
        /// One digit of a set (bit d for digit d).
        case digits(UInt16)
        case sequence([Node])
        case choice([Node])
        /// `max` nil: unbounded.
        case repeated(Node, min: Int, max: Int?)
    }

    let root: Node
    /// The longest number the bit sets can follow (positions 0 through 63).
    static let maxLength = 63

    init?(_ pattern: String) {
        var parser = Parser(Array(pattern.utf8))
        guard let root = parser.alternation(), parser.atEnd else { return nil }
        self.root = root
    }

    /// Whether the whole of `number` matches; nil when the number is not all ASCII digits or is
    /// longer than ``maxLength``.
    func matches(_ number: String) -> Bool? {
        var masks = [UInt64](repeating: 0, count: 10)
        var length = 0
        for byte in number.utf8 {
            guard byte >= 0x30, byte <= 0x39, length < Self.maxLength else { return nil }
            masks[Int(byte - 0x30)] |= 1 << UInt64(length)
            length += 1
        }
        return masks.withUnsafeBufferPointer { masks in
            Self.reach(root, from: 1, masks: masks) & (1 << UInt64(length)) != 0
        }
    }

    /// The positions `node` can end at when it starts at any of `starts`.
    private static func reach(_ node: Node, from starts: UInt64, masks: UnsafeBufferPointer<UInt64>) -> UInt64 {
        if starts == 0 { return 0 }
        switch node {
        case .digits(let set):
            var at: UInt64 = 0
            for digit in 0..<10 where set & (1 << digit) != 0 { at |= masks[digit] }
            return (starts & at) << 1
        case .sequence(let nodes):
            var current = starts
            for node in nodes { current = reach(node, from: current, masks: masks) }
            return current
        case .choice(let nodes):
            var union: UInt64 = 0
            for node in nodes { union |= reach(node, from: starts, masks: masks) }
            return union
        case .repeated(let node, let min, let max):
            var current = starts
            for _ in 0..<min { current = reach(node, from: current, masks: masks) }
            var reached = current
            if let max {
                for _ in min..<max {
                    current = reach(node, from: current, masks: masks)
                    if current == 0 { break }
                    reached |= current
                }
            } else {
                // Until no new position appears.
                while true {
                    let next = reach(node, from: current, masks: masks) & ~reached
                    if next == 0 { break }
                    reached |= next
                    current = next
                }
            }
            return reached
        }
    }

    /// Recursive descent over the pattern's bytes; nil for anything outside the subset.
    private struct Parser {
        let bytes: [UInt8]
        var at = 0
        var depth = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { at == bytes.count }
        var next: UInt8? { at < bytes.count ? bytes[at] : nil }

        static let allDigits: UInt16 = 0x3FF

        mutating func alternation() -> Node? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= 32 else { return nil }
            var branches: [Node] = []
            while true {
                guard let branch = sequence() else { return nil }
                branches.append(branch)
                guard next == UInt8(ascii: "|") else { break }
                at += 1
            }
            return branches.count == 1 ? branches[0] : .choice(branches)
        }

        mutating func sequence() -> Node? {
            var nodes: [Node] = []
            while let byte = next, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
                guard let atom = atom(), let quantified = quantifier(atom) else { return nil }
                nodes.append(quantified)
            }
            return nodes.count == 1 ? nodes[0] : .sequence(nodes)
        }

        mutating func atom() -> Node? {
            guard let byte = next else { return nil }
            at += 1
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .digits(1 << UInt16(byte - 0x30))
            case UInt8(ascii: "\\"):
                guard next == UInt8(ascii: "d") else { return nil }
                at += 1
                return .digits(Self.allDigits)
            case UInt8(ascii: "["):
                return digitClass()
            case UInt8(ascii: "("):
                if next == UInt8(ascii: "?") {
                    guard at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: ":") else { return nil }
                    at += 2
                }
                guard let inner = alternation(), next == UInt8(ascii: ")") else { return nil }
                at += 1
                return inner
            default:
                return nil
            }
        }

        /// After `[`: digits, ranges and `\d`, up to `]`.
        mutating func digitClass() -> Node? {
            guard next != UInt8(ascii: "^") else { return nil }
            var set: UInt16 = 0
            while let byte = next, byte != UInt8(ascii: "]") {
                at += 1
                if byte == UInt8(ascii: "\\") {
                    guard next == UInt8(ascii: "d") else { return nil }
                    at += 1
                    set |= Self.allDigits
                    continue
                }
                guard let low = Self.digit(byte) else { return nil }
                if next == UInt8(ascii: "-"), at + 1 < bytes.count, bytes[at + 1] != UInt8(ascii: "]") {
                    guard let high = Self.digit(bytes[at + 1]), high >= low else { return nil }
                    at += 2
                    for digit in low...high { set |= 1 << UInt16(digit) }
                } else {
                    set |= 1 << UInt16(low)
                }
            }
            guard next == UInt8(ascii: "]"), set != 0 else { return nil }
            at += 1
            return .digits(set)
        }

        mutating func quantifier(_ atom: Node) -> Node? {
            let node: Node
            switch next {
            case UInt8(ascii: "?"): at += 1; node = .repeated(atom, min: 0, max: 1)
            case UInt8(ascii: "*"): at += 1; node = .repeated(atom, min: 0, max: nil)
            case UInt8(ascii: "+"): at += 1; node = .repeated(atom, min: 1, max: nil)
            case UInt8(ascii: "{"):
                at += 1
                guard let min = number() else { return nil }
                var max: Int? = min
                if next == UInt8(ascii: ",") {
                    at += 1
                    max = next == UInt8(ascii: "}") ? nil : number()
                    if max == nil, next != UInt8(ascii: "}") { return nil }
                }
                guard next == UInt8(ascii: "}"), max.map({ $0 >= min }) ?? true, min <= 64, (max ?? 0) <= 64 else { return nil }
                at += 1
                node = .repeated(atom, min: min, max: max)
            default:
                return atom
            }
            // Lazy and possessive forms, and a quantifier on a quantifier, are outside the subset.
            if let byte = next, [UInt8(ascii: "?"), UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "{")].contains(byte) { return nil }
            return node
        }

        mutating func number() -> Int? {
            var value = 0
            var digits = 0
            while let byte = next, let digit = Self.digit(byte), digits < 3 {
                value = value * 10 + digit
                digits += 1
                at += 1
            }
            return digits == 0 ? nil : value
        }

        static func digit(_ byte: UInt8) -> Int? {
            byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
        }
    }
}
