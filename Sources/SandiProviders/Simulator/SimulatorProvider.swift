public import Foundation
public import SandiCore
import Synchronization

/// The built-in simulated provider for whatsapp, sms and voice: it "delivers" the real rendered
/// message into the outbox (sealed at rest), with configurable latency, failures, outages and receipts.
public final class SimulatorProvider: ChannelProvider {
    public let name: String
    public let channels: Set<Channel>
    private let outbox: any OutboxStore
    private let hasher: CodeHasher
    private let clock: any TimeSource
    private let state: Mutex<(settings: SimulatorSettings, rng: SeededRandom, pending: [ProviderReceipt], attempts: SendCounts)>
    private let seed: UInt64

    /// `name` tells several simulated routes apart (e.g. two SMS routes in a simulation).
    public init(name: String = "simulator", channels: Set<Channel> = [.whatsapp, .sms, .voice], outbox: any OutboxStore, hasher: CodeHasher, clock: any TimeSource, seed: UInt64 = 0x5A4D_1)  {
        self.name = name
        self.channels = channels
        self.outbox = outbox
        self.hasher = hasher
        self.clock = clock
        self.seed = seed
        self.state = Mutex((SimulatorSettings(), SeededRandom(seed: seed), [], SendCounts()))
    }

    /// The current settings.
    public var settings: SimulatorSettings { state.withLock { $0.settings } }

    /// Changes the settings; returns them after the change.
    @discardableResult
    public func apply(_ change: SimulatorChange) -> SimulatorSettings {
        state.withLock { $0.settings.apply(change); return $0.settings }
    }

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        // Each message's dice come from the seed, its destination, channel and attempt number, so a
        // run repeats under a seed whatever order concurrent sends take.
        let (route, roll, spread) = state.withLock { s in
            let key = message.to + "|" + message.channel.rawValue
            let attempt = s.attempts.next(key)
            var rng = SeededRandom(seed: seed ^ StableHash.fnv1a(key) &+ attempt &* 0x9E37_79B9)
            return (s.settings.route(channel: message.channel.rawValue, operator: message.operator, country: message.country),
                    Double.random(in: 0..<1, using: &rng), Self.normal(&rng))
        }
        if route.outage { throw .failed("simulated outage") }
        if settings.unreachable[message.channel.rawValue]?.contains(message.to) == true {
            throw .undeliverable("recipient cannot use \(message.channel.rawValue)")
        }
        if route.latencyMs > 0 {
            try? await Task.sleep(for: .milliseconds(route.latencyMs))
        }
        if roll < route.failureRate { throw .failed("simulated failure") }
        let now = clock.now
        do {
            let stored = OutboxMessage(
                id: Identifier.make(.message), tenantID: message.tenantID, deliveryID: message.deliveryID,
                channel: message.channel, to: message.to,
                sealedText: try hasher.sealText(message.text, context: message.deliveryID),
                sealedCode: message.code.isEmpty ? nil : try hasher.sealText(message.code, context: message.deliveryID + "|code"), sentAt: now)
            _ = try await outbox.appendOutbox(stored)
        } catch {
            throw .transient("outbox unavailable")
        }
        // Receipts: at once, later (log-normal around the route's median delay), failed on a
        // degraded route, or never.
        let failed = roll < route.failureRate + route.receiptFailureRate && roll >= route.failureRate
        if route.receipts, route.receiptDelayMs > 0 || failed, !message.code.isEmpty {
            let delay = Double(max(1, route.receiptDelayMs)) / 1000 * exp(0.5 * spread)
            let receipt = ProviderReceipt(deliveryID: message.deliveryID, status: failed ? .failed : .delivered,
                                          at: now.addingTimeInterval(delay), error: failed ? "simulated failed receipt" : nil)
            state.withLock { $0.pending.append(receipt) }
            return ProviderAcceptance(providerMessageID: "sim-" + message.deliveryID)
        }
        return ProviderAcceptance(
            providerMessageID: "sim-" + message.deliveryID, receipt: route.receipts ? .delivered : nil, receiptAt: now)
    }

    /// A standard normal variate (Box–Muller) from the seeded source.
    static func normal(_ rng: inout SeededRandom) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
        let u2 = Double.random(in: 0..<1, using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A stored message opened for display: text and code.
    public func open(_ message: OutboxMessage) -> (text: String, code: String?)? {
        guard let text = hasher.unsealText(message.sealedText, context: message.deliveryID) else { return nil }
        return (text, message.sealedCode.flatMap { hasher.unsealText($0, context: message.deliveryID + "|code") })
    }
}

/// Sends counted by key (destination and channel), for the simulator's dice. Bounded: two
/// generations of at most `limit` keys each. When the current one is full, it becomes the
/// previous one (the older is dropped), so a key sent to within the last `limit` distinct keys
/// keeps its count, and one idle longer starts again from zero. A long run on the simulator (a
/// benchmark sends to a new number every time) keeps at most `2 × limit` keys.
struct SendCounts: Sendable {
    private(set) var current: [String: UInt64] = [:]
    private(set) var previous: [String: UInt64] = [:]
    let limit: Int

    init(limit: Int = 50_000) { self.limit = max(1, limit) }

    /// The sends counted for `key` so far (0 for the first), counting this one.
    mutating func next(_ key: String) -> UInt64 {
        if let count = current[key] {
            current[key] = count + 1
            return count
        }
        let count = previous[key] ?? 0
        if current.count >= limit {
            previous = current
            current = [:]
        }
        current[key] = count + 1
        return count
    }

    /// Keys held.
    var count: Int { current.count + previous.count }
}

extension SimulatorProvider: ReceiptSource {
    public func dueReceipts(now: Date) -> [ProviderReceipt] {
        state.withLock { s in
            let due = s.pending.filter { $0.at <= now }.sorted { ($0.at, $0.deliveryID) < ($1.at, $1.deliveryID) }
            s.pending.removeAll { $0.at <= now }
            return due
        }
    }

    public func nextReceiptAt() -> Date? {
        state.withLock { $0.pending.map(\.at).min() }
    }
}
