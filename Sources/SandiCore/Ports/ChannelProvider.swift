public import Foundation

/// A message ready to hand to a channel provider.
public struct OutboundMessage: Sendable, Equatable {
    public var deliveryID: String
    public var verificationID: String
    public var tenantID: String
    public var channel: Channel
    /// E.164 destination.
    public var to: String
    public var country: String?
    public var `operator`: String?
    public var code: String
    /// The rendered text (SMS / WhatsApp body, or the voice script).
    public var text: String
    public var locale: String
    public var purpose: Purpose
    /// Seconds of life left in the code, for protocols that carry a validity (SMPP, WhatsApp TTL).
    public var ttlSeconds: Int

    public init(deliveryID: String, verificationID: String, tenantID: String, channel: Channel, to: String, country: String?, operator: String?, code: String, text: String, locale: String, purpose: Purpose, ttlSeconds: Int) {
        self.deliveryID = deliveryID
        self.verificationID = verificationID
        self.tenantID = tenantID
        self.channel = channel
        self.to = to
        self.country = country
        self.operator = `operator`
        self.code = code
        self.text = text
        self.locale = locale
        self.purpose = purpose
        self.ttlSeconds = ttlSeconds
    }
}

/// What a provider answered to a send it accepted.
public struct ProviderAcceptance: Sendable, Equatable {
    public var providerMessageID: String
    /// A receipt the provider reported synchronously (e.g. `delivered`), if any.
    public var receipt: DeliveryStatus?
    public var receiptAt: Date?

    public init(providerMessageID: String, receipt: DeliveryStatus? = nil, receiptAt: Date? = nil) {
        self.providerMessageID = providerMessageID
        self.receipt = receipt
        self.receiptAt = receiptAt
    }
}

/// Why a provider did not accept a send.
public enum ProviderError: Error, Equatable, Sendable {
    /// The destination cannot use this channel (e.g. not on WhatsApp): `undeliverable`.
    case undeliverable(String)
    /// The provider refused or failed the send: `failed`; the plan moves on.
    case failed(String)
    /// A passing fault (timeout, throttling): try the same step again later.
    case transient(String)

    /// A short reason, safe to log and show.
    public var reason: String {
        switch self {
        case .undeliverable(let r), .failed(let r), .transient(let r): r
        }
    }
}

/// A channel provider: the simulator, WhatsApp Cloud API, Twilio, SMPP…
public protocol ChannelProvider: Sendable {
    /// The provider's name as shown in deliveries (`simulator`, `twilio`, …).
    var name: String { get }
    /// The channels it can carry.
    var channels: Set<Channel> { get }
    /// Sends one message.
    func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance
}

/// Wakes the delivery workers when new work was queued, so a send does not wait for the next poll.
public protocol WorkSignal: Sendable {
    func workQueued()
}

/// A signal nobody listens to (tools and tests that drive workers by hand).
public struct NoWorkSignal: WorkSignal {
    public init() {}
    public func workQueued() {}
}

/// A delivery receipt reported by a provider after the send.
public struct ProviderReceipt: Sendable, Equatable {
    public var deliveryID: String
    public var status: DeliveryStatus
    public var at: Date
    public var error: String?

    public init(deliveryID: String, status: DeliveryStatus, at: Date, error: String? = nil) {
        self.deliveryID = deliveryID
        self.status = status
        self.at = at
        self.error = error
    }
}

/// A provider whose receipts are collected by polling (the simulator; protocol sessions such as
/// SMPP) rather than pushed to a webhook.
public protocol ReceiptSource: Sendable {
    /// Receipts due by `now`, each handed out once.
    func dueReceipts(now: Date) -> [ProviderReceipt]
    /// When the next receipt falls due (nil when none is pending).
    func nextReceiptAt() -> Date?
}
