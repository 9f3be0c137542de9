public import Foundation

/// One provider's place in routing: its priority (lower first), its weight among providers of the
/// same priority, the countries it serves (nil: all) and what a message costs per country.
public struct ProviderRoute: Sendable {
    public var provider: any ChannelProvider
    public var priority: Int
    public var weight: Int
    public var countries: Set<String>?
    public var costByCountry: [String: Double]
    public var defaultCost: Double

    public init(provider: any ChannelProvider, priority: Int = 0, weight: Int = 1, countries: Set<String>? = nil,
                costByCountry: [String: Double] = [:], defaultCost: Double = 0) {
        self.provider = provider
        self.priority = priority
        self.weight = max(0, weight)
        self.countries = countries
        self.costByCountry = costByCountry
        self.defaultCost = defaultCost
    }

    public func cost(country: String?) -> Double { country.flatMap { costByCountry[$0] } ?? defaultCost }
}

/// The channel providers in use and how a send picks one: by country, priority, weight and the
/// live health of each provider towards the destination's operator (circuit breakers).
public struct ProviderRegistry: Sendable {
    private let byChannel: [Channel: [ProviderRoute]]
    /// Health of every provider and operator, fed by send outcomes and receipts.
    public let breakers: BreakerBoard

    /// Providers in priority order, all countries, no costs.
    public init(_ providers: [any ChannelProvider], breakers: BreakerBoard = BreakerBoard()) {
        self.init(routes: providers.enumerated().map { ProviderRoute(provider: $1, priority: $0) }, breakers: breakers)
    }

    public init(routes: [ProviderRoute], breakers: BreakerBoard = BreakerBoard()) {
        var map: [Channel: [ProviderRoute]] = [:]
        for route in routes {
            for channel in Channel.allCases where route.provider.channels.contains(channel) {
                map[channel, default: []].append(route)
            }
        }
        self.byChannel = map.mapValues { $0.sorted { $0.priority < $1.priority } }
        self.breakers = breakers
    }

    /// Channels that have at least one provider.
    public var availableChannels: Set<Channel> { Set(byChannel.keys) }

    /// Every route, by channel (for the health API).
    public var routes: [Channel: [ProviderRoute]] { byChannel }

    /// The preferred provider for a channel (no health, no country).
    public func provider(for channel: Channel) -> (any ChannelProvider)? { byChannel[channel]?.first?.provider }

    /// A provider by name for a channel (falls back to the preferred one when gone).
    public func provider(named name: String, for channel: Channel) -> (any ChannelProvider)? {
        byChannel[channel]?.first { $0.provider.name == name }?.provider ?? provider(for: channel)
    }

    /// The route a provider has on a channel.
    public func route(named name: String, for channel: Channel) -> ProviderRoute? {
        byChannel[channel]?.first { $0.provider.name == name }
    }

    /// The provider for a new send: among the routes that serve the country, by priority; within a
    /// priority, a weighted pick (stable for `key`, so one delivery always gets the same answer);
    /// a provider whose breaker for the operator is open is passed over (a half-open one gets one
    /// probe). When every route is unhealthy, the preferred one is used rather than sending nothing.
    public func choose(channel: Channel, country: String?, operator: String?, key: String, now: Date) -> (any ChannelProvider)? {
        let serving = (byChannel[channel] ?? []).filter { route in country.map { c in route.countries.map { $0.contains(c) } ?? true } ?? true }
        guard !serving.isEmpty else { return nil }
        var seed = StableHash.fnv1a(key)
        for priority in Array(Set(serving.map(\.priority))).sorted() {
            var group = serving.filter { $0.priority == priority }
            while !group.isEmpty {
                let total = group.reduce(0) { $0 + max(1, $1.weight) }
                var pick = Int(seed % UInt64(total))
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let index = group.firstIndex { route in
                    pick -= max(1, route.weight)
                    return pick < 0
                } ?? 0
                let route = group.remove(at: index)
                if breakers.allows(provider: route.provider.name, channel: channel, operator: `operator`, at: now) { return route.provider }
            }
        }
        return serving.first?.provider
    }

}

/// A hash that is the same in every process and run (Swift's `hashValue` is seeded per run):
/// for stable weighted picks and seeded simulations, never for security.
public enum StableHash {
    /// FNV-1a, 64 bits.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
