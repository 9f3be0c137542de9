/// The 16-octet header every PDU starts with.
public struct SMPPHeader: Sendable, Equatable {
    /// Header length in octets.
    public static let length = 16

    /// `command_length`: the whole PDU, header included.
    public var commandLength: UInt32
    /// `command_id`.
    public var commandID: SMPPCommandID
    /// `command_status`: zero in requests.
    public var commandStatus: SMPPCommandStatus
    /// `sequence_number`, pairing a response with its request.
    public var sequenceNumber: UInt32

    /// Creates a header.
    public init(commandLength: UInt32, commandID: SMPPCommandID, commandStatus: SMPPCommandStatus, sequenceNumber: UInt32) {
        self.commandLength = commandLength
        self.commandID = commandID
        self.commandStatus = commandStatus
        self.sequenceNumber = sequenceNumber
    }
}

/// One SMPP 3.4 PDU of the commands an OTP transceiver uses.
public struct SMPPPDU: Sendable, Equatable {
    /// The command and its decoded body.
    public enum Body: Sendable, Equatable {
        /// `bind_transceiver`.
        case bindTransceiver(SMPPBind)
        /// `bind_transceiver_resp` (body left out on the wire when the status is not OK).
        case bindTransceiverResp(SMPPBindResponse)
        /// `submit_sm`.
        case submitSM(SMPPShortMessage)
        /// `submit_sm_resp` with the SMSC's message id (body left out when the status is not OK).
        case submitSMResp(messageID: String)
        /// `deliver_sm` (delivery receipts and mobile-originated messages).
        case deliverSM(SMPPShortMessage)
        /// `deliver_sm_resp`; the message id is unused and normally empty.
        case deliverSMResp(messageID: String)
        /// `enquire_link`.
        case enquireLink
        /// `enquire_link_resp`.
        case enquireLinkResp
        /// `unbind`.
        case unbind
        /// `unbind_resp`.
        case unbindResp
        /// `generic_nack`.
        case genericNack

        /// The `command_id` of this body.
        public var commandID: SMPPCommandID {
            switch self {
            case .bindTransceiver: .bindTransceiver
            case .bindTransceiverResp: .bindTransceiverResp
            case .submitSM: .submitSM
            case .submitSMResp: .submitSMResp
            case .deliverSM: .deliverSM
            case .deliverSMResp: .deliverSMResp
            case .enquireLink: .enquireLink
            case .enquireLinkResp: .enquireLinkResp
            case .unbind: .unbind
            case .unbindResp: .unbindResp
            case .genericNack: .genericNack
            }
        }
    }

    /// `command_status`.
    public var commandStatus: SMPPCommandStatus
    /// `sequence_number`.
    public var sequenceNumber: UInt32
    /// The command and its fields.
    public var body: Body

    /// Creates a PDU; requests carry status OK.
    public init(sequenceNumber: UInt32, commandStatus: SMPPCommandStatus = .ok, body: Body) {
        self.commandStatus = commandStatus
        self.sequenceNumber = sequenceNumber
        self.body = body
    }

    /// The `command_id` of the body.
    public var commandID: SMPPCommandID {
        body.commandID
    }
}
