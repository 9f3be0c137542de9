import Foundation
import SandiCore
import SandiTesting
import Testing

extension Answer {
    var reasons: [String] { (self["risk"]?.objectValue?["reasons"]?.arrayValue ?? []).compactMap(\.stringValue) }
    var planChannels: [String] { (self["plan"]?.arrayValue ?? []).compactMap { $0.objectValue?["channel"]?.stringValue } }
}

extension APIClient {
    func startAnswer(_ to: String, purpose: String = "password_reset", extra: String = "") async throws -> Answer {
        try await post("/v1/verifications", #"{"to":"\#(to)","purpose":"\#(purpose)"\#(extra)}"#)
    }

    func eventTypes(_ id: String) async throws -> [String] {
        let read = try await get("/v1/verifications/\(id)?include=events")
        return (read["events"]?.arrayValue ?? []).compactMap { $0.objectValue?["type"]?.stringValue }
    }

    func outboxCount(_ to: String) async throws -> Int {
        try await deliver()
        let outbox = try await get("/v1/dev/outbox?to=" + to.replacingOccurrences(of: "+", with: "%2B"))
        return outbox["messages"]?.arrayValue?.count ?? -1
    }
}

@Suite("HTTP API: risk, limits and abuse")
struct RiskAPITests {
    @Test("the sixth start to one number within 10 minutes is 429 with Retry-After and the limit; the window then frees it")
    func destinationLimit() async throws {
        let clock = ManualClock()
        try await APIHarness.make(clock: clock).run { api in
            for i in 0..<5 {
                #expect(try await api.startAnswer("+6281234567100").status == 201, "start \(i + 1)")
                clock.advance(by: 30)
            }
            let refused = try await api.startAnswer("+6281234567100")
            #expect(refused.status == 429 && refused.code == "rate_limited")
            #expect(refused["limit"] == "destination_5_per_600s")
            let wait = refused["retry_after_s"]?.intValue ?? 0
            #expect(refused.headers["Retry-After"] == String(wait))
            // The first start was 150 s ago; it leaves the 600 s window (10 s buckets) in at most 460 s.
            #expect((440...460).contains(wait), "retry after \(wait)")
            #expect(try await api.startAnswer("+6281234567101").status == 201, "another number is not limited")
            clock.advance(by: Double(wait))
            #expect(try await api.startAnswer("+6281234567100").status == 201, "free again once the oldest start left the window")
        }
    }

