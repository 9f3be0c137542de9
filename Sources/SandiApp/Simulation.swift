import Foundation
import Logging
import SandiCore
import SandiProviders
import SandiTesting
import SandiWorkers

/// `sandi simulate`: a peak-evening scenario run in-process on a virtual clock, through the real
/// engine (service, processor, worker, breakers, receipts) over the in-memory store, against a
/// single-route SMS-only baseline in the same run.
public struct Simulation: Sendable {
    public struct Options: Sendable {
        public var verifications = 100_000
        public var durationSeconds = 3600
        /// WhatsApp is down from `outageStart` for `outageSeconds`.
        public var outageStart = 1500
        public var outageSeconds = 600
        /// The primary SMS route is degraded from `degradedStart` for `degradedSeconds`.
        public var degradedStart = 1200
        public var degradedSeconds = 1800
        public var seed: UInt64 = 2026

        public init() {}
    }

    /// One run's figures, named as in the contract's `--json` report.
    public struct Figures: Sendable, Codable, Equatable {
        public struct Percentiles: Sendable, Codable, Equatable {
            public var p50: Double
            public var p95: Double
            public var p99: Double
        }
        public var verifications: Int
        /// Share whose code reached the phone (a delivered or read receipt) before it expired.
        public var deliveredRatio: Double
        /// Share delivered within 90 s of the start.
        public var deliveredWithin90sRatio: Double
        /// Start to first delivery receipt, over the delivered ones.
        public var timeToDeliveryS: Percentiles
        /// Share that needed more than their first step.
        public var fallbackRatio: Double
        /// Per move between channels (`whatsapp->sms`, …): share of verifications that made it.
        public var fallbackByStep: [String: Double]
        public var sendsPerVerification: Double
        /// Everything providers accepted, billed at the route's price, divided by delivered codes.
        public var costPerSuccess: Double

        enum CodingKeys: String, CodingKey {
            case verifications, deliveredRatio = "delivered_ratio", deliveredWithin90sRatio = "delivered_within_90s_ratio"
            case timeToDeliveryS = "time_to_delivery_s", fallbackRatio = "fallback_ratio", fallbackByStep = "fallback_by_step"
            case sendsPerVerification = "sends_per_verification", costPerSuccess = "cost_per_success"
        }
    }

    public struct Report: Sendable, Codable, Equatable {
        public var figures: Figures
        public var baseline: Figures
        public var scenario: [String: String]

        public func encode(to encoder: any Encoder) throws {
            try figures.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(baseline, forKey: .baseline)
            try c.encode(scenario, forKey: .scenario)
        }

        public init(from decoder: any Decoder) throws {
            figures = try Figures(from: decoder)
            let c = try decoder.container(keyedBy: Key.self)
            baseline = try c.decode(Figures.self, forKey: .baseline)
            scenario = try c.decode([String: String].self, forKey: .scenario)
        }

        init(figures: Figures, baseline: Figures, scenario: [String: String]) {
            self.figures = figures
            self.baseline = baseline
            self.scenario = scenario
        }

        enum Key: String, CodingKey { case baseline, scenario }
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// Illustrative prices per accepted message (USD).
    static let prices: [String: Double] = ["wa": 0.03, "sms-a": 0.08, "sms-b": 0.10, "voice": 0.15]

    public func run() async throws -> Report {
        let arrivals = Self.arrivals(count: options.verifications, seconds: options.durationSeconds, seed: options.seed)
        let orchestrated = try await run(arrivals: arrivals, baseline: false)
        let baseline = try await run(arrivals: arrivals, baseline: true)
        return Report(figures: orchestrated, baseline: baseline, scenario: [
            "verifications": String(options.verifications), "duration_s": String(options.durationSeconds),
            "whatsapp_outage": "\(options.outageStart)–\(options.outageStart + options.outageSeconds) s",
            "sms_route_degraded": "sms-a \(options.degradedStart)–\(options.degradedStart + options.degradedSeconds) s: 40 % failed receipts, 25 s median receipt delay",
            "plan": "whatsapp (40 s) → sms (45 s, routes sms-a then sms-b) → voice", "baseline": "sms only, one route (sms-a)",
            "seed": String(options.seed),
        ])
    }

    /// Start times (seconds) and destinations: a peak in the middle of the window.
    static func arrivals(count: Int, seconds: Int, seed: UInt64) -> [(at: Double, to: String)] {
        var rng = SeededRandom(seed: seed)
        let prefixes = ["812", "813", "821", "852", "856", "857", "815", "817", "818", "878", "895", "896", "881"]
        return (0..<count).map { i in
            let u = (Double.random(in: 0..<1, using: &rng) + Double.random(in: 0..<1, using: &rng)) / 2
            let prefix = prefixes[Int.random(in: 0..<prefixes.count, using: &rng)]
            return (u * Double(seconds), "+62" + prefix + String(format: "%08d", (i * 7919 + 13) % 100_000_000))
        }.sorted { $0.at < $1.at }
    }

