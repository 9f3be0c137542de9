import Foundation
import SandiCore
import SandiTesting
import Testing

/// Two providers and a manual clock: receipts and health-aware routing.
struct RoutingHarness {
    let store = MemoryStore()
    let clock = ManualClock()
    let primary = RecordingProvider(name: "route-a")
    let secondary = RecordingProvider(name: "route-b", channels: [.sms])
    let service: VerificationService
    let processor: DeliveryProcessor
    let registry: ProviderRegistry

    init(policy: BreakerPolicy = BreakerPolicy()) {
        let hasher = CodeHasher(keyring: Fixtures.keyring)
        registry = ProviderRegistry(routes: [
            ProviderRoute(provider: primary, priority: 0),
            ProviderRoute(provider: secondary, priority: 1, costByCountry: ["ID": 0.02], defaultCost: 0.05),
        ], breakers: BreakerBoard(policy: policy))
        service = VerificationService(store: store, hasher: hasher, clock: clock, providers: registry)
        processor = DeliveryProcessor(store: store, hasher: hasher, clock: clock, providers: registry)
    }

    func deliver() async throws {
        for _ in 0..<5 {
            let jobs = try await store.claimDue(now: clock.now, owner: "test", leaseSeconds: 30, limit: 100)
            if jobs.isEmpty { return }
            for job in jobs { try await processor.process(job, owner: "test") }
        }
    }

    func start(_ to: String = "+6281234567890", channel: String? = nil) async throws -> Verification {
        try await service.start(tenantID: "ten_a", StartRequest(to: to, purpose: "password_reset", channel: channel))
    }

    func read(_ id: String) async throws -> Verification { try await service.read(id: id, tenantID: "ten_a") }
}

@Suite("Orchestration: receipts and routing")
struct RoutingTests {
    @Test("a failed receipt falls back at once, without waiting for the step's timeout")
    func failedReceipt() async throws {
        let h = RoutingHarness()
        h.primary.answer(.whatsapp, with: .sent)
        let v = try await h.start()
        try await h.deliver()
        let whatsapp = try #require(try await h.read(v.id).deliveries.first)
        #expect(whatsapp.status == .sent)
        h.clock.advance(by: 3)
        let after = try await h.processor.receipt(deliveryID: whatsapp.id, status: .failed, at: h.clock.now, error: "131026")
        #expect(after?.status == .failed)
        try await h.deliver()
        let read = try await h.read(v.id)
        #expect(read.deliveries.map(\.channel) == [.whatsapp, .sms] && read.deliveries.last?.status == .delivered)
        let fallback = try await h.service.events(id: v.id, tenantID: "ten_a").first { $0.type == "delivery.fallback" }
        #expect(fallback?.data["reason"] == "receipt_failed", "\(String(describing: fallback?.data))")
        #expect(h.primary.sent.map(\.code) == h.primary.sent.map { _ in h.primary.sent[0].code }, "the same code")
    }

    @Test("an undeliverable receipt (e.g. not on WhatsApp) falls back at once and is remembered for the number")
    func undeliverableReceipt() async throws {
        let h = RoutingHarness()
        h.primary.answer(.whatsapp, with: .sent)
        let v = try await h.start()
        try await h.deliver()
        let whatsapp = try #require(try await h.read(v.id).deliveries.first)
        _ = try await h.processor.receipt(deliveryID: whatsapp.id, status: .undeliverable, at: h.clock.now, error: "131026 not on WhatsApp")
        try await h.deliver()
        #expect(try await h.read(v.id).deliveries.map(\.channel) == [.whatsapp, .sms])
        let fallback = try await h.service.events(id: v.id, tenantID: "ten_a").first { $0.type == "delivery.fallback" }
        #expect(fallback?.data["reason"] == "receipt_undeliverable")
        #expect(try await h.start().plan.steps.map(\.channel) == [.sms, .voice], "the next code skips WhatsApp")
    }