    @Test("limits hold across a restart: the counters live in the database")
    func limitsSurviveRestart() async throws {
        let clock = ManualClock()
        let first = try await APIHarness.make(clock: clock)
        try await first.run(keepFiles: true) { api in
            for _ in 0..<5 { _ = try await api.startAnswer("+6281234568100") }
        }
        let second = try await APIHarness.make(directory: first.directory, clock: clock)
        try await second.run { api in
            let refused = try await api.post("/v1/verifications", #"{"to":"+6281234568100","purpose":"password_reset"}"#, key: first.key)
            #expect(refused.status == 429 && refused["limit"] == "destination_5_per_600s", "\(refused.text)")
        }
    }

    @Test("routing settings over HTTP: rules validated, applied to the next start")
    func routingSettings() async throws {
        try await APIHarness.make().run { api in
            #expect(try await api.get("/v1/settings/routing")["source"] == "defaults")
            let bad = try await api.request(.put, "/v1/settings/routing", body: #"{"rules":[{"plan":"sms:0"}]}"#)
            #expect(bad.status == 422 && bad.code == "invalid_request")
            let saved = try await api.request(.put, "/v1/settings/routing", body: #"{"rules":[{"name":"id-sms","countries":["ID"],"plan":"sms:30,voice"}]}"#)
            #expect(saved.status == 200 && saved["source"] == "tenant")
            let started = try await api.startAnswer("+6281234568200")
            #expect(started.planChannels == ["sms", "voice"] && started["channel"] == "sms")
            #expect(try await api.request(.delete, "/v1/settings/routing").status == 204)
            #expect(try await api.startAnswer("+6281234568201").planChannels == ["whatsapp", "sms", "voice"])
        }
    }

    @Test("risk settings: defaults, validated saves, record-only mode, reset; every change is an event")
    func settings() async throws {
        try await APIHarness.make().run { api in
            let defaults = try await api.get("/v1/settings/risk")
            #expect(defaults.status == 200 && defaults["source"] == "defaults")
            #expect(defaults["settings"]?.objectValue?["risk"]?.objectValue?["deny_at"] == 80)
            let bad = try await api.request(.put, "/v1/settings/risk", body: #"{"limits":[{"key":"destination","max":0,"window_s":60}],"pumping":{"min_conversion":2}}"#)
            #expect(bad.status == 422 && bad.code == "invalid_request")
            let fields = (bad["errors"]?.arrayValue ?? []).compactMap { $0.objectValue?["field"]?.stringValue }
            #expect(fields.contains("limits[0].max") && fields.contains("pumping.min_conversion"), "\(fields)")
            #expect(try await api.request(.put, "/v1/settings/risk", body: #"{"limits":[{"key":"nonsense","max":1,"window_s":60}]}"#).status == 422)
            #expect(try await api.request(.put, "/v1/settings/risk", body: "[1]").status == 400)
            // Record-only: the limit decides and says so, but does not refuse.
            let saved = try await api.request(.put, "/v1/settings/risk", body: #"{"limits":[{"key":"destination","max":1,"window_s":600,"mode":"record"}]}"#)
            #expect(saved.status == 200 && saved["source"] == "tenant")
            #expect(try await api.get("/v1/settings/risk", key: api.harness.otherKey)["source"] == "defaults", "settings are per tenant")
            #expect(try await api.startAnswer("+6281234567200").status == 201)
            #expect(try await api.startAnswer("+6281234567200").status == 201, "recorded, not enforced")
            while try await api.harness.system.store.sealAudit(limit: 1000) == 1000 {}
            let audit = try await api.harness.system.store.auditRecords(afterSeq: 0, limit: 1000)
            let hit = audit.first { $0.type == "rate_limit.hit" }
            #expect(hit?.data.contains(#""enforced":false"#) == true && hit?.data.contains("+62********200") == true)
            #expect(audit.contains { $0.type == "settings.risk_updated" })
            #expect(try await api.request(.delete, "/v1/settings/risk").status == 204)
            #expect(try await api.get("/v1/settings/risk")["source"] == "defaults")
        }
    }

    @Test("SIM swap through a CAMARA fake: a recent swap steps up and keeps SMS out; no swap or no answer is no risk")
    func simSwap() async throws {
        let camara = FakeCamara(answers: [
            "+6281234567301": .lastSwap(hoursAgo: 10), "+6281234567302": .lastSwap(hoursAgo: 500),
            "+6281234567303": .notApplicable, "+6281234567304": .tooManyRequests,
        ])
        try await camara.serve { root in
            try await APIHarness.make(overrides: ["sandi.simswap.url": root, "sandi.simswap.token": camara.token]).run { api in
                let swapped = try await api.startAnswer("+6281234567301")
                #expect(swapped.status == 201 && swapped["status"] == "pending")
                #expect(swapped["risk"]?.objectValue?["action"] == "step_up" && swapped.reasons == ["sim_swap"])
                #expect(swapped.planChannels == ["whatsapp", "voice"], "no SMS after a SIM swap")
                #expect(swapped["sends_remaining"] == 2, "step-up allows 3 sends")
                let id = swapped["id"]?.stringValue ?? ""
                #expect(try await api.eventTypes(id).contains("risk.step_up"))
                let toSMS = try await api.post("/v1/verifications/\(id)/resend", #"{"channel":"sms"}"#)
                #expect(toSMS.status == 422 && toSMS.code == "channel_unavailable", "no switch to SMS either")
                for number in ["+6281234567302", "+6281234567303", "+6281234567304"] {
                    let answer = try await api.startAnswer(number)
                    #expect(answer["risk"]?.objectValue?["action"] == "allow" && answer.reasons.isEmpty, "\(number)")
                }
                #expect(try await api.startAnswer("+6281234567305", purpose: "login").reasons.isEmpty, "login is not checked by default")
                let requests = camara.requests.withLock { $0 }
                #expect(requests.count == 4, "one check per password reset, none for login")
                #expect(requests.allSatisfy { $0.path == "check" && $0.body.contains(#""maxAge":72"#) && ($0.correlator?.isEmpty == false) })
                #expect(!api.harness.logs.text.contains("81234567301"), "no number in the logs")
            }
        }
    }

    @Test("what approvals teach: a new device, a new number and one IP asking for many numbers raise the score")
    func history() async throws {
        try await APIHarness.make().run { api in
            let first = try await api.start("+6281234567400", purpose: "login", extra: #","user_ref":"w-1","context":{"device_id":"d-1","ip":"198.51.100.1"}"#)
            let code = try await api.code(to: "+6281234567400")
            #expect(try await api.post("/v1/verifications/\(first)/check", #"{"code":"\#(code)"}"#)["valid"] == true)
            let same = try await api.startAnswer("+6281234567400", purpose: "login", extra: #","user_ref":"w-1","context":{"device_id":"d-1"}"#)
            #expect(same.reasons.isEmpty, "the known device and number: no reason")
            let newDevice = try await api.startAnswer("+6281234567400", purpose: "login", extra: #","user_ref":"w-1","context":{"device_id":"d-2"}"#)
            #expect(newDevice.reasons == ["new_device"] && newDevice["risk"]?.objectValue?["action"] == "allow")
            let newNumber = try await api.startAnswer("+60123456789", purpose: "login", extra: #","user_ref":"w-1","context":{"device_id":"d-2"}"#)
            #expect(newNumber.reasons == ["new_device", "new_country", "new_number"] && newNumber["risk"]?.objectValue?["action"] == "step_up")
            var last = Answer(status: 0, headers: .init(fields: [:]), text: "")
            for i in 0..<6 {
                last = try await api.startAnswer("+62812345675\(i)0", extra: #","context":{"ip":"203.0.113.50"}"#)
            }
            #expect(last.reasons == ["ip_velocity"] && last["risk"]?.objectValue?["action"] == "step_up", "\(last.reasons)")
        }
    }

    @Test("deny: an unallocated number is blocked, nothing is sent, the live code stays; the answer looks like any other start")
    func deny() async throws {
        try await APIHarness.make().run { api in
            let allowed = try await api.startAnswer("+62812345678")
            let number = "+62809123456"
            // The number is first allowed (its signal weighs nothing), then the default policy denies it.
            #expect(try await api.request(.put, "/v1/settings/risk", body: #"{"risk":{"weights":{"unallocated_number":0}}}"#).status == 200)
            let live = try await api.start(number)
            #expect(try await api.request(.delete, "/v1/settings/risk").status == 204)
            let blocked = try await api.startAnswer(number)
            #expect(blocked.status == 201 && blocked["status"] == "blocked")
            #expect(blocked["risk"]?.objectValue?["action"] == "deny" && blocked.reasons == ["unallocated_number"])
            #expect(blocked["deliveries"]?.arrayValue?.isEmpty == true && blocked["channel"] == .null)
            #expect(Set(blocked.object.keys) == Set(allowed.object.keys), "same shape as an allowed start")
            let id = blocked["id"]?.stringValue ?? ""
            #expect(try await api.eventTypes(id) == ["verification.created", "risk.denied", "verification.blocked"])
            #expect(try await api.outboxCount(number) == 1, "only the code before it (sent before the block)")
            #expect(try await api.get("/v1/verifications/\(live)")["status"] == "pending", "a denied start does not cancel the live code")
            #expect(try await api.post("/v1/verifications/\(id)/check", #"{"code":"000000"}"#)["status"] == "blocked")
        }
    }

    @Test("a sensitive_action code is bound to its transaction: shown in the message, valid only for that transaction")
    func dynamicLinking() async throws {
        try await APIHarness.make().run { api in
            let tx = #","transaction":{"amount":"1500000","currency":"IDR","payee":"PT Maju Jaya"}"#
            let id = try await api.start("+6281234567600", purpose: "sensitive_action", extra: tx)
            try await api.deliver()
            let outbox = try await api.get("/v1/dev/outbox?to=%2B6281234567600")
            let text = outbox["messages"]?.arrayValue?.first?.objectValue?["text"]?.stringValue ?? ""
            #expect(text.contains("IDR 1500000") && text.contains("PT Maju Jaya"), "\(text)")
            let code = try await api.code(to: "+6281234567600")
            let other = #","transaction":{"amount":"9500000","currency":"IDR","payee":"PT Maju Jaya"}"#
            #expect(try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"\#(other)}"#)["valid"] == false)
            #expect(try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)["valid"] == false, "no transaction, no approval")
            let ok = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"\#(tx)}"#)
            #expect(ok["valid"] == true && ok["status"] == "approved")
            #expect(try await api.get("/v1/verifications/\(id)")["transaction"]?.objectValue?["payee"] == "PT Maju Jaya")
            let wrongPurpose = try await api.startAnswer("+6281234567601", extra: tx)
            #expect(wrongPurpose.status == 422 && wrongPurpose.code == "invalid_request")
            let badAmount = try await api.startAnswer("+6281234567601", purpose: "sensitive_action", extra: #","transaction":{"amount":"1,5","currency":"idr","payee":""}"#)
            let fields = (badAmount["errors"]?.arrayValue ?? []).compactMap { $0.objectValue?["field"]?.stringValue }
            #expect(badAmount.status == 422 && Set(fields) == ["transaction.amount", "transaction.currency", "transaction.payee"], "\(fields)")
        }
    }

    @Test("the pumping guard blocks a prefix whose starts never convert; nothing is sent to it; the block is listed and can be lifted")
    func pumping() async throws {
        let clock = ManualClock()
        try await APIHarness.make(clock: clock).run { api in
            let settings = #"{"pumping":{"min_volume":5,"window_s":600,"grace_s":60,"block_s":900}}"#
            #expect(try await api.request(.put, "/v1/settings/risk", body: settings).status == 200)
            for i in 0..<6 {
                #expect(try await api.startAnswer("+44790012\(String(format: "%04d", i))")["status"] == "pending")
                clock.advance(by: 15)
            }
            clock.advance(by: 60)
            let blocked = try await api.startAnswer("+447900129999")
            #expect(blocked["status"] == "blocked" && blocked.reasons.contains("prefix_blocked"), "\(blocked.text)")
            #expect(try await api.outboxCount("+447900129999") == 0, "no provider call for a blocked prefix")
            let other = try await api.startAnswer("+447911123456")
            #expect(other["status"] == "pending", "other prefixes are untouched: \(other.text)")
            let list = try await api.get("/v1/risk/prefix-blocks")
            let block = list["prefix_blocks"]?.arrayValue?.first?.objectValue
            #expect(block?["prefix"] == "+4479001" && block?["enforced"] == true && block?["approved"] == 0)
            #expect(try await api.get("/v1/risk/prefix-blocks", key: api.harness.otherKey)["prefix_blocks"]?.arrayValue?.isEmpty == true)
            #expect(try await api.request(.delete, "/v1/risk/prefix-blocks/4479001").status == 204)
            #expect(try await api.request(.delete, "/v1/risk/prefix-blocks/%2B4479001").status == 404)
            #expect(try await api.request(.delete, "/v1/risk/prefix-blocks/abc").status == 422)
            while try await api.harness.system.store.sealAudit(limit: 1000) == 1000 {}
            let audit = try await api.harness.system.store.auditRecords(afterSeq: 0, limit: 1000).map(\.type)
            #expect(audit.contains("fraud.prefix_blocked") && audit.contains("fraud.prefix_unblocked"))
            let metrics = try await api.get("/metrics")
            #expect(metrics.text.contains(#"sandi_prefix_blocks_total{mode="enforce"} 1"#))
        }
    }

    @Test("the safe list: listed numbers and IP ranges are never limited or blocked by automatic rules")
    func safeList() async throws {
        try await APIHarness.make().run { api in
            let settings = #"{"limits":[{"key":"destination","max":1,"window_s":600}],"safe_list":{"numbers":["+6281234567700"],"ip_ranges":["192.0.2.0/24"]}}"#
            #expect(try await api.request(.put, "/v1/settings/risk", body: settings).status == 200)
            for _ in 0..<3 {
                let listed = try await api.startAnswer("+6281234567700")
                #expect(listed.status == 201)
                let fromRange = try await api.startAnswer("+6281234567701", extra: #","context":{"ip":"192.0.2.77"}"#)
                #expect(fromRange.status == 201)
            }
            #expect(try await api.startAnswer("+6281234567702").status == 201)
            #expect(try await api.startAnswer("+6281234567702").status == 429, "not on the list: limited")
        }
    }

    @Test("security notices: an approved password reset is told on another channel in the user's language; blocked starts when enabled")
    func notices() async throws {
        try await APIHarness.make().run { api in
            let to = "+6281234567800"
            let id = try await api.start(to, extra: #","locale":"id""#)
            let code = try await api.code(to: to)
            #expect(try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)["valid"] == true)
            try await api.deliver()
            let outbox = try await api.get("/v1/dev/outbox?to=%2B6281234567800")
            let newest = outbox["messages"]?.arrayValue?.first?.objectValue
            #expect(newest?["channel"] == "sms" && newest?["code"] == .null, "the code came by WhatsApp; the notice by SMS, with no code")
            #expect(newest?["text"]?.stringValue == "Sandi: kata sandi akun Anda baru saja diatur ulang. Jika ini bukan Anda, segera hubungi layanan bantuan Sandi.")
            let types = try await api.eventTypes(id)
            #expect(types.suffix(3) == ["verification.approved", "notice.queued", "notice.sent"], "\(types)")
            // A login approval sends no notice.
            let login = try await api.start("+6281234567801", purpose: "login")
            let loginCode = try await api.code(to: "+6281234567801")
            _ = try await api.post("/v1/verifications/\(login)/check", #"{"code":"\#(loginCode)"}"#)
            #expect(try await api.outboxCount("+6281234567801") == 1)
            // Blocked starts notify only when the tenant asks for it.
            #expect(try await api.request(.put, "/v1/settings/risk", body: #"{"notifications":{"after_blocked":true}}"#).status == 200)
            let blocked = try await api.startAnswer("+62809123456")
            #expect(blocked["status"] == "blocked")
            try await api.deliver()
            let notice = try await api.get("/v1/dev/outbox?to=%2B62809123456")["messages"]?.arrayValue ?? []
            #expect(notice.count == 1 && notice.first?.objectValue?["code"] == .null)
            #expect(notice.first?.objectValue?["text"]?.stringValue?.contains("Tidak ada kode yang dikirim") == true, "Indonesian, from the number's country")
        }
    }

    @Test("trusted devices: trust after an approved login, skip the code on that device, not elsewhere; revoke; expiry")
    func trustedDevices() async throws {
        let clock = ManualClock()
        try await APIHarness.make(clock: clock).run { api in
            let id = try await api.start("+6281234567900", purpose: "login", extra: #","user_ref":"u-9","context":{"device_id":"d-9","ip_country":"ID"}"#)
            let code = try await api.code(to: "+6281234567900")
            let early = try await api.post("/v1/devices/trust", #"{"verification_id":"\#(id)"}"#)
            #expect(early.status == 409 && early.code == "device_not_trustable", "not approved yet")
            _ = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
            let trusted = try await api.post("/v1/devices/trust", #"{"verification_id":"\#(id)"}"#)
            #expect(trusted.status == 201 && trusted["user_ref"] == "u-9" && trusted["device_id"] == "d-9")
            let token = trusted["device_token"]?.stringValue ?? ""
            #expect(token.hasPrefix("dvt_") && token.count > 40)
            func check(_ extra: String, device: String = "d-9", purpose: String = "login") async throws -> Answer {
                try await api.post("/v1/devices/check", #"{"user_ref":"u-9","device_id":"\#(device)","purpose":"\#(purpose)"\#(extra)}"#)
            }
            let ok = try await check(#","device_token":"\#(token)","context":{"ip_country":"ID"}"#)
            #expect(ok.status == 200 && ok["code_required"] == false && ok["trusted_until"]?.stringValue != nil)
            #expect(try await check(#","device_token":"\#(token)","context":{"ip_country":"MY"}"#)["reasons"] == .array(["new_country"]))
            #expect(try await check(#","device_token":"\#(token)""#, purpose: "password_reset")["reasons"] == .array(["sensitive_purpose"]))
            #expect(try await check(#","device_token":"dvt_wrong""#)["reasons"] == .array(["device_token_invalid"]))
            #expect(try await check(#","device_token":"\#(token)""#, device: "d-10")["reasons"] == .array(["unknown_device"]))
            #expect(try await check("")["code_required"] == true)
            #expect(try await api.post("/v1/devices/check", #"{"user_ref":"u-9"}"#).status == 422)
            #expect(try await api.post("/v1/devices/trust", #"{"verification_id":"ver_nope"}"#).status == 404)
            let reset = try await api.start("+6281234567901", extra: #","user_ref":"u-9","context":{"device_id":"d-9"}"#)
            #expect(try await api.post("/v1/devices/trust", #"{"verification_id":"\#(reset)"}"#).code == "device_not_trustable")
            #expect(try await api.post("/v1/devices/revoke", #"{"user_ref":"u-9"}"#)["revoked"] == 1)
            #expect(try await check(#","device_token":"\#(token)""#)["reasons"] == .array(["unknown_device"]))
            // Trust again, then let 30 days pass.
            let again = try await api.start("+6281234567900", purpose: "login", extra: #","user_ref":"u-9","context":{"device_id":"d-9"}"#)
            _ = try await api.post("/v1/verifications/\(again)/check", #"{"code":"\#(try await api.code(to: "+6281234567900"))"}"#)
            let second = try await api.post("/v1/devices/trust", #"{"verification_id":"\#(again)"}"#)["device_token"]?.stringValue ?? ""
            #expect(try await check(#","device_token":"\#(second)""#)["code_required"] == false)
            clock.advance(by: 30 * 86_400 + 1)
            #expect(try await check(#","device_token":"\#(second)""#)["reasons"] == .array(["unknown_device"]))
        }
    }

    @Test("wrong codes count per user across verifications and numbers; another user is not affected")
    func failedChecksPerUser() async throws {
        try await APIHarness.make(overrides: ["sandi.checks.max_failed": "3"]).run { api in
            let first = try await api.start("+6281234568000", purpose: "login", extra: #","user_ref":"u-7""#)
            for _ in 0..<3 { _ = try await api.post("/v1/verifications/\(first)/check", #"{"code":"000000"}"#) }
            let refused = try await api.startAnswer("+6281234568001", purpose: "login", extra: #","user_ref":"u-7""#)
            #expect(refused.status == 429 && refused["limit"] == "failed_checks_per_user", "\(refused.text)")
            #expect(try await api.startAnswer("+6281234568001", purpose: "login", extra: #","user_ref":"u-8""#).status == 201)
        }
    }

    @Test("no enumeration: an allowed and a denied start for numbers never seen answer alike, in status, shape and time")
    func noEnumeration() async throws {
        try await APIHarness.make().run { api in
            var allowTimes: [Double] = [], denyTimes: [Double] = []
            var shapes = Set<Set<String>>()
            for i in 0..<30 {
                let t0 = ContinuousClock.now
                let allowed = try await api.startAnswer("+62812345\(String(format: "%05d", 20_000 + i))")
                allowTimes.append((ContinuousClock.now - t0) / .microseconds(1))
                let t1 = ContinuousClock.now
                let denied = try await api.startAnswer("+628091\(String(format: "%05d", 10_000 + i))")
                denyTimes.append((ContinuousClock.now - t1) / .microseconds(1))
                #expect(allowed.status == 201 && denied.status == 201)
                #expect(allowed["status"] == "pending" && denied["status"] == "blocked", "\(denied.reasons)")
                shapes.insert(Set(allowed.object.keys))
                shapes.insert(Set(denied.object.keys))
            }
            #expect(shapes.count == 1, "one response shape")
            let allow = allowTimes.sorted()[15], deny = denyTimes.sorted()[15]
            // Same work on both paths (code made and hashed, one risk step, one create): medians
            // within a factor of 2 of each other (plus 2 ms for a noisy machine).
            #expect(deny < 2 * allow + 2000 && allow < 2 * deny + 2000, "median allow \(allow) µs, deny \(deny) µs")
        }
    }
}
