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

    /// The tree flattened, so matching walks plain arrays (no reference counting per node).
    private struct Step {
        enum Kind: UInt8 { case digits, sequence, choice, repeated }
        var kind: Kind
        var set: UInt16 = 0
        var min: Int32 = 0
        /// -1: unbounded.
        var max: Int32 = 0
        /// The node's children: `children[first ..< first + count]` (one for `repeated`).
        var first: Int32 = 0
        var count: Int32 = 0
    }

    private let steps: [Step]
    private let children: [Int32]

    init?(_ pattern: String) {
        var parser = Parser(Array(pattern.utf8))
        guard let root = parser.alternation(), parser.atEnd else { return nil }
        self.root = root
        var steps: [Step] = []
        var children: [Int32] = []
        Self.flatten(root, into: &steps, children: &children)
        self.steps = steps
        self.children = children
    }

    /// Appends `node` (after its descendants) and returns its index.
    @discardableResult
    private static func flatten(_ node: Node, into steps: inout [Step], children: inout [Int32]) -> Int32 {
        var step: Step
        var nodes: [Node] = []
        switch node {
        case .digits(let set): step = Step(kind: .digits, set: set)
        case .sequence(let list): step = Step(kind: .sequence); nodes = list
        case .choice(let list): step = Step(kind: .choice); nodes = list
        case .repeated(let inner, let min, let max):
            step = Step(kind: .repeated, min: Int32(min), max: Int32(max ?? -1))
            nodes = [inner]
        }
        let indices = nodes.map { flatten($0, into: &steps, children: &children) }
        step.first = Int32(children.count)
        step.count = Int32(indices.count)
        children.append(contentsOf: indices)
        steps.append(step)
        return Int32(steps.count - 1)
    }

    /// Whether the whole of `number` matches; nil when the number is not all ASCII digits or is
    /// longer than ``maxLength``.
    func matches(_ number: String) -> Bool? {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 10) { masks -> Bool? in
            masks.initialize(repeating: 0)
            var length = 0
            for byte in number.utf8 {
                guard byte >= 0x30, byte <= 0x39, length < Self.maxLength else { return nil }
                masks[Int(byte - 0x30)] |= 1 << UInt64(length)
                length += 1
            }
            let program = Program(masks: UnsafeBufferPointer(masks))
            return steps.withUnsafeBufferPointer { steps in
                children.withUnsafeBufferPointer { children in
                    program.reach(Int32(steps.count - 1), from: 1, steps: steps, children: children) & (1 << UInt64(length)) != 0
                }
            }
        }
    }

    private struct Program {
        let masks: UnsafeBufferPointer<UInt64>

        /// The positions step `index` can end at when it starts at any of `starts`.
        func reach(_ index: Int32, from starts: UInt64, steps: UnsafeBufferPointer<Step>, children: UnsafeBufferPointer<Int32>) -> UInt64 {
            if starts == 0 { return 0 }
            let step = steps[Int(index)]
            let list = children[Int(step.first)..<Int(step.first + step.count)]
            switch step.kind {
            case .digits:
                var at: UInt64 = 0
                for digit in 0..<10 where step.set & (1 << digit) != 0 { at |= masks[digit] }
                return (starts & at) << 1
            case .sequence:
                var current = starts
                for child in list { current = reach(child, from: current, steps: steps, children: children) }
                return current
            case .choice:
                var union: UInt64 = 0
                for child in list { union |= reach(child, from: starts, steps: steps, children: children) }
                return union
            case .repeated:
                let child = list.first!
                var current = starts
                for _ in 0..<step.min { current = reach(child, from: current, steps: steps, children: children) }
                var reached = current
                if step.max >= 0 {
                    for _ in step.min..<step.max {
                        current = reach(child, from: current, steps: steps, children: children)
                        if current == 0 { break }
                        reached |= current
                    }
                } else {
                    // Until no new position appears.
                    while true {
                        let next = reach(child, from: current, steps: steps, children: children) & ~reached
                        if next == 0 { break }
                        reached |= next
                        current = next
                    }
                }
                return reached
            }
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
