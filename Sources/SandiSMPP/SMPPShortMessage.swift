/// The body shared by `submit_sm` and `deliver_sm` (their mandatory fields are the same, in the
/// same order), followed by optional TLVs.
public struct SMPPShortMessage: Sendable, Equatable {
    /// `service_type` (≤ 5 characters), usually empty.
    public var serviceType: String
    /// `source_addr_ton`, `source_addr_npi`, `source_addr`.
    public var source: SMPPAddress
    /// `dest_addr_ton`, `dest_addr_npi`, `destination_addr`.
    public var destination: SMPPAddress
    /// `esm_class`: 0x40 when `shortMessage` starts with a UDH; 0x04 marks a delivery receipt.
    public var esmClass: UInt8
    /// `protocol_id`.
    public var protocolID: UInt8
    /// `priority_flag` (0–3).
    public var priorityFlag: UInt8
    /// `schedule_delivery_time`: empty (now) or 16 characters.
    public var scheduleDeliveryTime: String
    /// `validity_period`: empty (SMSC default) or 16 characters, absolute or relative (`…R`).
    public var validityPeriod: String
    /// `registered_delivery`: 0x01 asks for a receipt on success and failure.
    public var registeredDelivery: UInt8
    /// `replace_if_present_flag`.
    public var replaceIfPresent: UInt8
    /// `data_coding`: 0x00 SMSC default (GSM-7), 0x08 UCS-2.
    public var dataCoding: UInt8
    /// `sm_default_msg_id`.
    public var defaultMessageID: UInt8
    /// `short_message` (≤ 254 octets; its length goes in `sm_length`).
    public var shortMessage: [UInt8]
    /// Optional parameters, in wire order.
    public var tlvs: [SMPPTLV]

    /// Creates a message body; every field but the addresses has the usual default.
    public init(
        serviceType: String = "",
        source: SMPPAddress,
        destination: SMPPAddress,
        esmClass: UInt8 = 0,
        protocolID: UInt8 = 0,
        priorityFlag: UInt8 = 0,
        scheduleDeliveryTime: String = "",
        validityPeriod: String = "",
        registeredDelivery: UInt8 = 0,
        replaceIfPresent: UInt8 = 0,
        dataCoding: UInt8 = 0,
        defaultMessageID: UInt8 = 0,
        shortMessage: [UInt8] = [],
        tlvs: [SMPPTLV] = []
    ) {
        self.serviceType = serviceType
        self.source = source
        self.destination = destination
        self.esmClass = esmClass
        self.protocolID = protocolID
        self.priorityFlag = priorityFlag
        self.scheduleDeliveryTime = scheduleDeliveryTime
        self.validityPeriod = validityPeriod
        self.registeredDelivery = registeredDelivery
        self.replaceIfPresent = replaceIfPresent
        self.dataCoding = dataCoding
        self.defaultMessageID = defaultMessageID
        self.shortMessage = shortMessage
        self.tlvs = tlvs
    }

    /// Whether `esm_class` marks this as an SMSC delivery receipt (message type bits = 0001).
    public var isDeliveryReceipt: Bool {
        esmClass & 0x3C == 0x04
    }
}
