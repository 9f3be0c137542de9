import Foundation
public import SandiCore
import Synchronization

/// A seedable random source (SplitMix64), so simulator runs repeat under a seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The built-in simulated provider for whatsapp, sms and voice: it "delivers" the real rendered
/// message into the outbox (sealed at rest), with configurable latency, failures, outages and receipts.
public final class SimulatorProvider: ChannelProvider {
    public let name = "simulator"
    public let channels: Set<Channel> = [.whatsapp, .sms, .voice]
    private let outbox: any OutboxStore
    private let hasher: CodeHasher
    private let clock: any TimeSource
    private let state: Mutex<(settings: SimulatorSettings, rng: SeededRandom)>

    public init(outbox: any OutboxStore, hasher: CodeHasher, clock: any TimeSource, seed: UInt64 = 0x5A4D_1)  {
        self.outbox = outbox
        self.hasher = hasher
        self.clock = clock
        self.state = Mutex((SimulatorSettings(), SeededRandom(seed: seed)))
    }

    /// The current settings.
    public var settings: SimulatorSettings { state.withLock { $0.settings } }

    /// Changes the settings; returns them after the change.
    @discardableResult
    public func apply(_ change: SimulatorChange) -> SimulatorSettings {
        state.withLock { $0.settings.apply(change); return $0.settings }
    }

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        let (route, roll) = state.withLock { s in
            (s.settings.route(channel: message.channel.rawValue, operator: message.operator, country: message.country),
             Double.random(in: 0..<1, using: &s.rng))
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
        return ProviderAcceptance(
            providerMessageID: "sim-" + message.deliveryID, receipt: route.receipts ? .delivered : nil, receiptAt: now)
    }

    /// A stored message opened for display: text and code.
    public func open(_ message: OutboxMessage) -> (text: String, code: String?)? {
        guard let text = hasher.unsealText(message.sealedText, context: message.deliveryID) else { return nil }
        return (text, message.sealedCode.flatMap { hasher.unsealText($0, context: message.deliveryID + "|code") })
    }
}
