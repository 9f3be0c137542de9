/// The channel providers in use, in priority order per channel.
public struct ProviderRegistry: Sendable {
    private let byChannel: [Channel: [any ChannelProvider]]

    public init(_ providers: [any ChannelProvider]) {
        var map: [Channel: [any ChannelProvider]] = [:]
        for provider in providers {
            for channel in Channel.allCases where provider.channels.contains(channel) {
                map[channel, default: []].append(provider)
            }
        }
        self.byChannel = map
    }

    /// Channels that have at least one provider.
    public var availableChannels: Set<Channel> { Set(byChannel.keys) }

    /// The preferred provider for a channel.
    public func provider(for channel: Channel) -> (any ChannelProvider)? { byChannel[channel]?.first }

    /// A provider by name for a channel (falls back to the preferred one when gone).
    public func provider(named name: String, for channel: Channel) -> (any ChannelProvider)? {
        byChannel[channel]?.first { $0.name == name } ?? provider(for: channel)
    }
}
