/// An SMPP address: type of number (TON), numbering plan indicator (NPI) and the digits or name.
public struct SMPPAddress: Sendable, Equatable, Hashable {
    /// Type of number: 0 unknown, 1 international, 5 alphanumeric, …
    public var ton: UInt8
    /// Numbering plan indicator: 0 unknown, 1 ISDN/E.164, …
    public var npi: UInt8
    /// The address (≤ 20 characters on the wire).
    public var address: String

    /// Creates an address from raw TON, NPI and value.
    public init(ton: UInt8 = 0, npi: UInt8 = 0, address: String = "") {
        self.ton = ton
        self.npi = npi
        self.address = address
    }

    /// A branded sender name: TON 5 (alphanumeric), NPI 0 (unknown).
    public static func alphanumeric(_ name: String) -> SMPPAddress {
        SMPPAddress(ton: 5, npi: 0, address: name)
    }

    /// An E.164 number: TON 1 (international), NPI 1 (ISDN); a leading `+` is dropped.
    public static func international(_ number: String) -> SMPPAddress {
        let digits = number.hasPrefix("+") ? String(number.dropFirst()) : number
        return SMPPAddress(ton: 1, npi: 1, address: digits)
    }

    /// A sender id as usually configured: international when it is `+`/digits only,
    /// alphanumeric otherwise.
    public static func sender(_ id: String) -> SMPPAddress {
        let digits = id.hasPrefix("+") ? id.dropFirst() : Substring(id)
        let numeric = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        return numeric ? .international(id) : .alphanumeric(id)
    }
}
