import Foundation
import SandiCore
import SandiTesting
import Testing

/// The verification service and the delivery processor over the in-memory store, a manual clock
/// and a recording provider: every rule of the engine, no sleeping.
struct Harness {
    let store = MemoryStore()
    let clock = ManualClock()
    let provider = RecordingProvider()
    let service: VerificationService
    let processor: DeliveryProcessor

    init(options: VerificationOptions = VerificationOptions()) {
        let hasher = CodeHasher(keyring: Fixtures.keyring)
        let registry = ProviderRegistry([provider])
        service = VerificationService(store: store, hasher: hasher, clock: clock, providers: registry, options: options)
        processor = DeliveryProcessor(store: store, hasher: hasher, clock: clock, providers: registry)
    }

    /// Runs every due job once.
    func deliver() async throws {
        for job in try await store.claimDue(now: clock.now, owner: "test", leaseSeconds: 30, limit: 100) {
            try await processor.process(job, owner: "test")
        }
    }

    func start(_ to: String = "+6281234567890", purpose: String = "password_reset", channel: String? = nil) async throws -> Verification {
        try await service.start(tenantID: "ten_a", StartRequest(to: to, purpose: purpose, userRef: "u-1", channel: channel))
    }

    /// The code the provider delivered for a verification.
    func code(for id: String) -> String? { provider.sent.last { $0.verificationID == id }?.code }
}

@Suite("Verification engine")
struct ServiceTests {
    @Test("start → deliver → check → grant → redeem once")
    func happyPath() async throws {
        let h = Harness()
        let v = try await h.start()
        #expect(v.status == .pending && v.channel == .whatsapp && v.sendsRemaining == 4 && v.attemptsRemaining == 5)
        #expect(v.expiresAt == h.clock.now.addingTimeInterval(300), "password_reset lives 300 s")
        try await h.deliver()
        let code = try #require(h.code(for: v.id))
        #expect(h.provider.sent.first?.text.contains(code) == true)
        let result = try await h.service.check(id: v.id, tenantID: "ten_a", code: code)
        #expect(result.valid && result.status == .approved)
        let grant = try #require(result.grant)
        #expect(grant.expiresAt == h.clock.now.addingTimeInterval(600), "grants live 10 min")
        let redeemed = try await h.service.redeem(token: grant.token, tenantID: "ten_a")
        #expect(redeemed.verificationID == v.id && redeemed.userRef == "u-1")
        await #expect(throws: VerificationError.grantAlreadyRedeemed) { try await h.service.redeem(token: grant.token, tenantID: "ten_a") }
        await #expect(throws: VerificationError.grantNotFound) { try await h.service.redeem(token: grant.token, tenantID: "ten_b") }
        let again = try await h.service.check(id: v.id, tenantID: "ten_a", code: code)
        #expect(!again.valid && again.status == .approved, "approval is once only")
    }

    @Test("events carry the number masked and as a keyed hash for grouping: the same number, the same hash; never the number")
    func numberHash() async throws {
        let h = Harness()
        let a = try await h.start("+6281234567890")
        let b = try await h.start("+6281234567890", purpose: "login")
        let c = try await h.start("+6281298765432")
        func created(_ v: Verification) async throws -> [String: JSONValue] {
            try await h.store.events(verificationID: v.id, tenantID: "ten_a").first { $0.type == "verification.created" }?.data ?? [:]
        }
        let (ea, eb, ec) = (try await created(a), try await created(b), try await created(c))
        #expect(ea["to"] == "+62*********890" || ea["to"]?.stringValue?.hasSuffix("890") == true)
        #expect(ea["to_hash"] != nil && ea["to_hash"] == eb["to_hash"] && ea["to_hash"] != ec["to_hash"])
        let text = String(decoding: try JSONEncoder().encode(JSONValue.object(ea)), as: UTF8.self)
        #expect(!text.contains("81234567890"), "no full number: \(text)")
    }

