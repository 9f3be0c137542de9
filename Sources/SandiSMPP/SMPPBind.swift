/// The body of `bind_transceiver`: the ESME's credentials and address range.
public struct SMPPBind: Sendable, Equatable {
    /// `system_id` (≤ 15 characters).
    public var systemID: String
    /// `password` (≤ 8 characters).
    public var password: String
    /// `system_type` (≤ 12 characters), often empty.
    public var systemType: String
    /// `interface_version`: 0x34 for SMPP 3.4.
    public var interfaceVersion: UInt8
    /// `addr_ton` of the address range.
    public var addressTON: UInt8
    /// `addr_npi` of the address range.
    public var addressNPI: UInt8
    /// `address_range` (≤ 40 characters), usually empty.
    public var addressRange: String

    /// Creates a bind body; version 3.4 and an empty address range by default.
    public init(
        systemID: String,
        password: String,
        systemType: String = "",
        interfaceVersion: UInt8 = 0x34,
        addressTON: UInt8 = 0,
        addressNPI: UInt8 = 0,
        addressRange: String = ""
    ) {
        self.systemID = systemID
        self.password = password
        self.systemType = systemType
        self.interfaceVersion = interfaceVersion
        self.addressTON = addressTON
        self.addressNPI = addressNPI
        self.addressRange = addressRange
    }
}

/// The body of `bind_transceiver_resp`: the SMSC's id and optional TLVs
/// (e.g. `sc_interface_version`). Empty when the bind was refused.
public struct SMPPBindResponse: Sendable, Equatable {
    /// The SMSC's `system_id`.
    public var systemID: String
    /// Optional parameters.
    public var tlvs: [SMPPTLV]

    /// Creates a bind response body.
    public init(systemID: String, tlvs: [SMPPTLV] = []) {
        self.systemID = systemID
        self.tlvs = tlvs
    }
}
