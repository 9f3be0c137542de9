import Foundation
import SandiApp
import SandiCore
import SandiProviders
import Testing

/// Sandi with a Twilio account configured, against a fake Twilio on loopback: the public API in,
/// Messages and Calls out, signed status callbacks back.
@Suite("Twilio SMS and voice, end to end")
struct TwilioProviderTests {
    static let publicURL = "https://otp.example.com"

    func harness(_ twilio: FakeTwilio, api: String, plan: String = "sms:45,voice") async throws -> APIHarness {
        try await APIHarness.make(overrides: [
            "sandi.twilio.account_sid": twilio.accountSID, "sandi.twilio.auth_token": twilio.authToken,
            "sandi.twilio.from": "ACME", "sandi.twilio.voice_from": "+15005550006", "sandi.twilio.api_base": api,
            "sandi.public_url": Self.publicURL, "sandi.plan": plan,
        ])
    }

    /// Posts a callback as Twilio would, signed (or not) by the fake.
    func callback(_ client: APIClient, _ twilio: FakeTwilio, _ path: String, _ params: [(String, String)], signature: String? = nil) async throws -> Answer {
        let url = Self.publicURL + path
        return try await client.request(.post, path, body: FakeTwilio.encodeForm(params), key: "", headers: [
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature ?? twilio.sign(url: url, params: params),
        ])
    }

