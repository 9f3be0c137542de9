/// The state a delivery receipt reports, from the text `stat:` field or the `message_state` TLV.
public enum SMPPDeliveryState: String, Sendable, Equatable, Hashable, CaseIterable {
    /// `ENROUTE` / 1: on its way, not final.
    case enroute
    /// `DELIVRD` / 2: delivered to the handset.
    case delivered
    /// `EXPIRED` / 3: validity period ran out.
    case expired
    /// `DELETED` / 4: deleted at the SMSC.
    case deleted
    /// `UNDELIV` / 5: cannot be delivered.
    case undeliverable
    /// `ACCEPTD` / 6: accepted on the subscriber's behalf.
    case accepted
    /// `UNKNOWN` / 7, or any `stat` value not recognised.
    case unknown
    /// `REJECTD` / 8: rejected by the SMSC or network.
    case rejected

    /// Maps a `stat:` value, case-insensitively; unrecognised values become ``unknown``.
    public init(stat: String) {
        let value = stat.uppercased()
        self = Self.allCases.first { $0.stat == value || $0.longName == value } ?? .unknown
    }

    /// Maps a `message_state` TLV value (1–8); `nil` for anything else.
    public init?(messageState: UInt8) {
        guard let state = Self.allCases.first(where: { $0.messageState == messageState }) else { return nil }
        self = state
    }

    /// The seven-letter `stat:` form, e.g. `DELIVRD`.
    public var stat: String {
        switch self {
        case .enroute: "ENROUTE"
        case .delivered: "DELIVRD"
        case .expired: "EXPIRED"
        case .deleted: "DELETED"
        case .undeliverable: "UNDELIV"
        case .accepted: "ACCEPTD"
        case .unknown: "UNKNOWN"
        case .rejected: "REJECTD"
        }
    }

    /// The `message_state` TLV value.
    public var messageState: UInt8 {
        switch self {
        case .enroute: 1
        case .delivered: 2
        case .expired: 3
        case .deleted: 4
        case .undeliverable: 5
        case .accepted: 6
        case .unknown: 7
        case .rejected: 8
        }
    }

    /// Whether no later receipt is expected (everything but ``enroute``).
    public var isFinal: Bool {
        self != .enroute
    }

    /// Spelled-out names some SMSCs send instead of the seven-letter form.
    private var longName: String {
        switch self {
        case .delivered: "DELIVERED"
        case .undeliverable: "UNDELIVERABLE"
        case .accepted: "ACCEPTED"
        case .rejected: "REJECTED"
        case .enroute, .expired, .deleted, .unknown: stat
        }
    }
}