    @Test("receipts: late, early, twice, out of order; unknown deliveries change nothing; a late delivered stops the plan")
    func receiptOrder() async throws {
        let h = RoutingHarness()
        h.primary.answer(.whatsapp, with: .sent)
        h.primary.answer(.sms, with: .sent)
        let v = try await h.start()
        try await h.deliver()
        let whatsapp = try #require(try await h.read(v.id).deliveries.first)
        // Read before delivered (out of order): read implies delivered; the later "delivered" and a
        // duplicate "read" change nothing.
        h.clock.advance(by: 1)
        #expect(try await h.processor.receipt(deliveryID: whatsapp.id, status: .read, at: h.clock.now)?.status == .read)
        #expect(try await h.processor.receipt(deliveryID: whatsapp.id, status: .delivered, at: h.clock.now)?.status == .read)
        #expect(try await h.processor.receipt(deliveryID: whatsapp.id, status: .read, at: h.clock.now)?.status == .read)
        #expect(try await h.processor.receipt(deliveryID: whatsapp.id, status: .failed, at: h.clock.now)?.status == .read, "no failure after read")
        #expect(try await h.processor.receipt(deliveryID: "dlv_unknown", status: .delivered, at: h.clock.now) == nil)
        let types = try await h.service.events(id: v.id, tenantID: "ten_a").map(\.type)
        #expect(types.filter { $0 == "delivery.read" }.count == 1 && types.filter { $0 == "delivery.delivered" }.count == 1)
        // The timer fires at 40 s: the message reached the phone, so nothing more is sent.
        h.clock.advance(by: 40)
        try await h.deliver()
        #expect(try await h.read(v.id).deliveries.count == 1)

        // Another verification: no receipt in 40 s → SMS; then WhatsApp's receipt arrives late:
        // the plan stops there (no voice at 85 s).
        let w = try await h.start("+6281234567891")
        try await h.deliver()
        h.clock.advance(by: 40)
        try await h.deliver()
        let both = try await h.read(w.id).deliveries
        #expect(both.map(\.channel) == [.whatsapp, .sms])
        h.clock.advance(by: 5)
        _ = try await h.processor.receipt(deliveryID: both[0].id, status: .delivered, at: h.clock.now)
        h.clock.advance(by: 45)
        try await h.deliver()
        #expect(try await h.read(w.id).deliveries.count == 2, "a late delivered receipt stops the plan")
    }

    @Test("breaker: failures open it and new sends go to the next provider; after the open period one probe decides")
    func breaker() async throws {
        var policy = BreakerPolicy()
        policy.minSamples = 4
        policy.openSeconds = 30
        let h = RoutingHarness(policy: policy)
        h.primary.answer(.sms, with: .failed)
        var chosen: [String] = []
        for i in 0..<6 {
            let v = try await h.start("+62812345679\(i)0", channel: "sms")
            chosen.append(v.deliveries.first?.provider ?? "")
            try await h.deliver()
        }
        #expect(chosen == ["route-a", "route-a", "route-a", "route-a", "route-b", "route-b"], "\(chosen)")
        let snapshot = h.registry.breakers.snapshot(at: h.clock.now)
        #expect(snapshot.first { $0.provider == "route-a" }?.state == .open)
        #expect(snapshot.first { $0.provider == "route-a" }?.operator == "Telkomsel", "judged per operator")
        // Another operator's route through route-a is unaffected.
        #expect(try await h.start("+6285712345678", channel: "sms").deliveries.first?.provider == "route-a", "Indosat still goes to route-a")
        // Half-open after 30 s: one probe goes to route-a; it succeeds and closes the breaker.
        h.clock.advance(by: 30)
        h.primary.answer(.sms, with: .delivered)
        let probe = try await h.start("+6281234567960", channel: "sms")
        #expect(probe.deliveries.first?.provider == "route-a")
        #expect(try await h.start("+6281234567970", channel: "sms").deliveries.first?.provider == "route-b", "only one probe while half-open")
        try await h.deliver()
        #expect(h.registry.breakers.snapshot(at: h.clock.now).first { $0.provider == "route-a" && $0.operator == "Telkomsel" }?.state == .closed)
        #expect(try await h.start("+6281234567980", channel: "sms").deliveries.first?.provider == "route-a", "closed again")
    }

