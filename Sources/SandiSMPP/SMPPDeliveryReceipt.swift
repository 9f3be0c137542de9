/// The `network_error_code` TLV: the network type (3 = GSM) and its error code.
public struct SMPPNetworkError: Sendable, Equatable, Hashable {
    /// Network type octet.
    public var networkType: UInt8
    /// The network's error code.
    public var code: UInt16

    /// Creates a network error.
    public init(networkType: UInt8, code: UInt16) {
        self.networkType = networkType
        self.code = code
    }
}

/// A delivery receipt sent by the SMSC in a `deliver_sm`.
///
/// Receipts are passed on as they arrive: an SMSC that redelivers one (e.g. after a lost
/// `deliver_sm_resp`) yields it twice, so consumers must treat receipts idempotently.
public struct SMPPDeliveryReceipt: Sendable, Equatable {
    /// The SMSC's id of the submitted message (`receipted_message_id` or `id:`).
    public var messageID: String
    /// What happened to it.
    public var state: SMPPDeliveryState
    /// The vendor-specific `err:` value, if given.
    public var errorCode: String?
    /// The `network_error_code` TLV, if given.
    public var networkError: SMPPNetworkError?
    /// `sub:`: parts submitted, as sent.
    public var submitted: String?
    /// `dlvrd:`: parts delivered, as sent.
    public var delivered: String?
    /// `submit date:` as sent (`YYMMDDhhmm`, sometimes with seconds).
    public var submitDate: String?
    /// `done date:` as sent.
    public var doneDate: String?
    /// `text:`: the first characters of the original message.
    public var text: String?
    /// The handset the receipt is about (the receipt's `source_addr`), when known.
    public var recipient: SMPPAddress?

    /// Creates a receipt.
    public init(
        messageID: String,
        state: SMPPDeliveryState,
        errorCode: String? = nil,
        networkError: SMPPNetworkError? = nil,
        submitted: String? = nil,
        delivered: String? = nil,
        submitDate: String? = nil,
        doneDate: String? = nil,
        text: String? = nil,
        recipient: SMPPAddress? = nil
    ) {
        self.messageID = messageID
        self.state = state
        self.errorCode = errorCode
        self.networkError = networkError
        self.submitted = submitted
        self.delivered = delivered
        self.submitDate = submitDate
        self.doneDate = doneDate
        self.text = text
        self.recipient = recipient
    }

    /// Reads a receipt from a `deliver_sm` body, preferring the `receipted_message_id` and
    /// `message_state` TLVs and filling the rest from the text. `nil` when neither form
    /// yields a message id (e.g. a mobile-originated message).
    public init?(deliverSM message: SMPPShortMessage) {
        let parsed = Self.parse(text: Self.bodyText(of: message))
        let tlvID = message.tlvs.first(.receiptedMessageID)?.stringValue
        let tlvState = message.tlvs.first(.messageState)?.value.first.flatMap(SMPPDeliveryState.init(messageState:))
        guard let id = tlvID ?? parsed?.messageID else { return nil }
        var receipt = parsed ?? SMPPDeliveryReceipt(messageID: id, state: .unknown)
        receipt.messageID = id
        if let tlvState {
            receipt.state = tlvState
        }
        if let network = message.tlvs.first(.networkErrorCode), network.value.count == 3 {
            let code = UInt16(network.value[1]) << 8 | UInt16(network.value[2])
            receipt.networkError = SMPPNetworkError(networkType: network.value[0], code: code)
        }
        receipt.recipient = message.source
        self = receipt
    }

    /// Whether `submitMessageID` (from `submit_sm_resp`) names the message of this receipt,
    /// allowing for SMSCs that write one id in hex and the other in decimal.
    public func matches(submitMessageID: String) -> Bool {
        if messageID.caseInsensitiveCompare(submitMessageID) { return true }
        let receiptValues = Self.numericReadings(messageID)
        return Self.numericReadings(submitMessageID).contains { receiptValues.contains($0) }
    }

    /// The message text: UCS-2 for `data_coding` 0x08, otherwise octets read as Latin-1;
    /// taken from `message_payload` when `short_message` is empty.
    static func bodyText(of message: SMPPShortMessage) -> String {
        let bytes = message.shortMessage.isEmpty
            ? (message.tlvs.first(.messagePayload)?.value ?? []) : message.shortMessage
        if message.dataCoding == 0x08 {
            return UCS2.decode(bytes)
        }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    private static func numericReadings(_ id: String) -> Set<UInt64> {
        Set([UInt64(id, radix: 10), UInt64(id, radix: 16)].compactMap { $0 })
    }
}

extension String {
    fileprivate func caseInsensitiveCompare(_ other: String) -> Bool {
        lowercased() == other.lowercased()
    }
}
