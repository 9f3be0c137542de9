/// An SMPP 3.4 `command_id`. Responses have the top bit (0x80000000) set.
public struct SMPPCommandID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    public var rawValue: UInt32

    /// Wraps a wire value.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// `generic_nack` (0x80000000).
    public static let genericNack = SMPPCommandID(rawValue: 0x8000_0000)
    /// `bind_transceiver` (0x00000009).
    public static let bindTransceiver = SMPPCommandID(rawValue: 0x0000_0009)
    /// `bind_transceiver_resp` (0x80000009).
    public static let bindTransceiverResp = SMPPCommandID(rawValue: 0x8000_0009)
    /// `submit_sm` (0x00000004).
    public static let submitSM = SMPPCommandID(rawValue: 0x0000_0004)
    /// `submit_sm_resp` (0x80000004).
    public static let submitSMResp = SMPPCommandID(rawValue: 0x8000_0004)
    /// `deliver_sm` (0x00000005).
    public static let deliverSM = SMPPCommandID(rawValue: 0x0000_0005)
    /// `deliver_sm_resp` (0x80000005).
    public static let deliverSMResp = SMPPCommandID(rawValue: 0x8000_0005)
    /// `unbind` (0x00000006).
    public static let unbind = SMPPCommandID(rawValue: 0x0000_0006)
    /// `unbind_resp` (0x80000006).
    public static let unbindResp = SMPPCommandID(rawValue: 0x8000_0006)
    /// `enquire_link` (0x00000015).
    public static let enquireLink = SMPPCommandID(rawValue: 0x0000_0015)
    /// `enquire_link_resp` (0x80000015).
    public static let enquireLinkResp = SMPPCommandID(rawValue: 0x8000_0015)

    /// Whether this is a response (top bit set).
    public var isResponse: Bool {
        rawValue & 0x8000_0000 != 0
    }

    /// `0x%08X` form.
    public var description: String {
        "0x" + hex8(rawValue)
    }
}

/// Eight upper-case hex digits.
func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