    private func run(arrivals: [(at: Double, to: String)], baseline: Bool) async throws -> Figures {
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let clock = ManualClock(start)
        let store = MemoryStore()
        let keyring = Keyring(current: Keyring.Key(id: "sim", secret: .init(size: .bits256)))
        let hasher = CodeHasher(keyring: keyring)
        func simulator(_ name: String, _ channels: Set<Channel>, _ route: SimulatedRoute, salt: UInt64) -> SimulatorProvider {
            let sim = SimulatorProvider(name: name, channels: channels, outbox: store, hasher: hasher, clock: clock, seed: options.seed &+ salt)
            for channel in channels {
                sim.apply(SimulatorChange(channel: channel.rawValue, receipts: true, receiptDelayMs: route.receiptDelayMs, receiptFailureRate: route.receiptFailureRate))
            }
            return sim
        }
        let wa = simulator("wa", [.whatsapp], SimulatedRoute(receiptDelayMs: 2500, receiptFailureRate: 0.01), salt: 1)
        // About 3 % of numbers are not on WhatsApp.
        wa.apply(SimulatorChange(channel: "whatsapp", unreachableNumbers: arrivals.enumerated().filter { $0.offset % 33 == 7 }.map(\.element.to)))
        let smsA = simulator("sms-a", [.sms], SimulatedRoute(receiptDelayMs: 6000, receiptFailureRate: 0.02), salt: 2)
        let smsB = simulator("sms-b", [.sms], SimulatedRoute(receiptDelayMs: 5000, receiptFailureRate: 0.01), salt: 3)
        let voice = simulator("voice", [.voice], SimulatedRoute(receiptDelayMs: 20_000, receiptFailureRate: 0.03), salt: 4)
        let sims = baseline ? [smsA] : [wa, smsA, smsB, voice]
        let routes = baseline ? [ProviderRoute(provider: smsA, defaultCost: Self.prices["sms-a"] ?? 0)] : [
            ProviderRoute(provider: wa, defaultCost: Self.prices["wa"] ?? 0),
            ProviderRoute(provider: smsA, priority: 0, defaultCost: Self.prices["sms-a"] ?? 0),
            ProviderRoute(provider: smsB, priority: 1, defaultCost: Self.prices["sms-b"] ?? 0),
            ProviderRoute(provider: voice, defaultCost: Self.prices["voice"] ?? 0),
        ]
        let registry = ProviderRegistry(routes: routes)
        let plan = baseline ? DeliveryPlan(steps: [PlanStep(channel: .sms)]) : DeliveryPlan.standard
        // The scenario is about delivery: no limits, pumping guard recording only.
        let risk = RiskSettingsCache(store: store, defaults: RiskSettings(limits: [], pumping: PumpingPolicy(mode: .record)), clock: clock, ttlSeconds: 1e9)
        let service = VerificationService(store: store, hasher: hasher, clock: clock, providers: registry,
                                          options: VerificationOptions(plan: plan), riskSettings: risk)
        let processor = DeliveryProcessor(store: store, hasher: hasher, clock: clock, providers: registry)
        let worker = DeliveryWorker(processor: processor, doorbell: Doorbell(), options: DeliveryWorkerOptions(batchSize: 512, concurrency: 1),
                                    owner: "sim", receiptSources: sims, logger: Logger(label: "sandi.simulate"))

        var next = 0
        let end = options.durationSeconds + 400
        for second in 0...end {
            let now = start.addingTimeInterval(Double(second))
            clock.set(now)
            if !baseline, second == options.outageStart { wa.apply(SimulatorChange(channel: "whatsapp", outage: true)) }
            if !baseline, second == options.outageStart + options.outageSeconds { wa.apply(SimulatorChange(channel: "whatsapp", outage: false)) }
            if second == options.degradedStart { smsA.apply(SimulatorChange(channel: "sms", receiptDelayMs: 25_000, receiptFailureRate: 0.4)) }
            if second == options.degradedStart + options.degradedSeconds { smsA.apply(SimulatorChange(channel: "sms", receiptDelayMs: 6000, receiptFailureRate: 0.02)) }
            while next < arrivals.count, arrivals[next].at < Double(second + 1) {
                clock.set(start.addingTimeInterval(arrivals[next].at))
                _ = try await service.start(tenantID: "ten_sim", StartRequest(to: arrivals[next].to, purpose: "password_reset"))
                next += 1
            }
            clock.set(now.addingTimeInterval(0.999))
            var rounds = 0
            while try await worker.runOnce() > 0, rounds < 20 { rounds += 1 }
            if second % 10 == 0 { _ = try await store.expireDue(now: clock.now, limit: 100_000) }
        }
        return Self.figures(await store.allVerifications(), registry: registry)
    }

