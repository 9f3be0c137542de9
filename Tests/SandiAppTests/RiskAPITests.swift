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
}
