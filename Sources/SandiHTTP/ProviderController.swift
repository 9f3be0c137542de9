import Foundation
public import Hummingbird
public import SandiCore

/// `GET /v1/providers`: every provider route with its live health per operator (circuit breakers).
public struct ProviderController: Sendable {
    public let providers: ProviderRegistry
    public let clock: any TimeSource

    public init(providers: ProviderRegistry, clock: any TimeSource) {
        self.providers = providers
        self.clock = clock
    }

    public func register(on group: RouterGroup<TenantContext>) {
        group.get("providers", use: list)
    }

    @Sendable func list(_ request: Request, context: TenantContext) async throws -> Response {
        let now = clock.now
        let snapshot = providers.breakers.snapshot(at: now)
        var byName: [String: (route: ProviderRoute, channels: Set<Channel>)] = [:]
        for (channel, routes) in providers.routes {
            for route in routes { byName[route.provider.name, default: (route, [])].channels.insert(channel) }
        }
        let list: [JSONValue] = byName.keys.sorted().compactMap { name in
            guard let entry = byName[name] else { return nil }
            let breakers: [JSONValue] = snapshot.filter { $0.provider == name }.map { b in
                .object([
                    "channel": .string(b.channel.rawValue), "operator": .string(b.operator), "state": .string(b.state.rawValue),
                    "samples": .number(Double(b.statistics.samples)), "failure_rate": .number((b.statistics.failureRate * 1000).rounded() / 1000),
                    "median_latency_s": b.statistics.medianLatency.map { .number(($0 * 1000).rounded() / 1000) } ?? .null,
                    "opened_at": b.openedAt.map { .string(Timestamp.format($0)) } ?? .null,
                ])
            }
            return .object([
                "name": .string(name), "channels": .array(entry.channels.map(\.rawValue).sorted().map(JSONValue.string)),
                "priority": .number(Double(entry.route.priority)), "weight": .number(Double(entry.route.weight)),
                "countries": entry.route.countries.map { .array($0.sorted().map(JSONValue.string)) } ?? .null,
                "breakers": .array(breakers),
            ])
        }
        return try JSONResponse.make(.ok, ["providers": JSONValue.array(list)])
    }
}
