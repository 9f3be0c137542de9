import Foundation
import SandiCore
import Testing

extension String {
    /// Whether this is an RFC 3339 UTC timestamp with exactly three fractional digits.
    var isContractTimestamp: Bool { wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil }
}

@Suite("HTTP API: verifications")
struct VerificationAPITests {
    @Test("start answers 201 with the contract's Verification")
    func start() async throws {
        try await APIHarness.make().run { api in
            let answer = try await api.post("/v1/verifications", #"{"to":"081234567890","country":"ID","purpose":"password_reset","user_ref":"u-123","locale":"id","context":{"ip":"203.0.113.7","device_id":"d-1","user_agent":"x","app_hash":"FA+9qCX9VSu"},"unknown_field":1}"#)
            #expect(answer.status == 201)
            #expect(answer.headers["Content-Type"] == "application/json")
            let v = answer.object
            #expect(v["id"]?.stringValue?.hasPrefix("ver_") == true)
            #expect(v["status"] == "pending" && v["to"] == "+6281234567890" && v["country"] == "ID" && v["operator"] == "Telkomsel")
            #expect(v["purpose"] == "password_reset" && v["user_ref"] == "u-123" && v["locale"] == "id" && v["code_length"] == 6)
            #expect(v["channel"] == "whatsapp" && v["attempts_remaining"] == 5 && v["sends_remaining"] == 4)
            #expect(v["plan"] == .array([.object(["channel": "whatsapp", "timeout_s": 40]), .object(["channel": "sms", "timeout_s": 45]), .object(["channel": "voice"])]))
            #expect(v["risk"] == .object(["level": "low", "score": 0, "action": "allow", "reasons": .array([])]))
            for field in ["created_at", "expires_at", "resend_available_at"] {
                #expect(v[field]?.stringValue?.isContractTimestamp == true, "\(field)")
            }
            guard case .array(let deliveries)? = v["deliveries"], case .object(let d)? = deliveries.first else { throw TestFailure("deliveries") }
            #expect(d["id"]?.stringValue?.hasPrefix("dlv_") == true && d["status"] == "queued" && d["provider"] == "simulator")
            #expect(d["error"] == .null && d["sent_at"] == .null)
            #expect(Set(v.keys) == ["id", "status", "to", "country", "operator", "purpose", "user_ref", "locale", "code_length", "channel", "plan",
                                    "created_at", "expires_at", "resend_available_at", "attempts_remaining", "sends_remaining", "risk", "deliveries"])
            #expect(Set(d.keys) == ["id", "channel", "provider", "status", "queued_at", "sent_at", "delivered_at", "error"])
            #expect(!answer.text.contains("code\":\""), "the code is never in an API answer")
        }
    }

    @Test("read: deliveries after the worker ran, events on request, 404 for unknown and foreign ids")
    func read() async throws {
        try await APIHarness.make().run { api in
            let id = try await api.start()
            try await api.deliver()
            let read = try await api.get("/v1/verifications/\(id)")
            #expect(read.status == 200 && read["events"] == nil)
            guard case .array(let deliveries)? = read["deliveries"], case .object(let d)? = deliveries.first else { throw TestFailure("no delivery") }
            #expect(d["status"] == "delivered" && d["sent_at"]?.stringValue != nil && d["delivered_at"]?.stringValue != nil)
            let withEvents = try await api.get("/v1/verifications/\(id)?include=events")
            guard case .array(let events)? = withEvents["events"] else { throw TestFailure("no events") }
            let types = events.compactMap { $0.objectValue?["type"]?.stringValue }
            #expect(types == ["verification.created", "code.generated", "delivery.queued", "delivery.sent", "delivery.delivered"])
            #expect(events.allSatisfy { $0.objectValue?["id"]?.stringValue?.hasPrefix("evt_") == true })
            let eventText = String(decoding: try JSONEncoder().encode(JSONValue.array(events)), as: UTF8.self)
            #expect(!eventText.contains("81234567890") && eventText.contains("+62********890"), "events hold masked numbers only")
            #expect(try await api.get("/v1/verifications/ver_unknown").status == 404)
            let foreign = try await api.get("/v1/verifications/\(id)", key: api.harness.otherKey)
            #expect(foreign.status == 404 && foreign.code == "not_found", "another tenant's id is 404, never 403")
        }
    }

    @Test("check by id: wrong code, right code with grant, then approval is final")
    func checkByID() async throws {
        try await APIHarness.make().run { api in
            let id = try await api.start()
            let code = try await api.code()
            let wrong = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code == "000000" ? "111111" : "000000")"}"#)
            #expect(wrong.status == 200 && wrong["valid"] == false && wrong["attempts_remaining"] == 4 && wrong["status"] == "pending" && wrong["grant"] == .null)
            let right = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
            #expect(right.status == 200 && right["valid"] == true && right["status"] == "approved" && right["verification_id"]?.stringValue == id)
            let grant = right["grant"]?.objectValue
            #expect(grant?["token"]?.stringValue?.hasPrefix("grt_") == true)
            #expect(grant?["expires_at"]?.stringValue?.isContractTimestamp == true)
            let again = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
            #expect(again["valid"] == false && again["status"] == "approved")
            #expect(try await api.post("/v1/verifications/ver_nope/check", #"{"code":"123456"}"#).status == 404)
            #expect(try await api.post("/v1/verifications/\(id)/check", #"{"code":"123456"}"#, key: api.harness.otherKey).status == 404)
        }
    }

    @Test("five wrong codes lock; locked refuses the right code")
    func lockout() async throws {
        try await APIHarness.make().run { api in
            let id = try await api.start()
            let code = try await api.code()
            let wrong = code == "000000" ? "111111" : "000000"
            for _ in 0..<5 { _ = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(wrong)"}"#) }
            let locked = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
            #expect(locked["valid"] == false && locked["status"] == "locked" && locked["attempts_remaining"] == 0)
            #expect(try await api.get("/v1/verifications/\(id)")["status"] == "locked")
        }
    }

    @Test("check by destination: national or E.164, purpose-bound, 404 when none is live")
    func checkByDestination() async throws {
        try await APIHarness.make().run { api in
            _ = try await api.start(purpose: "login")
            let code = try await api.code()
            let wrongPurpose = try await api.post("/v1/verifications/check", #"{"to":"+6281234567890","purpose":"password_reset","code":"\#(code)"}"#)
            #expect(wrongPurpose.status == 404)
            let ok = try await api.post("/v1/verifications/check", #"{"to":"081234567890","country":"ID","purpose":"login","code":"\#(code)"}"#)
            #expect(ok.status == 200 && ok["valid"] == true && ok["grant"] == .null, "login issues no grant")
            #expect(try await api.post("/v1/verifications/check", #"{"to":"+6281234567890","purpose":"login","code":"\#(code)"}"#).status == 404, "no live one after approval")
            #expect(try await api.post("/v1/verifications/check", #"{"to":"+62812","purpose":"login","code":"1"}"#).code == "invalid_phone_number")
        }
    }

    @Test("resend: cooldown 429 with Retry-After, channel switch, unknown and unavailable channels, max sends")
    func resend() async throws {
        try await APIHarness.make().run { api in
            let id = try await api.start(purpose: "signup")
            try await api.deliver()
            let soon = try await api.post("/v1/verifications/\(id)/resend", nil)
            #expect(soon.status == 429 && soon.code == "resend_too_soon" && soon["retry_after_s"] == 30 && soon.headers["Retry-After"] == "30")
            #expect(try await api.post("/v1/verifications/\(id)/resend", #"{"channel":"fax"}"#).code == "invalid_request")
            api.harness.clock.advance(by: 30)
            let switched = try await api.post("/v1/verifications/\(id)/resend", #"{"channel":"sms"}"#)
            #expect(switched.status == 200 && switched["channel"] == "sms" && switched["sends_remaining"] == 3)
            let firstCode = try await api.code()
            let next = try await api.post("/v1/verifications/\(id)/resend", "{}")
            #expect(next.status == 429 && next["retry_after_s"] == 60, "cooldowns grow")
            for wait in [60.0, 120, 240] {
                api.harness.clock.advance(by: wait)
                #expect(try await api.post("/v1/verifications/\(id)/resend", "{}").status == 200)
            }
            #expect(try await api.code() == firstCode, "every send carries the same code")
            let exhausted = try await api.post("/v1/verifications/\(id)/resend", "{}")
            #expect(exhausted.status == 409 && exhausted.code == "max_sends_reached")
        }
    }

    @Test("resend: not pending is checked first; voice unavailable without a provider is 422")
    func resendOrder() async throws {
        try await APIHarness.make().run { api in
            let id = try await api.start()
            _ = try await api.post("/v1/verifications/\(id)/cancel", nil)
            let answer = try await api.post("/v1/verifications/\(id)/resend", #"{"channel":"fax"}"#)
            #expect(answer.status == 409 && answer.code == "verification_not_pending")
        }
        try await APIHarness.make(simulator: false).run { api in
            let answer = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"login"}"#)
            #expect(answer.status == 422 && answer.code == "channel_unavailable")
        }
    }

    @Test("cancel: 200 then 409; canceled codes are refused and never sent")
    func cancel() async throws {
        try await APIHarness.make().run { api in
            let id = try await api.start()
            let canceled = try await api.post("/v1/verifications/\(id)/cancel", nil)
            #expect(canceled.status == 200 && canceled["status"] == "canceled")
            let again = try await api.post("/v1/verifications/\(id)/cancel", nil)
            #expect(again.status == 409 && again.code == "verification_not_pending")
            try await api.deliver()
            let outbox = try await api.get("/v1/dev/outbox?to=%2B6281234567890")
            #expect(outbox["messages"] == .array([]), "nothing sent")
            #expect(try await api.post("/v1/verifications/ver_x/cancel", nil).status == 404)
        }
    }

    @Test("a new verification cancels the previous live one")
    func supersede() async throws {
        try await APIHarness.make().run { api in
            let first = try await api.start()
            let second = try await api.start()
            #expect(try await api.get("/v1/verifications/\(first)")["status"] == "canceled")
            #expect(try await api.get("/v1/verifications/\(second)")["status"] == "pending")
        }
    }

    @Test("grant redemption: 200 once, then 409; unknown 404; expired 410")
    func grants() async throws {
        try await APIHarness.make().run { api in
            _ = try await api.start()
            let code = try await api.code()
            let check = try await api.post("/v1/verifications/check", #"{"to":"+6281234567890","purpose":"password_reset","code":"\#(code)"}"#)
            let token = try #require(check["grant"]?.objectValue?["token"]?.stringValue)
            let redeemed = try await api.post("/v1/grants/redeem", #"{"token":"\#(token)"}"#)
            #expect(redeemed.status == 200 && redeemed["to"] == "+6281234567890" && redeemed["purpose"] == "password_reset")
            #expect(redeemed["redeemed_at"]?.stringValue?.isContractTimestamp == true && redeemed["verification_id"]?.stringValue?.hasPrefix("ver_") == true)
            let twice = try await api.post("/v1/grants/redeem", #"{"token":"\#(token)"}"#)
            #expect(twice.status == 409 && twice.code == "grant_already_redeemed")
            #expect(try await api.post("/v1/grants/redeem", #"{"token":"grt_nope"}"#).code == "grant_not_found")

            _ = try await api.start("+6281234567899")
            let code2 = try await api.code(to: "+6281234567899")
            let check2 = try await api.post("/v1/verifications/check", #"{"to":"+6281234567899","purpose":"password_reset","code":"\#(code2)"}"#)
            let token2 = try #require(check2["grant"]?.objectValue?["token"]?.stringValue)
            api.harness.clock.advance(by: 601)
            let expired = try await api.post("/v1/grants/redeem", #"{"token":"\#(token2)"}"#)
            #expect(expired.status == 410 && expired.code == "grant_expired")
        }
    }
}
