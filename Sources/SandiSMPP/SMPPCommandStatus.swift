/// An SMPP 3.4 `command_status` (error code) carried in every response header.
public struct SMPPCommandStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    public var rawValue: UInt32

    /// Wraps a wire value.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// 0x00 ESME_ROK: no error.
    public static let ok = SMPPCommandStatus(rawValue: 0x00)
    /// 0x01 ESME_RINVMSGLEN: message length is invalid.
    public static let invalidMessageLength = SMPPCommandStatus(rawValue: 0x01)
    /// 0x02 ESME_RINVCMDLEN: command length is invalid.
    public static let invalidCommandLength = SMPPCommandStatus(rawValue: 0x02)
    /// 0x03 ESME_RINVCMDID: invalid command id.
    public static let invalidCommandID = SMPPCommandStatus(rawValue: 0x03)
    /// 0x04 ESME_RINVBNDSTS: incorrect bind status for the command.
    public static let invalidBindStatus = SMPPCommandStatus(rawValue: 0x04)
    /// 0x05 ESME_RALYBND: already bound.
    public static let alreadyBound = SMPPCommandStatus(rawValue: 0x05)
    /// 0x08 ESME_RSYSERR: system error.
    public static let systemError = SMPPCommandStatus(rawValue: 0x08)
    /// 0x0A ESME_RINVSRCADR: invalid source address.
    public static let invalidSourceAddress = SMPPCommandStatus(rawValue: 0x0A)
    /// 0x0B ESME_RINVDSTADR: invalid destination address.
    public static let invalidDestinationAddress = SMPPCommandStatus(rawValue: 0x0B)
    /// 0x0D ESME_RBINDFAIL: bind failed.
    public static let bindFailed = SMPPCommandStatus(rawValue: 0x0D)
    /// 0x0E ESME_RINVPASWD: invalid password.
    public static let invalidPassword = SMPPCommandStatus(rawValue: 0x0E)
    /// 0x0F ESME_RINVSYSID: invalid system id.
    public static let invalidSystemID = SMPPCommandStatus(rawValue: 0x0F)
    /// 0x14 ESME_RMSGQFUL: message queue full.
    public static let messageQueueFull = SMPPCommandStatus(rawValue: 0x14)
    /// 0x45 ESME_RSUBMITFAIL: submit_sm failed.
    public static let submitFailed = SMPPCommandStatus(rawValue: 0x45)
    /// 0x58 ESME_RTHROTTLED: throughput exceeded.
    public static let throttled = SMPPCommandStatus(rawValue: 0x58)
    /// 0x64 ESME_RX_T_APPN: temporary application error.
    public static let temporaryAppError = SMPPCommandStatus(rawValue: 0x64)
    /// 0xC0 ESME_RINVOPTPARSTREAM: error in the optional parameter stream.
    public static let invalidOptionalParameterStream = SMPPCommandStatus(rawValue: 0xC0)
    /// 0xC2 ESME_RINVPARLEN: invalid parameter length.
    public static let invalidParameterLength = SMPPCommandStatus(rawValue: 0xC2)
    /// 0xFF ESME_RUNKNOWNERR: unknown error.
    public static let unknownError = SMPPCommandStatus(rawValue: 0xFF)

    /// Asks the ESME to slow down: ESME_RTHROTTLED or ESME_RMSGQFUL. The submit was not taken
    /// and may be sent again after a pause.
    public var isThrottling: Bool {
        self == .throttled || self == .messageQueueFull
    }

    /// A passing failure where sending the same message again later may succeed.
    public var isRetryable: Bool {
        isThrottling || self == .systemError || self == .submitFailed || self == .temporaryAppError
    }

    /// The spec's name, e.g. `ESME_RTHROTTLED (0x00000058)`.
    public var description: String {
        let name = Self.names[rawValue] ?? "ESME_UNKNOWN"
        return "\(name) (0x\(hex8(rawValue)))"
    }

    private static let names: [UInt32: String] = [
        0x00: "ESME_ROK", 0x01: "ESME_RINVMSGLEN", 0x02: "ESME_RINVCMDLEN", 0x03: "ESME_RINVCMDID",
        0x04: "ESME_RINVBNDSTS", 0x05: "ESME_RALYBND", 0x06: "ESME_RINVPRTFLG", 0x07: "ESME_RINVREGDLVFLG",
        0x08: "ESME_RSYSERR", 0x0A: "ESME_RINVSRCADR", 0x0B: "ESME_RINVDSTADR", 0x0C: "ESME_RINVMSGID",
        0x0D: "ESME_RBINDFAIL", 0x0E: "ESME_RINVPASWD", 0x0F: "ESME_RINVSYSID", 0x11: "ESME_RCANCELFAIL",
        0x13: "ESME_RREPLACEFAIL", 0x14: "ESME_RMSGQFUL", 0x15: "ESME_RINVSERTYP", 0x33: "ESME_RINVNUMDESTS",
        0x34: "ESME_RINVDLNAME", 0x40: "ESME_RINVDESTFLAG", 0x42: "ESME_RINVSUBREP", 0x43: "ESME_RINVESMCLASS",
        0x44: "ESME_RCNTSUBDL", 0x45: "ESME_RSUBMITFAIL", 0x48: "ESME_RINVSRCTON", 0x49: "ESME_RINVSRCNPI",
        0x50: "ESME_RINVDSTTON", 0x51: "ESME_RINVDSTNPI", 0x53: "ESME_RINVSYSTYP", 0x54: "ESME_RINVREPFLAG",
        0x55: "ESME_RINVNUMMSGS", 0x58: "ESME_RTHROTTLED", 0x61: "ESME_RINVSCHED", 0x62: "ESME_RINVEXPIRY",
        0x63: "ESME_RINVDFTMSGID", 0x64: "ESME_RX_T_APPN", 0x65: "ESME_RX_P_APPN", 0x66: "ESME_RX_R_APPN",
        0x67: "ESME_RQUERYFAIL", 0xC0: "ESME_RINVOPTPARSTREAM", 0xC1: "ESME_ROPTPARNOTALLWD",
        0xC2: "ESME_RINVPARLEN", 0xC3: "ESME_RMISSINGOPTPARAM", 0xC4: "ESME_RINVOPTPARAMVAL",
        0xFE: "ESME_RDELIVERYFAILURE", 0xFF: "ESME_RUNKNOWNERR",
    ]
}