    @Test("login approvals hand out no grant; login codes live 180 s")
    func loginNoGrant() async throws {
        let h = Harness()
        let v = try await h.start(purpose: "login")
        #expect(v.expiresAt == h.clock.now.addingTimeInterval(180))
        try await h.deliver()
        let result = try await h.service.check(id: v.id, tenantID: "ten_a", code: try #require(h.code(for: v.id)))
        #expect(result.valid && result.grant == nil)
    }

    @Test("expiry with the injected clock: the right code is refused after the TTL")
    func expiry() async throws {
        let h = Harness()
        let v = try await h.start(purpose: "login")
        try await h.deliver()
        let code = try #require(h.code(for: v.id))
        h.clock.advance(by: 179)
        #expect(try await h.service.read(id: v.id, tenantID: "ten_a").status == .pending)
        h.clock.advance(by: 1)
        let result = try await h.service.check(id: v.id, tenantID: "ten_a", code: code)
        #expect(!result.valid && result.status == .expired)
        #expect(try await h.service.read(id: v.id, tenantID: "ten_a").status == .expired)
    }

    @Test("five wrong codes lock the verification; then even the right code is refused")
    func lockout() async throws {
        let h = Harness()
        let v = try await h.start()
        try await h.deliver()
        let code = try #require(h.code(for: v.id))
        let wrong = code == "000000" ? "111111" : "000000"
        for remaining in stride(from: 4, through: 0, by: -1) {
            let r = try await h.service.check(id: v.id, tenantID: "ten_a", code: wrong)
            #expect(!r.valid && r.attemptsRemaining == remaining)
        }
        let r = try await h.service.check(id: v.id, tenantID: "ten_a", code: code)
        #expect(!r.valid && r.status == .locked)
        let junk = try await h.service.check(id: v.id, tenantID: "ten_a", code: "not-a-code")
        #expect(!junk.valid && junk.status == .locked)
    }

    @Test("codes are purpose-bound: a login code does not check a password reset")
    func purposeIsolation() async throws {
        let h = Harness()
        let reset = try await h.start(purpose: "password_reset")
        let login = try await h.start(purpose: "login")
        try await h.deliver()
        let loginCode = try #require(h.code(for: login.id))
        let resetCode = try #require(h.code(for: reset.id))
        if loginCode != resetCode {
            let r = try await h.service.check(tenantID: "ten_a", to: "+6281234567890", country: nil, purpose: "password_reset", code: loginCode)
            #expect(!r.valid)
        }
        let ok = try await h.service.check(tenantID: "ten_a", to: "081234567890", country: "ID", purpose: "login", code: loginCode)
        #expect(ok.valid && ok.verificationID == login.id)
    }

    @Test("a new verification supersedes the old one: one live code per destination and purpose")
    func supersession() async throws {
        let h = Harness()
        let first = try await h.start()
        let second = try await h.start()
        #expect(try await h.service.read(id: first.id, tenantID: "ten_a").status == .canceled)
        try await h.deliver()
        #expect(h.provider.sent.map(\.verificationID) == [second.id], "the superseded code never travels")
        await #expect(throws: VerificationError.notFound) {
            try await h.service.check(tenantID: "ten_b", to: "+6281234567890", country: nil, purpose: "password_reset", code: "123456")
        }
    }

