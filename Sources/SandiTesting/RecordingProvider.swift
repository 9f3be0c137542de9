public import SandiCore
import Synchronization

/// A provider fake with behaviour: it records what it was asked to send and answers per channel
/// as told (accept with or without a receipt, fail, undeliverable, transient).
public final class RecordingProvider: ChannelProvider {
    public enum Answer: Sendable {
        case delivered, sent, failed, undeliverable, transient
    }

    public let name: String
    public let channels: Set<Channel>
    private let state: Mutex<(answers: [Channel: Answer], sent: [OutboundMessage], onSend: (@Sendable () -> Void)?)>

    public init(name: String = "recording", channels: Set<Channel> = Set(Channel.allCases)) {
        self.name = name
        self.channels = channels
        self.state = Mutex(([:], [], nil))
    }

    /// Runs `action` at every send (e.g. moves a manual clock on: a slow provider).
    public func whenSending(_ action: @escaping @Sendable () -> Void) {
        state.withLock { $0.onSend = action }
    }

    /// Sets the answer for a channel (default: delivered).
    public func answer(_ channel: Channel, with answer: Answer) {
        state.withLock { $0.answers[channel] = answer }
    }

    /// Everything sent so far, oldest first.
    public var sent: [OutboundMessage] { state.withLock { $0.sent } }

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        state.withLock { $0.onSend }?()
        let answer = state.withLock { s -> Answer in
            let answer = s.answers[message.channel] ?? .delivered
            if answer == .delivered || answer == .sent { s.sent.append(message) }
            return answer
        }
        switch answer {
        case .delivered: return ProviderAcceptance(providerMessageID: "rec-" + message.deliveryID, receipt: .delivered)
        case .sent: return ProviderAcceptance(providerMessageID: "rec-" + message.deliveryID)
        case .failed: throw .failed("refused by fake")
        case .undeliverable: throw .undeliverable("not on this channel")
        case .transient: throw .transient("try later")
        }
    }
}
