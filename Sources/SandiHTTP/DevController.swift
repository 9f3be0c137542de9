import Foundation
public import Hummingbird
public import SandiCore
public import SandiProviders

/// The simulator's endpoints (`/v1/dev/…`), present only while the simulator is on.
public struct DevController: Sendable {
    public let simulator: SimulatorProvider
    public let store: any OutboxStore
    public let parser: PhoneNumberParser

    public let idempotency: IdempotencyGuard

    public init(simulator: SimulatorProvider, store: any OutboxStore, parser: PhoneNumberParser = PhoneNumberParser(), idempotency: IdempotencyGuard) {
        self.simulator = simulator
        self.store = store
        self.parser = parser
        self.idempotency = idempotency
    }

    public func register(on group: RouterGroup<TenantContext>) {
        group.get("dev/outbox", use: outbox)
        group.post("dev/simulator", use: configure)
        group.get("dev/simulator", use: settings)
    }

    @Sendable func outbox(_ request: Request, context: TenantContext) async throws -> Response {
        var to: String?
        if let raw = request.uri.queryParameters.get("to") {
            do {
                to = try parser.parse(raw).e164
            } catch {
                throw APIProblem(VerificationError.invalidPhoneNumber(error.explanation))
            }
        }
        var limit = 50
        if let raw = request.uri.queryParameters.get("limit") {
            guard let value = Int(raw), (1...500).contains(value) else {
                throw APIProblem.invalid("limit must be 1–500", errors: [FieldError(field: "limit", reason: "must be 1–500")])
            }
            limit = value
        }
        let messages = try await store.outbox(tenantID: context.tenant.id, to: to, limit: limit)
        let rendered: [JSONValue] = messages.compactMap { message in
            guard let opened = simulator.open(message) else { return nil }
            return .object([
                "delivery_id": .string(message.deliveryID), "channel": .string(message.channel.rawValue),
                "to": .string(message.to), "text": .string(opened.text), "code": opened.code.map(JSONValue.string) ?? .null,
                "sent_at": .string(Timestamp.format(message.sentAt)),
            ])
        }
        return try JSONResponse.make(.ok, ["messages": JSONValue.array(rendered)])
    }

    @Sendable func configure(_ request: Request, context: TenantContext) async throws -> Response {
        try await idempotency.runParsed(request, tenantID: context.tenant.id) { body in
            let channel = body.string("channel", maxLength: 16, pattern: { Channel(rawValue: $0) != nil }, reason: "must be whatsapp, sms or voice")
            let op = body.string("operator", maxLength: 64)
            let country = body.string("country", maxLength: 2, pattern: InputRules.isCountry, reason: "must be an ISO 3166-1 alpha-2 code")
            var unreachable: [String]?
            switch body.fields["unreachable_numbers"] {
            case nil, .null?: break
            case .array(let items)? where items.count <= 100:
                unreachable = []
                for item in items {
                    guard let text = item.stringValue, let number = try? parser.parse(text) else {
                        body.fail("unreachable_numbers", "must be E.164 numbers")
                        break
                    }
                    unreachable?.append(number.e164)
                }
            default:
                body.fail("unreachable_numbers", "must be a list of at most 100 E.164 numbers")
            }
            let change = SimulatorChange(
                channel: channel, operator: op, country: country, latencyMs: body.int("latency_ms", in: 0...60_000),
                failureRate: body.double("failure_rate", in: 0...1), outage: body.bool("outage"), receipts: body.bool("receipts"),
                receiptDelayMs: body.int("receipt_delay_ms", in: 0...600_000), receiptFailureRate: body.double("receipt_failure_rate", in: 0...1),
                unreachableNumbers: unreachable)
            try body.validate()
            return try JSONResponse.make(.ok, SettingsBody(settings: simulator.apply(change)))
        }
    }

    @Sendable func settings(_ request: Request, context: TenantContext) async throws -> Response {
        try JSONResponse.make(.ok, SettingsBody(settings: simulator.settings))
    }
}

struct SettingsBody: Encodable {
    let settings: SimulatorSettings
    enum Key: String, CodingKey { case channels, overrides }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(settings.channels, forKey: .channels)
        let overrides: [[String: JSONValue]] = settings.overrides.keys.sorted().compactMap { key in
            guard let route = settings.overrides[key] else { return nil }
            let parts = key.split(separator: "|", maxSplits: 1)
            let scope = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1) : []
            guard parts.count == 2, scope.count == 2 else { return nil }
            return [
                "channel": .string(String(parts[0])), String(scope[0]): .string(String(scope[1])),
                "latency_ms": .number(Double(route.latencyMs)), "failure_rate": .number(route.failureRate),
                "outage": .bool(route.outage), "receipts": .bool(route.receipts),
                "receipt_delay_ms": .number(Double(route.receiptDelayMs)), "receipt_failure_rate": .number(route.receiptFailureRate),
            ]
        }
        try c.encode(overrides, forKey: .overrides)
    }
}