    @Test("resends: same code, growing cooldowns 30/60/120 s, max sends")
    func resends() async throws {
        let h = Harness()
        let v = try await h.start(purpose: "signup")
        try await h.deliver()
        let code = try #require(h.code(for: v.id))
        await #expect(throws: VerificationError.resendTooSoon(retryAfter: 30)) { try await h.service.resend(id: v.id, tenantID: "ten_a", channel: nil) }
        var waits: [Int] = []
        for _ in 0..<4 {
            let current = try await h.service.read(id: v.id, tenantID: "ten_a")
            let wait = Int(current.resendAvailableAt.timeIntervalSince(h.clock.now))
            waits.append(wait)
            h.clock.advance(by: Double(wait))
            _ = try await h.service.resend(id: v.id, tenantID: "ten_a", channel: "sms")
            try await h.deliver()
        }
        #expect(waits == [30, 60, 120, 240])
        #expect(h.provider.sent.allSatisfy { $0.code == code }, "every send carries the same code")
        #expect(h.provider.sent.last?.channel == .sms)
        await #expect(throws: VerificationError.maxSendsReached) { try await h.service.resend(id: v.id, tenantID: "ten_a", channel: nil) }
        await #expect(throws: VerificationError.invalidRequest([FieldError(field: "channel", reason: "must be whatsapp, sms or voice")])) {
            try await h.service.resend(id: v.id, tenantID: "ten_a", channel: "pigeon")
        }
    }

    @Test("a failed send falls back to the next channel of the plan with the same code")
    func fallback() async throws {
        let h = Harness()
        h.provider.answer(.whatsapp, with: .undeliverable)
        h.provider.answer(.sms, with: .failed)
        let v = try await h.start()
        try await h.deliver()
        try await h.deliver()
        try await h.deliver()
        let after = try await h.service.read(id: v.id, tenantID: "ten_a")
        #expect(after.deliveries.map(\.channel) == [.whatsapp, .sms, .voice])
        #expect(after.deliveries.map(\.status) == [.undeliverable, .failed, .delivered])
        #expect(after.channel == .voice && after.sendsRemaining == 2, "fallbacks count as sends")
        let types = try await h.service.events(id: v.id, tenantID: "ten_a").map(\.type)
        #expect(types.filter { $0 == "delivery.fallback" }.count == 2)
    }

    @Test("a forced channel starts the plan there")
    func forcedChannel() async throws {
        let h = Harness()
        let v = try await h.start(channel: "voice")
        #expect(v.plan.steps.map(\.channel) == [.voice] && v.channel == .voice)
        try await h.deliver()
        #expect(h.provider.sent.first?.channel == .voice && h.provider.sent.first?.text.contains(", ") == true)
    }

    @Test("nothing is sent after cancel, approval or expiry")
    func staleCodesNeverTravel() async throws {
        let h = Harness()
        let canceled = try await h.start("+6281234567891")
        _ = try await h.service.cancel(id: canceled.id, tenantID: "ten_a")
        let expired = try await h.start("+6281234567892", purpose: "login")
        h.clock.advance(by: 181)
        try await h.deliver()
        #expect(h.provider.sent.isEmpty)
        await #expect(throws: VerificationError.notPending(.canceled)) { try await h.service.cancel(id: canceled.id, tenantID: "ten_a") }
        await #expect(throws: VerificationError.notPending(.expired)) { try await h.service.resend(id: expired.id, tenantID: "ten_a", channel: nil) }
    }

    @Test("wrong codes count across verifications of a destination; a new verification does not reset them")
    func failedChecksAcrossVerifications() async throws {
        var options = VerificationOptions()
        options.policies.maxFailedChecksPerDestination = 7
        let h = Harness(options: options)
        var v = try await h.start()
        for _ in 0..<5 { _ = try await h.service.check(id: v.id, tenantID: "ten_a", code: "000001") }
        v = try await h.start()
        #expect(v.attemptsRemaining == 2, "7 allowed, 5 used")
        for _ in 0..<2 { _ = try await h.service.check(id: v.id, tenantID: "ten_a", code: "000001") }
        // The same user made those wrong codes, so the per-user count (checked first) refuses too.
        await #expect(throws: VerificationError.rateLimited(limit: "failed_checks_per_user", retryAfter: 86_400)) { try await h.start() }
        await #expect(throws: VerificationError.rateLimited(limit: "failed_checks_per_destination", retryAfter: 86_400)) {
            try await h.service.start(tenantID: "ten_a", StartRequest(to: "+6281234567890", purpose: "password_reset"))
        }
        h.clock.advance(by: 86_400)
        v = try await h.start()
        #expect(v.attemptsRemaining == 5, "forgotten after the window")
        try await h.deliver()
        _ = try await h.service.check(id: v.id, tenantID: "ten_a", code: "000001")
        _ = try await h.service.check(id: v.id, tenantID: "ten_a", code: try #require(h.code(for: v.id)))
        #expect(try await h.start().attemptsRemaining == 5, "approval resets the count")
    }

    @Test("invalid input is refused with the contract's codes")
    func validation() async throws {
        let h = Harness()
        await #expect(throws: VerificationError.unsupportedPurpose("bogus")) { try await h.start(purpose: "bogus") }
        await #expect(throws: VerificationError.invalidPhoneNumber(PhoneNumberError.wrongLength.explanation)) { try await h.start("+62812") }
        await #expect(throws: VerificationError.notFound) { try await h.service.read(id: "ver_nope", tenantID: "ten_a") }
        await #expect(throws: VerificationError.notFound) { try await h.service.check(id: "../etc", tenantID: "ten_a", code: "123456") }
    }

    @Test("transient provider failures retry the same step with backoff")
    func transient() async throws {
        let h = Harness()
        h.provider.answer(.whatsapp, with: .transient)
        let v = try await h.start()
        try await h.deliver()
        #expect(try await h.store.pendingJobCount() == 1, "still queued")
        h.provider.answer(.whatsapp, with: .delivered)
        h.clock.advance(by: 2)
        try await h.deliver()
        let after = try await h.service.read(id: v.id, tenantID: "ten_a")
        #expect(after.deliveries.map(\.status) == [.delivered])
    }

    @Test("no receipt within the step's timeout: the durable timer falls back to the next step, once")
    func receiptTimeout() async throws {
        let h = Harness()
        h.provider.answer(.whatsapp, with: .sent)
        let v = try await h.start()
        try await h.deliver()
        #expect(try await h.store.pendingJobCount() == 1, "a receipt timer is waiting")
        h.clock.advance(by: 39)
        try await h.deliver()
        #expect(try await h.service.read(id: v.id, tenantID: "ten_a").deliveries.count == 1, "not before 40 s")
        h.clock.advance(by: 1)
        try await h.deliver()
        try await h.deliver()
        let after = try await h.service.read(id: v.id, tenantID: "ten_a")
        #expect(after.deliveries.map(\.channel) == [.whatsapp, .sms] && after.deliveries.map(\.status) == [.sent, .delivered])
        #expect(after.channel == .sms && after.sendsRemaining == 3)
        let fallback = try await h.service.events(id: v.id, tenantID: "ten_a").first { $0.type == "delivery.fallback" }
        #expect(fallback?.data["reason"] == "no_receipt_within_40s")
        #expect(h.provider.sent.map(\.code).allSatisfy { $0 == h.provider.sent.first?.code }, "the same code")
        h.clock.advance(by: 100)
        try await h.deliver()
        #expect(try await h.service.read(id: v.id, tenantID: "ten_a").deliveries.count == 2, "the sms step had a receipt: no voice call")
        #expect(try await h.store.pendingJobCount() == 0)
    }

    @Test("receipt timers do nothing once the code was approved or a later send carries it")
    func timerStale() async throws {
        let h = Harness()
        h.provider.answer(.whatsapp, with: .sent)
        let v = try await h.start()
        try await h.deliver()
        _ = try await h.service.check(id: v.id, tenantID: "ten_a", code: try #require(h.code(for: v.id)))
        h.clock.advance(by: 41)
        try await h.deliver()
        #expect(try await h.service.read(id: v.id, tenantID: "ten_a").deliveries.count == 1, "approved: nothing more is sent")

        let w = try await h.start("+6281234567899", purpose: "signup")
        try await h.deliver()
        h.clock.advance(by: 30)
        _ = try await h.service.resend(id: w.id, tenantID: "ten_a", channel: nil)
        try await h.deliver()
        h.clock.advance(by: 11)
        try await h.deliver()
        let after = try await h.service.read(id: w.id, tenantID: "ten_a")
        #expect(after.deliveries.map(\.channel) == [.whatsapp, .whatsapp], "the first timer is stale after the resend")
        h.clock.advance(by: 30)
        try await h.deliver()
        try await h.deliver()
        #expect(try await h.service.read(id: w.id, tenantID: "ten_a").deliveries.map(\.channel) == [.whatsapp, .whatsapp, .sms], "the resend's own timer falls back")
    }

    @Test("a number not on WhatsApp is remembered: the next verification goes straight to SMS")
    func capabilityMemory() async throws {
        let h = Harness()
        h.provider.answer(.whatsapp, with: .undeliverable)
        let first = try await h.start()
        try await h.deliver()
        try await h.deliver()
        #expect(try await h.service.read(id: first.id, tenantID: "ten_a").deliveries.map(\.channel) == [.whatsapp, .sms])
        let second = try await h.start(purpose: "login")
        #expect(second.plan.steps.map(\.channel) == [.sms, .voice] && second.channel == .sms)
        let created = try await h.service.events(id: second.id, tenantID: "ten_a").first { $0.type == "verification.created" }
        #expect(created?.data["skipped_channels"] == .array(["whatsapp"]))
        let forced = try await h.start(purpose: "signup", channel: "whatsapp")
        #expect(forced.channel == .whatsapp, "a forced channel is still tried")
        let other = try await h.start("+6281234567899")
        #expect(other.channel == .whatsapp, "other numbers are not affected")
        h.clock.advance(by: 30 * 86_400)
        #expect(try await h.start(purpose: "new_device").channel == .whatsapp, "forgotten after 30 days")
    }
}