    @Test("breaker unit: slow receipts open it too; a failed probe opens it again")
    func breakerUnit() {
        var policy = BreakerPolicy()
        policy.minSamples = 3
        policy.maxMedianLatencySeconds = 10
        var b = CircuitBreaker()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let r1 = b.record(ok: true, latency: 20, at: t0, policy)
        let r2 = b.record(ok: true, latency: 25, at: t0, policy)
        let r3 = b.record(ok: true, latency: 30, at: t0, policy)
        #expect(r1 == nil && r2 == nil && r3 == .open, "median latency 25 s > 10 s")
        let whileOpen = b.allows(at: t0.addingTimeInterval(29), policy)
        #expect(!whileOpen)
        #expect(b.state(at: t0.addingTimeInterval(30), policy) == .halfOpen)
        let probe = b.allows(at: t0.addingTimeInterval(30), policy)
        let second = b.allows(at: t0.addingTimeInterval(31), policy)
        #expect(probe && !second, "one probe at a time")
        let failedProbe = b.record(ok: false, latency: nil, at: t0.addingTimeInterval(32), policy)
        #expect(failedProbe == .open)
        #expect(b.state(at: t0.addingTimeInterval(61), policy) == .open)
        #expect(b.state(at: t0.addingTimeInterval(62), policy) == .halfOpen)
        // Old outcomes leave the window.
        var c = CircuitBreaker()
        for i in 0..<2 { c.record(ok: false, latency: nil, at: t0.addingTimeInterval(Double(i)), policy) }
        let late = c.record(ok: false, latency: nil, at: t0.addingTimeInterval(500), policy)
        #expect(late == nil, "the first two are too old to count")
    }

    @Test("breaker unit: a busy route keeps only its most recent outcomes, and they decide")
    func breakerBounded() {
        var policy = BreakerPolicy()
        policy.maxSamples = 50
        policy.minSamples = 10
        var b = CircuitBreaker()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        // 10,000 good sends within one window: the breaker holds 50, not 10,000.
        for i in 0..<10_000 { b.record(ok: true, latency: 1, at: t0.addingTimeInterval(Double(i) / 1000), policy) }
        #expect(b.outcomes.count == 50)
        #expect(b.statistics(at: t0.addingTimeInterval(10), policy).failureRate == 0)
        // A burst of failures outweighs the old successes once it is a quarter of the recent 50.
        var opened: BreakerState?
        var failures = 0
        while opened == nil, failures < 50 {
            failures += 1
            opened = b.record(ok: false, latency: nil, at: t0.addingTimeInterval(11), policy)
        }
        #expect(opened == .open)
        #expect(failures == 13, "25 % of the 50 most recent: \(failures)")
    }

    @Test("routing: weights split traffic within a priority; countries restrict a route")
    func weights() {
        let a = RecordingProvider(name: "a", channels: [.sms]), b = RecordingProvider(name: "b", channels: [.sms])
        let local = RecordingProvider(name: "local-id", channels: [.sms])
        let registry = ProviderRegistry(routes: [
            ProviderRoute(provider: local, priority: 0, countries: ["ID"]),
            ProviderRoute(provider: a, priority: 1, weight: 3), ProviderRoute(provider: b, priority: 1, weight: 1),
        ])
        let now = Date()
        var counts: [String: Int] = [:]
        for i in 0..<4000 {
            let p = registry.choose(channel: .sms, country: "MY", operator: nil, key: "dlv_\(i)", now: now)
            counts[p?.name ?? "none", default: 0] += 1
        }
        #expect(counts["local-id"] == nil && (2800...3200).contains(counts["a"] ?? 0) && (800...1200).contains(counts["b"] ?? 0), "\(counts)")
        #expect(registry.choose(channel: .sms, country: "ID", operator: nil, key: "x", now: now)?.name == "local-id")
        #expect(registry.choose(channel: .sms, country: "MY", operator: nil, key: "k", now: now)?.name
                == registry.choose(channel: .sms, country: "MY", operator: nil, key: "k", now: now)?.name, "stable per key")
    }
}