    static func figures(_ all: [Verification], registry: ProviderRegistry) -> Figures {
        var times: [Double] = []
        var within90 = 0, fallbacks = 0, sends = 0
        var steps: [String: Int] = [:]
        var cost = 0.0
        for v in all {
            let ordered = v.deliveries.sorted { $0.queuedAt < $1.queuedAt }
            if let first = ordered.compactMap(\.deliveredAt).min(), first <= v.expiresAt {
                let t = first.timeIntervalSince(v.createdAt)
                times.append(t)
                if t <= 90 { within90 += 1 }
            }
            let sent = ordered.filter { $0.status != .queued && $0.status != .canceled }
            sends += sent.count
            if ordered.count > 1 { fallbacks += 1 }
            for (a, b) in zip(ordered, ordered.dropFirst()) where a.channel != b.channel {
                steps["\(a.channel.rawValue)->\(b.channel.rawValue)", default: 0] += 1
            }
            for d in sent where d.providerMessageID != nil {
                cost += registry.route(named: d.provider, for: d.channel)?.cost(country: v.country) ?? 0
            }
        }
        times.sort()
        let n = Double(max(1, all.count))
        func percentile(_ p: Double) -> Double {
            guard !times.isEmpty else { return 0 }
            return (times[min(times.count - 1, Int((Double(times.count) * p).rounded(.up)) - 1)] * 10).rounded() / 10
        }
        func ratio(_ x: Int) -> Double { (Double(x) / n * 10_000).rounded() / 10_000 }
        return Figures(
            verifications: all.count, deliveredRatio: ratio(times.count), deliveredWithin90sRatio: ratio(within90),
            timeToDeliveryS: .init(p50: percentile(0.5), p95: percentile(0.95), p99: percentile(0.99)),
            fallbackRatio: ratio(fallbacks), fallbackByStep: steps.mapValues(ratio),
            sendsPerVerification: (Double(sends) / n * 1000).rounded() / 1000,
            costPerSuccess: times.isEmpty ? 0 : (cost / Double(times.count) * 10_000).rounded() / 10_000)
    }
}

/// The human-readable form of a simulation report.
public enum SimulationText {
    public static func render(_ report: Simulation.Report) -> String {
        func pct(_ x: Double) -> String { String(format: "%.2f %%", x * 100) }
        func row(_ name: String, _ a: String, _ b: String) -> String {
            name.padding(toLength: 34, withPad: " ", startingAt: 0) + a.padding(toLength: 24, withPad: " ", startingAt: 0) + b
        }
        let f = report.figures, b = report.baseline
        var lines = ["Scenario:"]
        for key in report.scenario.keys.sorted() { lines.append("  \(key): \(report.scenario[key] ?? "")") }
        lines.append("")
        lines.append(row("", "Sandi", "SMS-only baseline"))
        lines.append(row("verifications", "\(f.verifications)", "\(b.verifications)"))
        lines.append(row("code delivered", pct(f.deliveredRatio), pct(b.deliveredRatio)))
        lines.append(row("delivered within 90 s", pct(f.deliveredWithin90sRatio), pct(b.deliveredWithin90sRatio)))
        lines.append(row("time to delivery p50 / p95 / p99", "\(f.timeToDeliveryS.p50) / \(f.timeToDeliveryS.p95) / \(f.timeToDeliveryS.p99) s",
                         "\(b.timeToDeliveryS.p50) / \(b.timeToDeliveryS.p95) / \(b.timeToDeliveryS.p99) s"))
        lines.append(row("fallback rate", pct(f.fallbackRatio), pct(b.fallbackRatio)))
        for step in f.fallbackByStep.keys.sorted() { lines.append(row("  " + step, pct(f.fallbackByStep[step] ?? 0), "")) }
        lines.append(row("sends per verification", String(format: "%.3f", f.sendsPerVerification), String(format: "%.3f", b.sendsPerVerification)))
        lines.append(row("cost per delivered code (USD)", String(format: "%.4f", f.costPerSuccess), String(format: "%.4f", b.costPerSuccess)))
        return lines.joined(separator: "\n")
    }
}
