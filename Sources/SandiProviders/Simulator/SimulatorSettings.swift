/// How the simulator treats one channel (optionally narrowed to an operator or a country).
public struct SimulatedRoute: Sendable, Equatable, Codable {
    /// Milliseconds a send takes.
    public var latencyMs: Int = 0
    /// Share of sends that fail (0…1).
    public var failureRate: Double = 0
    /// While true, every send fails at once with a failed receipt.
    public var outage: Bool = false
    /// Whether delivery receipts come back.
    public var receipts: Bool = true
    /// Median milliseconds from send to delivery receipt (log-normal spread around it); 0 reports
    /// the receipt with the send.
    public var receiptDelayMs: Int = 0
    /// Share of accepted messages whose receipt says `failed` (a degraded operator route).
    public var receiptFailureRate: Double = 0

    public init(latencyMs: Int = 0, failureRate: Double = 0, outage: Bool = false, receipts: Bool = true, receiptDelayMs: Int = 0, receiptFailureRate: Double = 0) {
        self.latencyMs = latencyMs
        self.failureRate = failureRate
        self.outage = outage
        self.receipts = receipts
        self.receiptDelayMs = receiptDelayMs
        self.receiptFailureRate = receiptFailureRate
    }

    enum CodingKeys: String, CodingKey {
        case latencyMs = "latency_ms", failureRate = "failure_rate", outage, receipts
        case receiptDelayMs = "receipt_delay_ms", receiptFailureRate = "receipt_failure_rate"
    }
}

/// A change to the simulator settings, as `POST /v1/dev/simulator` takes it.
public struct SimulatorChange: Sendable, Equatable {
    /// The channel to change; nil changes every channel.
    public var channel: String?
    public var `operator`: String?
    public var country: String?
    public var latencyMs: Int?
    public var failureRate: Double?
    public var outage: Bool?
    public var receipts: Bool?
    public var receiptDelayMs: Int?
    public var receiptFailureRate: Double?
    /// Numbers that cannot use the channel from now on.
    public var unreachableNumbers: [String]?

    public init(channel: String? = nil, operator: String? = nil, country: String? = nil, latencyMs: Int? = nil, failureRate: Double? = nil, outage: Bool? = nil, receipts: Bool? = nil, receiptDelayMs: Int? = nil, receiptFailureRate: Double? = nil, unreachableNumbers: [String]? = nil) {
        self.receiptDelayMs = receiptDelayMs
        self.receiptFailureRate = receiptFailureRate
        self.channel = channel
        self.operator = `operator`
        self.country = country
        self.latencyMs = latencyMs
        self.failureRate = failureRate
        self.outage = outage
        self.receipts = receipts
        self.unreachableNumbers = unreachableNumbers
    }
}

/// The simulator settings of the whole process: per channel, with overrides per operator or country.
public struct SimulatorSettings: Sendable, Equatable {
    public var channels: [String: SimulatedRoute]
    /// Overrides keyed `channel|operator:<name>` or `channel|country:<ISO>`.
    public var overrides: [String: SimulatedRoute]
    /// Numbers (E.164) that cannot use a channel (e.g. not on WhatsApp): sends are undeliverable.
    public var unreachable: [String: Set<String>]

    public init() {
        channels = ["whatsapp": SimulatedRoute(), "sms": SimulatedRoute(), "voice": SimulatedRoute()]
        overrides = [:]
        unreachable = [:]
    }

    /// The route for a send: an operator override wins over a country override over the channel.
    public func route(channel: String, operator: String?, country: String?) -> SimulatedRoute {
        if let op = `operator`, let route = overrides["\(channel)|operator:\(op)"] { return route }
        if let country, let route = overrides["\(channel)|country:\(country)"] { return route }
        return channels[channel] ?? SimulatedRoute()
    }

    /// Applies a change to one channel (or all), or to an operator/country override of it.
    public mutating func apply(_ change: SimulatorChange) {
        let targets = change.channel.map { [$0] } ?? channels.keys.sorted()
        for channel in targets {
            let key: String? = change.operator.map { "\(channel)|operator:\($0)" } ?? change.country.map { "\(channel)|country:\($0.uppercased())" }
            var route = key.flatMap { overrides[$0] } ?? channels[channel] ?? SimulatedRoute()
            if let v = change.latencyMs { route.latencyMs = v }
            if let v = change.failureRate { route.failureRate = v }
            if let v = change.outage { route.outage = v }
            if let v = change.receipts { route.receipts = v }
            if let v = change.receiptDelayMs { route.receiptDelayMs = v }
            if let v = change.receiptFailureRate { route.receiptFailureRate = v }
            if let key { overrides[key] = route } else { channels[channel] = route }
            if let numbers = change.unreachableNumbers { unreachable[channel, default: []].formUnion(numbers) }
        }
    }
}