    @Test("Twilio's published signature vectors; a default port added or removed still matches; any change does not")
    func signatureVectors() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        let params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675310"), ("Digits", "1234"), ("From", "+14158675310"), ("To", "+18005551212")]
        #expect(TwilioSignature.compute(url: url, params: params, authToken: "12345") == "GvWf1cFY/Q7PnoempGyD5oXAezc=")
        #expect(TwilioSignature.isValid("GvWf1cFY/Q7PnoempGyD5oXAezc=", url: url, params: params, authToken: "12345"))
        #expect(TwilioSignature.isValid("GvWf1cFY/Q7PnoempGyD5oXAezc=", url: "https://mycompany.com:443/myapp.php?foo=1&bar=2", params: params, authToken: "12345"))
        #expect(!TwilioSignature.isValid("GvWf1cFY/Q7PnoempGyD5oXAezc=", url: url, params: params + [("Extra", "1")], authToken: "12345"))
        #expect(!TwilioSignature.isValid("GvWf1cFY/Q7PnoempGyD5oXAezc=", url: url, params: params, authToken: "12346"))
        #expect(!TwilioSignature.isValid("not base64!", url: url, params: params, authToken: "12345"))
    }

    @Test("an SMS code goes out from the branded sender with a short validity and a status callback; signed callbacks mark it delivered once; forged ones are refused; the code checks")
    func smsEndToEnd() async throws {
        let twilio = FakeTwilio()
        try await twilio.serve { api in
            let harness = try await harness(twilio, api: api)
            try await harness.run { client in
                let id = try await client.start(purpose: "login", extra: #","channel":"sms","locale":"id""#)
                try await client.deliver()
                let sent = try #require(twilio.requests.first { $0.resource == "Messages" })
                #expect(sent.value("To") == "+6281234567890" && sent.value("From") == "ACME")
                #expect(sent.value("StatusCallback") == Self.publicURL + "/v1/callbacks/twilio/status")
                let validity = try #require(sent.value("ValidityPeriod").flatMap(Int.init))
                #expect((1...180).contains(validity), "no longer than the login code lives")
                let text = try #require(sent.value("Body"))
                let code = try #require(text.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init), "\(text)")
                #expect(text.contains("Sandi") && text.lowercased().contains("jangan"), "Indonesian text with the brand and the warning: \(text)")

                var read = try await client.get("/v1/verifications/\(id)")
                let delivery = try #require(read["deliveries"]?.arrayValue?.first?.objectValue)
                #expect(delivery["provider"] == "twilio" && delivery["status"] == "sent")
                let sid = try await harness.system.store.delivery(id: try #require(delivery["id"]?.stringValue))?.providerMessageID ?? ""
                #expect(sid.hasPrefix("SM") && sid.count == 34)

                func status(_ value: String, extra: [(String, String)] = []) -> [(String, String)] {
                    [("AccountSid", twilio.accountSID), ("ApiVersion", "2010-04-01"), ("From", "ACME"), ("MessageSid", sid),
                     ("MessageStatus", value), ("SmsSid", sid), ("SmsStatus", value), ("To", "+6281234567890")] + extra
                }
                // Forged: signed with another token; unsigned; signed but a parameter changed afterwards.
                let forged = try await callback(client, twilio, "/v1/callbacks/twilio/status", status("delivered"), signature: "bm90IHRoZSBzaWduYXR1cmU=")
                #expect(forged.status == 403 && forged.code == "invalid_signature")
                #expect(forged.headers["content-type"] == "application/problem+json")
                var params = status("delivered")
                let signature = twilio.sign(url: Self.publicURL + "/v1/callbacks/twilio/status", params: params)
                params[4] = ("MessageStatus", "undelivered")
                #expect(try await callback(client, twilio, "/v1/callbacks/twilio/status", params, signature: signature).status == 403)
                read = try await client.get("/v1/verifications/\(id)")
                #expect(read["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "sent", "refused callbacks changed nothing")

                // Genuine: sent, then delivered twice (with a parameter Sandi does not know, still signed over).
                #expect(try await callback(client, twilio, "/v1/callbacks/twilio/status", status("sent")).status == 204)
                for _ in 0..<2 {
                    let answer = try await callback(client, twilio, "/v1/callbacks/twilio/status", status("delivered", extra: [("RawDlrDoneDate", "2612021405"), ("SomethingNew", "x y")]))
                    #expect(answer.status == 204, "\(answer.text)")
                }
                read = try await client.get("/v1/verifications/\(id)?include=events")
                #expect(read["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "delivered")
                #expect(read["events"]?.arrayValue?.filter { $0.objectValue?["type"] == "delivery.delivered" }.count == 1)

                // A callback for a message Sandi never sent is acknowledged and ignored.
                var unknown = status("delivered")
                unknown[3] = ("MessageSid", "SM" + String(repeating: "f", count: 32))
                #expect(try await callback(client, twilio, "/v1/callbacks/twilio/status", unknown).status == 204)

                let checked = try await client.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
                #expect(checked["valid"] == .bool(true))
            }
        }
    }

    @Test("voice: a call with TwiML that says the code digit by digit in Indonesian, twice; call progress callbacks end delivered")
    func voiceEndToEnd() async throws {
        let twilio = FakeTwilio()
        try await twilio.serve { api in
            let harness = try await harness(twilio, api: api, plan: "voice")
            try await harness.run { client in
                let id = try await client.start(purpose: "login", extra: #","channel":"voice","locale":"id""#)
                try await client.deliver()
                let call = try #require(twilio.requests.first { $0.resource == "Calls" })
                #expect(call.value("From") == "+15005550006" && call.value("To") == "+6281234567890")
                #expect(call.value("StatusCallback") == Self.publicURL + "/v1/callbacks/twilio/call")
                #expect(call.values("StatusCallbackEvent") == ["initiated", "ringing", "answered", "completed"])
                let twiml = try #require(call.value("Twiml"))
                #expect(twiml.components(separatedBy: "<Say language=\"id-ID\">").count == 3, "said twice in Indonesian: \(twiml)")
                let match = twiml.firstMatch(of: /(\d, ){5}\d/)
                let digits = try #require(match.map { String(twiml[$0.range]) }, "digits spoken one by one: \(twiml)")
                let code = digits.replacingOccurrences(of: ", ", with: "")

                let read = try await client.get("/v1/verifications/\(id)")
                let deliveryID = try #require(read["deliveries"]?.arrayValue?.first?.objectValue?["id"]?.stringValue)
                let sid = try #require(try await harness.system.store.delivery(id: deliveryID)?.providerMessageID)
                for state in ["initiated", "ringing", "in-progress", "completed"] {
                    let params = [("AccountSid", twilio.accountSID), ("CallSid", sid), ("CallStatus", state), ("Direction", "outbound-api"), ("To", "+6281234567890")]
                    #expect(try await callback(client, twilio, "/v1/callbacks/twilio/call", params).status == 204)
                }
                let after = try await client.get("/v1/verifications/\(id)")
                #expect(after["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "delivered")
                #expect(try await client.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)["valid"] == .bool(true))
            }
        }
    }

    @Test("an undelivered SMS falls back to a call at once; a number Twilio calls not a mobile is undeliverable and the plan moves on")
    func failures() async throws {
        let twilio = FakeTwilio(refusals: ["+6281298765432": (21614, 400)])
        try await twilio.serve { api in
            let harness = try await harness(twilio, api: api)
            try await harness.run { client in
                let id = try await client.start(purpose: "login")
                try await client.deliver()
                let read = try await client.get("/v1/verifications/\(id)")
                let deliveryID = try #require(read["deliveries"]?.arrayValue?.first?.objectValue?["id"]?.stringValue)
                let sid = try #require(try await harness.system.store.delivery(id: deliveryID)?.providerMessageID)
                let params = [("MessageSid", sid), ("MessageStatus", "undelivered"), ("ErrorCode", "30003"), ("AccountSid", twilio.accountSID)]
                #expect(try await callback(client, twilio, "/v1/callbacks/twilio/status", params).status == 204)
                try await client.deliver()
                let after = try await client.get("/v1/verifications/\(id)")
                let deliveries = after["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
                #expect(deliveries.map { $0["channel"]?.stringValue } == ["sms", "voice"], "\(after.text)")
                #expect(deliveries.first?["status"] == "failed")
                #expect(twilio.requests.filter { $0.resource == "Calls" }.count == 1)

                let refused = try await client.start("+6281298765432", purpose: "login")
                try await client.deliver()
                let second = try await client.get("/v1/verifications/\(refused)")
                let steps = second["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
                #expect(steps.first?["status"] == "undeliverable" && steps.last?["channel"] == "voice", "\(second.text)")
            }
        }
    }

    @Test("outcome and status mappings; a bad account or sender refuses to start")
    func mappingsAndConfiguration() async throws {
        #expect(TwilioProvider.outcome(status: 429, code: 20429) == .transient("twilio: too many requests"))
        #expect(TwilioProvider.outcome(status: 400, code: 21614) == .undeliverable("twilio: code 21614"))
        #expect(TwilioProvider.outcome(status: 503, code: nil) == .transient("twilio: http 503"))
        #expect(TwilioProvider.outcome(status: 401, code: 20003) == .failed("twilio: http 401 code 20003"))
        #expect(TwilioProvider.status(ofMessage: "queued") == nil && TwilioProvider.status(ofMessage: "undelivered") == .failed)
        #expect(TwilioProvider.status(ofCall: "no-answer") == .failed && TwilioProvider.status(ofCall: "completed") == .delivered)
        #expect(TwilioProvider.isValidSender("ACME Bank") && !TwilioProvider.isValidSender("123456") && !TwilioProvider.isValidSender("TWELVE CHARS"))
        let bad = try await SandiConfiguration.load(overrides: [
            "sandi.twilio.account_sid": "AC123", "sandi.twilio.from": "not a valid sender!", "sandi.public_url": "otp.example.com",
        ], environment: [:])
        let problems = bad.startupProblems.joined(separator: "\n")
        for expected in ["sandi.twilio.account_sid", "sandi.twilio.auth_token", "sandi.twilio.from", "sandi.public_url"] {
            #expect(problems.contains(expected), "\(expected) in \(problems)")
        }
    }
}