@Suite("Orchestration: plan rules")
struct PlanRuleTests {
    @Test("rules by purpose, country and operator choose the plan; the channel that last worked goes first otherwise; forced and known-unusable still win")
    func rules() async throws {
        let h = Harness()
        try await h.service.routing.save(tenantID: "ten_a", RoutingSettings(rules: [
            PlanRule(name: "id-xl-sms-first", countries: ["ID"], operators: ["XL"], plan: "sms:30,voice"),
            PlanRule(name: "login-my", purposes: [.login], countries: ["MY"], plan: "whatsapp:20,voice"),
        ]), actor: "test")
        let xl = try await h.start("+6281712345678")
        #expect(xl.plan.steps.map(\.channel) == [.sms, .voice] && xl.plan.steps.first?.timeoutSeconds == 30, "XL numbers: SMS first")
        let created = try await h.service.events(id: xl.id, tenantID: "ten_a").first { $0.type == "verification.created" }
        #expect(created?.data["plan_reasons"] == .array(["rule:id-xl-sms-first"]))
        let telkomsel = try await h.start("+6281234567890")
        #expect(telkomsel.plan.steps.map(\.channel) == [.whatsapp, .sms, .voice], "other operators: the default plan")
        let myLogin = try await h.start("+60123456789", purpose: "login")
        #expect(myLogin.plan.steps.map(\.channel) == [.whatsapp, .voice])
        let myReset = try await h.start("+60123456789")
        #expect(myReset.plan.steps.map(\.channel) == [.whatsapp, .sms, .voice], "the MY rule is for logins only")
        #expect(try await h.start("+6281712345678", channel: "voice").plan.steps.map(\.channel) == [.voice], "a forced channel starts the rule's plan there")

        // Last worked: WhatsApp fails for this number, SMS delivers; the next start goes SMS first.
        h.provider.answer(.whatsapp, with: .failed)
        let first = try await h.start("+6281234567001")
        try await h.deliver()
        try await h.deliver()
        #expect(try await h.service.read(id: first.id, tenantID: "ten_a").deliveries.map(\.status) == [.failed, .delivered])
        h.provider.answer(.whatsapp, with: .delivered)
        let next = try await h.start("+6281234567001")
        #expect(next.plan.steps.map(\.channel) == [.sms, .whatsapp, .voice] && next.channel == .sms)
        let reasons = try await h.service.events(id: next.id, tenantID: "ten_a").first { $0.type == "verification.created" }?.data["plan_reasons"]
        #expect(reasons == .array(["last_worked:sms"]))
        #expect(try await h.start("+6281234567001", channel: "whatsapp").channel == .whatsapp, "forced wins over last worked")
        // Turned off, the default plan again.
        try await h.service.routing.save(tenantID: "ten_a", RoutingSettings(preferLastWorked: false), actor: "test")
        #expect(try await h.start("+6281234567001").channel == .whatsapp)
    }

    @Test("plan text: parsed strictly")
    func parsing() {
        #expect(DeliveryPlan(parsing: "whatsapp:40,sms:45,voice") == .standard)
        #expect(DeliveryPlan(parsing: "sms") == DeliveryPlan(steps: [PlanStep(channel: .sms)]))
        for bad in ["", "sms:0,voice", "sms,voice", "sms:30,sms", "fax:10,sms", "sms:601,voice", "sms:x,voice"] {
            #expect(DeliveryPlan(parsing: bad) == nil, "\(bad)")
        }
        #expect(RoutingSettings(rules: [PlanRule(plan: "nope")]).problems.map(\.field) == ["rules[0].plan"])
    }
}
