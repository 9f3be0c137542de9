/// How a text is turned into `submit_sm` PDUs.
public struct SMPPSubmitOptions: Sendable, Equatable {
    /// How the parts of a long text are tied together.
    public var concatenation: SMSConcatenation
    /// `registered_delivery`: 0x01 asks for a receipt on success and failure.
    public var registeredDelivery: UInt8
    /// `priority_flag` (0–3).
    public var priorityFlag: UInt8
    /// `validity_period`, e.g. from ``SMPPShortMessage/relativeValidity(seconds:)``; empty for
    /// the SMSC default.
    public var validityPeriod: String
    /// `service_type`, usually empty.
    public var serviceType: String

    /// Creates options; by default UDH concatenation and a receipt for every message.
    public init(
        concatenation: SMSConcatenation = .udh,
        registeredDelivery: UInt8 = 1,
        priorityFlag: UInt8 = 0,
        validityPeriod: String = "",
        serviceType: String = ""
    ) {
        self.concatenation = concatenation
        self.registeredDelivery = registeredDelivery
        self.priorityFlag = priorityFlag
        self.validityPeriod = validityPeriod
        self.serviceType = serviceType
    }
}

extension SMPPShortMessage {
    /// The `submit_sm` bodies for `text`, one per SMS part, GSM-7 or UCS-2 as the text allows.
    public static func submits(
        text: String,
        from source: SMPPAddress,
        to destination: SMPPAddress,
        options: SMPPSubmitOptions = SMPPSubmitOptions(),
        reference: UInt16 = 0
    ) throws(SMSSegmentationError) -> [SMPPShortMessage] {
        let split = try SMSSegmentation(text: text, concatenation: options.concatenation, reference: reference)
        return split.segments.map { segment in
            SMPPShortMessage(
                serviceType: options.serviceType,
                source: source,
                destination: destination,
                esmClass: segment.esmClass,
                priorityFlag: options.priorityFlag,
                validityPeriod: options.validityPeriod,
                registeredDelivery: options.registeredDelivery,
                dataCoding: split.encoding.dataCoding,
                shortMessage: segment.shortMessage,
                tlvs: segment.tlvs
            )
        }
    }

    /// A relative `validity_period` (`YYMMDDhhmmss000R`) of `seconds`, capped at 99 days.
    public static func relativeValidity(seconds: Int) -> String {
        var rest = min(max(seconds, 0), 99 * 86_400 + 86_399)
        let days = rest / 86_400
        rest %= 86_400
        let fields = [0, 0, days, rest / 3600, rest % 3600 / 60, rest % 60]
        return fields.map { $0 < 10 ? "0\($0)" : "\($0)" }.joined() + "000R"
    }
}
