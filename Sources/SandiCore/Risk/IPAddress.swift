/// An IPv4 or IPv6 address as 4 or 16 bytes, parsed without any I/O; used for limits per address
/// and per network (/24, /64) and for safe-listed ranges.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    /// Parses dotted IPv4 (`203.0.113.7`) or IPv6 (`2001:db8::1`, `::ffff:198.51.100.1`). An IPv4-mapped
    /// IPv6 address is read as the IPv4 address it carries, so both spellings count as one client.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        if let v4 = Self.parseIPv4(Substring(text)) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            let mapped = v6[0..<10].allSatisfy { $0 == 0 } && v6[10] == 0xFF && v6[11] == 0xFF
            bytes = mapped ? Array(v6[12...]) : v6
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The network of this address with `bits` leading bits kept.
    public func network(bits: Int) -> IPAddress {
        var out = bytes
        for i in out.indices {
            let keep = max(0, min(8, bits - i * 8))
            out[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return IPAddress(bytes: out)
    }

    /// The client's network for limits: /24 for IPv4, /64 for IPv6.
    public var clientNetwork: IPAddress { network(bits: isIPv4 ? 24 : 64) }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                  let value = UInt8(part), part.count == 1 || part.first != "0"
            else { return nil }
            out.append(value)
        }
        return out
    }

    private static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String, allowV4Tail: Bool) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() {
                if allowV4Tail, i == parts.count - 1, part.contains(".") {
                    guard let v4 = parseIPv4(part) else { return nil }
                    out += v4
                    continue
                }
                guard (1...4).contains(part.count), let value = UInt16(part, radix: 16) else { return nil }
                out += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return out
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowV4Tail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowV4Tail: false), let tail = groups(halves[1], allowV4Tail: true),
              head.count + tail.count <= 14
        else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

/// An address range in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`), or one address.
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let bits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let maxBits = address.isIPv4 ? 32 : 128
        if parts.count == 2 {
            guard let bits = Int(parts[1]), (0...maxBits).contains(bits), parts[1].allSatisfy(\.isNumber) else { return nil }
            self.bits = bits
        } else {
            bits = maxBits
        }
        network = address.network(bits: bits)
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && address.network(bits: bits) == network
    }

    public var description: String { "\(network)/\(bits)" }
}
