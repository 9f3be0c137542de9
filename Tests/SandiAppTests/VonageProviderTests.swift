import _CryptoExtras
import Foundation
import HTTPTypes
import Logging
import SandiApp
import SandiCore
import SandiProviders
import SandiTesting
import Testing

/// Sandi with Vonage as its SMS and voice provider, against the fake Vonage over loopback: the
/// public API in, the SMS API and the Voice API out, signed receipts and call events back through
/// `/v1/callbacks/vonage/…`, on a real SQLite file with a manual clock.
@Suite("Vonage SMS and voice, end to end")
struct VonageProviderTests {
    static let signatureSecret = "vonage-signature-secret-0123456789abcdef"
    static let publicURL = "https://otp.example.com"

    /// Runs `body` against Sandi configured for the fake (`sandi.plan` = `plan`).
    func withVonage(plan: String = "sms:30,voice", smsStatuses: [String: Int] = [:], callRefusals: [String: Int] = [:],
                    _ body: @Sendable (APIClient, FakeVonage) async throws -> Void) async throws {
        let clock = ManualClock()
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let fake = FakeVonage(publicKey: key.publicKey, signatureSecret: Self.signatureSecret, smsStatuses: smsStatuses,
                              callRefusals: callRefusals, now: { clock.now })
        try await fake.serve { root in
            let directory = NSTemporaryDirectory() + "sandi-vonage-" + Identifier.randomBase32(bytes: 6)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // Vonage hands out the application's key as PKCS #8.
            let keyFile = directory + "/vonage-private.key"
            try Data(key.pkcs8PEMRepresentation.utf8).write(to: URL(fileURLWithPath: keyFile))
            let harness = try await APIHarness.make(simulator: false, directory: directory, clock: clock, overrides: [
                "sandi.public_url": Self.publicURL, "sandi.plan": plan,
                "sandi.vonage.api_key": fake.apiKey, "sandi.vonage.api_secret": fake.apiSecret, "sandi.vonage.from": "ACME",
                "sandi.vonage.signature_secret": Self.signatureSecret,
                "sandi.vonage.application_id": fake.applicationID, "sandi.vonage.private_key_file": keyFile, "sandi.vonage.voice_from": "+6221500500",
                "sandi.vonage.rest_base": root, "sandi.vonage.api_base": root,
            ])
            #expect(harness.system.configuration.startupProblems.isEmpty, "\(harness.system.configuration.startupProblems)")
            try await harness.run { api in try await body(api, fake) }
        }
    }

    // MARK: End to end

    @Test("SMS: the SMS API gets the key and secret, the branded sender, the number without +, GSM text, the code's validity, our delivery id and the receipt URL; forged, tampered, unsigned or stale receipts are refused and change nothing; a signed delivered receipt (twice) delivers once; the code checks")
    func smsDelivered() async throws {
        try await withVonage { api, fake in
            let id = try await api.start("+6281234567890", purpose: "login", extra: #","locale":"id""#)
            try await api.deliver()
            let sent = try #require(fake.sms.withLock { $0.first })
            let fields = sent.fields
            #expect(sent.contentType.hasPrefix("application/x-www-form-urlencoded"))
            #expect(fields["api_key"] == fake.apiKey && fields["api_secret"] == fake.apiSecret)
            #expect(fields["from"] == "ACME" && fields["to"] == "6281234567890" && fields["type"] == "text")
            #expect(fields["callback"] == Self.publicURL + "/v1/callbacks/vonage/dlr" && fields["status-report-req"] == "1")
            let ttl = try #require(fields["ttl"].flatMap(Int.init))
            #expect(ttl % 1000 == 0 && (20_000...600_000).contains(ttl), "the code's remaining life in ms: \(ttl)")
            let text = try #require(fields["text"])
            let code = try #require(text.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init), "\(text)")

            let delivery = try #require(try await api.get("/v1/verifications/\(id)")["deliveries"]?.arrayValue?.first?.objectValue)
            let deliveryID = try #require(delivery["id"]?.stringValue)
            #expect(delivery["provider"] == "vonage" && delivery["channel"] == "sms" && delivery["status"] == "sent")
            #expect(fields["client-ref"] == deliveryID)
            let messageID = try #require(sent.ids.first)
            #expect(try await api.harness.system.store.delivery(id: deliveryID)?.providerMessageID == messageID)

            // Refused: signed with another secret, changed after signing, unsigned, too old.
            let forged = fake.receipt(messageID: messageID, to: "6281234567890", status: "delivered", secret: "not-the-signature-secret")
            #expect(try await dlr(api, forged, as: .query).status == 403)
            var tampered = fake.receipt(messageID: messageID, to: "6281234567890", status: "failed")
            tampered = tampered.map { $0.0 == "status" ? ("status", "delivered") : $0 }
            #expect(try await dlr(api, tampered, as: .form).status == 403)
            let unsigned = fake.receipt(messageID: messageID, to: "6281234567890", status: "delivered").filter { $0.0 != "sig" }
            #expect(try await dlr(api, unsigned, as: .json).status == 403)
            let stale = fake.receipt(messageID: messageID, to: "6281234567890", status: "delivered", at: api.harness.clock.now.addingTimeInterval(-600))
            #expect(try await dlr(api, stale, as: .query).status == 403)
            var read = try await api.get("/v1/verifications/\(id)?include=events")
            #expect(read["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "sent", "nothing changed")
            #expect(!(read["events"]?.arrayValue ?? []).contains { $0.objectValue?["type"] == "delivery.delivered" })

            // Signed, in the query as a GET (with `+` for spaces), twice.
            let receipt = fake.receipt(messageID: messageID, to: "6281234567890", status: "delivered", clientRef: deliveryID)
            #expect(try await dlr(api, receipt, as: .query).status == 200)
            #expect(try await dlr(api, receipt, as: .query).status == 200)
            read = try await api.get("/v1/verifications/\(id)?include=events")
            #expect(read["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "delivered")
            #expect(read["events"]?.arrayValue?.filter { $0.objectValue?["type"] == "delivery.delivered" }.count == 1, "one delivered event for two receipts")
            // A receipt for a message Sandi never sent is acknowledged and ignored.
            #expect(try await dlr(api, fake.receipt(messageID: "0C000000FFFFFFFF", to: "6281234567890", status: "delivered"), as: .form).status == 200)

            let checked = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
            #expect(checked["valid"] == true && checked["status"] == "approved")
            #expect(fake.refusals.withLock { $0 }.isEmpty, "\(fake.refusals.withLock { $0 })")
        }
    }

    @Test("voice: the Voice API gets an RS256 token for the application and an NCCO that reads the script slowly in the user's language twice, with the event URL; forged, stale, unbound or missing tokens are refused; signed events move the call to delivered once")
    func voiceDelivered() async throws {
        try await withVonage { api, fake in
            let id = try await api.start("+6281234567890", purpose: "login", extra: #","locale":"id","channel":"voice""#)
            try await api.deliver()
            let call = try #require(fake.calls.withLock { $0.first })
            #expect(call.claims["application_id"]?.stringValue == fake.applicationID)
            let iat = try #require(call.claims["iat"]?.intValue)
            #expect(iat == Int(api.harness.clock.now.timeIntervalSince1970) && call.claims["exp"]?.intValue == iat + 900)
            #expect(call.body["to"] == .array([.object(["type": "phone", "number": "6281234567890"])]))
            #expect(call.body["from"] == .object(["type": "phone", "number": "6221500500"]))
            #expect(call.body["event_url"] == .array([.string(Self.publicURL + "/v1/callbacks/vonage/voice")]) && call.body["event_method"] == "POST")
            let talk = try #require(call.body["ncco"]?.arrayValue?.first?.objectValue)
            #expect(talk["action"] == "talk" && talk["language"] == "id-ID" && talk["loop"] == 2)
            let text = try #require(talk["text"]?.stringValue)
            #expect(text.hasPrefix("<speak><prosody rate='slow'>") && text.hasSuffix("<break time='1s'/></speak>"), "\(text)")

            let delivery = try #require(try await api.get("/v1/verifications/\(id)")["deliveries"]?.arrayValue?.first?.objectValue)
            #expect(delivery["provider"] == "vonage" && delivery["channel"] == "voice" && delivery["status"] == "sent")
            let deliveryID = try #require(delivery["id"]?.stringValue)
            #expect(try await api.harness.system.store.delivery(id: deliveryID)?.providerMessageID == call.uuid)
            // The spoken code is the verification's code.
            let spoken = String(text.filter(\.isNumber).prefix(6))
            #expect(spoken.count == 6)

            let now = api.harness.clock.now
            let forged = fake.callEvent(uuid: call.uuid, status: "answered", secret: "not-the-signature-secret")
            #expect(try await event(api, forged.body, authorization: forged.authorization).status == 403)
            let stale = fake.callEvent(uuid: call.uuid, status: "answered", at: now.addingTimeInterval(-600))
            #expect(try await event(api, stale.body, authorization: stale.authorization).status == 403)
            let unbound = fake.callEvent(uuid: call.uuid, status: "answered", hashOf: #"{"status":"ringing"}"#)
            #expect(try await event(api, unbound.body, authorization: unbound.authorization).status == 403, "payload_hash binds the body")
            let signedForRinging = fake.callEvent(uuid: call.uuid, status: "ringing")
            let swapped = fake.callEvent(uuid: call.uuid, status: "answered").body
            #expect(try await event(api, swapped, authorization: signedForRinging.authorization).status == 403, "a token moved to another body")
            #expect(try await event(api, fake.callEvent(uuid: call.uuid, status: "answered").body, authorization: nil).status == 403)
            var read = try await api.get("/v1/verifications/\(id)?include=events")
            #expect(read["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "sent", "nothing changed")

            for status in ["started", "ringing", "answered", "completed"] {
                let signed = fake.callEvent(uuid: call.uuid, status: status, duration: status == "completed" ? "14" : nil)
                #expect(try await event(api, signed.body, authorization: signed.authorization).status == 200, "\(status)")
            }
            read = try await api.get("/v1/verifications/\(id)?include=events")
            #expect(read["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "delivered")
            #expect(read["events"]?.arrayValue?.filter { $0.objectValue?["type"] == "delivery.delivered" }.count == 1)
            let checked = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(spoken)"}"#)
            #expect(checked["valid"] == true, "the digits read out are the code")
            #expect(fake.refusals.withLock { $0 }.isEmpty, "\(fake.refusals.withLock { $0 })")
        }
    }

    @Test("a failed receipt (JSON) moves the plan to voice at once; an unknown-subscriber receipt marks SMS undeliverable for the number")
    func failedReceiptFallsBack() async throws {
        try await withVonage { api, fake in
            let id = try await api.start("+6281234567890", purpose: "login", extra: #","locale":"en""#)
            try await api.deliver()
            let messageID = try #require(fake.sms.withLock { $0.first?.ids.first })
            let failed = fake.receipt(messageID: messageID, to: "6281234567890", status: "failed", errCode: "8")
            #expect(try await dlr(api, failed, as: .json).status == 200)
            try await api.deliver()
            #expect(fake.calls.withLock { $0.count } == 1, "voice called without waiting for the SMS step's 30 s")
            let deliveries = try await api.get("/v1/verifications/\(id)")["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(deliveries.map { $0["channel"]?.stringValue ?? "" } == ["sms", "voice"])
            #expect(deliveries.first?["status"] == "failed" && deliveries.last?["status"] == "sent")

            let other = try await api.start("+6281234567891", purpose: "login", extra: #","locale":"en""#)
            try await api.deliver()
            let secondID = try #require(fake.sms.withLock { $0.last?.ids.first })
            let unknown = fake.receipt(messageID: secondID, to: "6281234567891", status: "rejected", errCode: "1")
            #expect(try await dlr(api, unknown, as: .form).status == 200)
            try await api.deliver()
            let first = try await api.get("/v1/verifications/\(other)")["deliveries"]?.arrayValue?.first?.objectValue
            #expect(first?["status"] == "undeliverable")
            #expect(fake.calls.withLock { $0.count } == 2)
        }
    }

    @Test("Thai goes with type=unicode, intact; a long text's later part is matched to the delivery by client-ref")
    func unicodeText() async throws {
        try await withVonage { api, fake in
            let id = try await api.start("+66812345678", purpose: "login", extra: #","locale":"th""#)
            try await api.deliver()
            let sent = try #require(fake.sms.withLock { $0.first })
            let text = try #require(sent.fields["text"])
            #expect(sent.fields["type"] == "unicode" && sent.fields["to"] == "66812345678")
            #expect(text.unicodeScalars.contains { (0x0E00...0x0E7F).contains($0.value) }, "Thai script arrived intact: \(text)")
            #expect(!sent.ids.isEmpty)
            let deliveryID = try #require(sent.fields["client-ref"])
            // A receipt naming a part id Sandi did not keep (as for a long text's second part).
            let receipt = fake.receipt(messageID: "PART2-" + (sent.ids.last ?? ""), to: "66812345678", status: "delivered", clientRef: deliveryID)
            #expect(try await dlr(api, receipt, as: .form).status == 200)
            #expect(try await api.get("/v1/verifications/\(id)")["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "delivered")
        }
    }

    @Test("refusals: an unroutable number (status 6) is undeliverable and voice follows at once; throttling (status 1) waits and tries again; a call refused with 429 waits too")
    func sendRefusals() async throws {
        try await withVonage(smsStatuses: ["6281234567001": 6, "6281234567002": 1], callRefusals: ["6281234567003": 429]) { api, fake in
            let unroutable = try await api.start("+6281234567001", purpose: "login", extra: #","locale":"en""#)
            try await api.deliver()
            var deliveries = try await api.get("/v1/verifications/\(unroutable)")["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(deliveries.first?["status"] == "undeliverable" && deliveries.last?["channel"] == "voice" && deliveries.last?["status"] == "sent")

            let throttled = try await api.start("+6281234567002", purpose: "login", extra: #","locale":"en""#)
            try await api.deliver()
            let tries = fake.sms.withLock { $0.filter { $0.fields["to"] == "6281234567002" }.count }
            #expect(tries == 1)
            deliveries = try await api.get("/v1/verifications/\(throttled)")["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(deliveries.count == 1 && deliveries.first?["status"] == "queued", "still waiting to go by SMS")
            api.harness.clock.advance(by: 5)
            try await api.deliver()
            #expect(fake.sms.withLock { $0.filter { $0.fields["to"] == "6281234567002" }.count } == 2, "tried again after the backoff")

            let busy = try await api.start("+6281234567003", purpose: "login", extra: #","locale":"en","channel":"voice""#)
            try await api.deliver()
            deliveries = try await api.get("/v1/verifications/\(busy)")["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(deliveries.count == 1 && deliveries.first?["status"] == "queued" && deliveries.first?["channel"] == "voice")
        }
    }

    @Test("configuration problems refuse to start; environment variables configure both channels")
    func configuration() async throws {
        let directory = NSTemporaryDirectory() + "sandi-vonage-config-" + Identifier.randomBase32(bytes: 6)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyFile = directory + "/private.key", garbage = directory + "/garbage.key"
        try Data(try _RSA.Signing.PrivateKey(keySize: .bits2048).pkcs8PEMRepresentation.utf8).write(to: URL(fileURLWithPath: keyFile))
        try Data("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n".utf8).write(to: URL(fileURLWithPath: garbage))
        func problems(_ overrides: [String: String]) async throws -> [String] {
            try await SandiConfiguration.load(overrides: ["sandi.data.dir": directory].merging(overrides) { $1 }, environment: [:]).startupProblems
        }
        func expect(_ overrides: [String: String], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let found = try await problems(overrides)
            #expect(found.contains { $0.contains(fragment) }, "\(fragment) not in \(found)", sourceLocation: sourceLocation)
        }
        try await expect(["sandi.vonage.api_key": "a1b2c3d4"], "needs both sandi.vonage.api_key and sandi.vonage.api_secret")
        try await expect(["sandi.vonage.application_id": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"], "voice needs all of")
        try await expect(["sandi.vonage.signature_secret": "s"], "neither SMS")
        try await expect(["sandi.vonage.api_key": "a1b2c3d4", "sandi.vonage.api_secret": "x", "sandi.vonage.from": "A sender far too long"], "sandi.vonage.from must be")
        try await expect(["sandi.vonage.api_key": "a1b2c3d4", "sandi.vonage.api_secret": "x", "sandi.vonage.signature_method": "sha3"], "signature_method")
        try await expect(["sandi.vonage.api_key": "a1b2c3d4", "sandi.vonage.api_secret": "x",
                          "sandi.public_url": "https://" + String(repeating: "a", count: 80) + ".example.com"], "at most 100 characters")
        let voice = ["sandi.vonage.application_id": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", "sandi.vonage.voice_from": "+6221500500"]
        try await expect(voice.merging(["sandi.vonage.private_key_file": directory + "/missing.key"]) { $1 }, "cannot be read")
        try await expect(voice.merging(["sandi.vonage.private_key_file": garbage]) { $1 }, "not an RSA private key")
        try await expect(voice.merging(["sandi.vonage.private_key_file": keyFile, "sandi.vonage.application_id": "my-app"]) { $1 }, "application's UUID")
        try await expect(voice.merging(["sandi.vonage.private_key_file": keyFile, "sandi.vonage.voice_from": "Sandi"]) { $1 }, "voice_from must be")
        #expect(try await problems(voice.merging(["sandi.vonage.private_key_file": keyFile]) { $1 }).isEmpty)

        let refused = try await SandiConfiguration.load(overrides: ["sandi.data.dir": directory, "sandi.vonage.api_key": "a1b2c3d4"], environment: [:])
        await #expect(throws: StartupError.self) { _ = try await SandiSystem.open(refused, logger: Logger(label: "vonage-test")) }

        let fromEnvironment = try await SandiConfiguration.load(environment: [
            "SANDI_DATA_DIR": directory, "SANDI_VONAGE_API_KEY": "12345678", "SANDI_VONAGE_API_SECRET": "s3cr3t", "SANDI_VONAGE_FROM": "ACME",
            "SANDI_VONAGE_SIGNATURE_SECRET": "sig", "SANDI_VONAGE_APPLICATION_ID": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
            "SANDI_VONAGE_PRIVATE_KEY_FILE": keyFile, "SANDI_VONAGE_VOICE_FROM": "+6221500500",
        ])
        #expect(fromEnvironment.startupProblems.isEmpty, "\(fromEnvironment.startupProblems)")
        let vonage = try #require(fromEnvironment.providers.vonage)
        #expect(vonage.smsEnabled && vonage.voiceEnabled && vonage.apiKey == "12345678" && vonage.signatureSecret == "sig")
        #expect(vonage.restBase == "https://rest.nexmo.com" && vonage.apiBase == "https://api.nexmo.com")
        #expect(["SANDI_VONAGE_API_SECRET", "SANDI_VONAGE_SIGNATURE_SECRET"].allSatisfy(ProviderSettings.secretVariables.contains))
    }

    // MARK: Formats

    @Test("sig: the SDK's md5hash vector, HMAC methods, & and = in values; constant-time check of any case")
    func signatures() {
        // vonage-python-sdk tests: a=1, b=2, timestamp=1461605396 with secret "secret", md5hash.
        let params = ["a": "1", "b": "2", "timestamp": "1461605396"]
        #expect(VonageSignature.compute(params, secret: "secret", method: .md5hash) == "6af838ef94998832dbfc29020b564830")
        let signed = params.merging(["sig": "6AF838EF94998832DBFC29020B564830"]) { $1 }
        #expect(VonageSignature.isValid(signed, secret: "secret", method: .md5hash))
        #expect(!VonageSignature.isValid(signed, secret: "secret", method: .sha256))
        let text = ["text": "a=b&c", "timestamp": "1"]
        #expect(VonageSignature.compute(text, secret: "k", method: .sha256) == VonageSignature.compute(["text": "a_b_c", "timestamp": "1"], secret: "k", method: .sha256))
        #expect(VonageSignature.compute(text, secret: "k", method: .sha256) == FakeVonage.sign(text, secret: "k"), "the fake's own signer agrees")
        #expect(Set(VonageSignature.Method.allCases.map { VonageSignature.compute(params, secret: "secret", method: $0) }).count == 5)
    }

    @Test("answers: per-message status codes, partial multipart sends, HTTP faults; receipt and call states")
    func outcomes() throws {
        func answer(_ statuses: [String]) -> Data {
            let parts = statuses.enumerated().map { #"{"status":"\#($1)","message-id":"ID\#($0)"}"# }
            return Data(#"{"message-count":"\#(statuses.count)","messages":[\#(parts.joined(separator: ","))]}"#.utf8)
        }
        #expect(try VonageSMSProvider.acceptance(status: 200, body: answer(["0", "0"])).providerMessageID == "ID0")
        #expect(throws: ProviderError.transient("vonage: throttled (status 1)")) { try VonageSMSProvider.acceptance(status: 200, body: answer(["1"])) }
        #expect(throws: ProviderError.undeliverable("vonage: unroutable number (status 6)")) { try VonageSMSProvider.acceptance(status: 200, body: answer(["6"])) }
        #expect(throws: ProviderError.failed("vonage: status 4")) { try VonageSMSProvider.acceptance(status: 200, body: answer(["4"])) }
        #expect(throws: ProviderError.failed("vonage: only some parts accepted (status 1)")) { try VonageSMSProvider.acceptance(status: 200, body: answer(["0", "1"])) }
        #expect(throws: ProviderError.transient("vonage: too many requests")) { try VonageSMSProvider.acceptance(status: 429, body: Data()) }
        #expect(throws: ProviderError.transient("vonage: http 503")) { try VonageSMSProvider.acceptance(status: 503, body: Data()) }
        #expect(throws: ProviderError.failed("vonage: http 401")) { try VonageSMSProvider.acceptance(status: 401, body: Data(#"{"Error":"Authentication Failed"}"#.utf8)) }
        for code in [5, 10] { guard case .transient = VonageSMSProvider.outcome(status: code) else { Issue.record("\(code)"); continue } }
        for code in [7, 33] { guard case .undeliverable = VonageSMSProvider.outcome(status: code) else { Issue.record("\(code)"); continue } }
        for code in [2, 3, 8, 9, 15, 29] { guard case .failed = VonageSMSProvider.outcome(status: code) else { Issue.record("\(code)"); continue } }

        #expect(VonageSMSProvider.status(ofReceipt: "delivered", errorCode: "0") == .delivered)
        #expect(["accepted", "buffered"].allSatisfy { VonageSMSProvider.status(ofReceipt: $0, errorCode: "0") == .sent })
        #expect(["expired", "failed", "rejected"].allSatisfy { VonageSMSProvider.status(ofReceipt: $0, errorCode: "8") == .failed })
        #expect(["1", "3", "9"].allSatisfy { VonageSMSProvider.status(ofReceipt: "failed", errorCode: $0) == .undeliverable })
        #expect(VonageSMSProvider.status(ofReceipt: "unknown", errorCode: nil) == nil)

        #expect(["started", "ringing"].allSatisfy { VonageVoiceProvider.status(ofCall: $0) == .sent })
        #expect(["answered", "completed"].allSatisfy { VonageVoiceProvider.status(ofCall: $0) == .delivered })
        #expect(VonageVoiceProvider.status(ofCall: "completed", duration: "0") == nil, "nothing was heard")
        #expect(["busy", "failed", "rejected", "timeout", "unanswered", "cancelled"].allSatisfy { VonageVoiceProvider.status(ofCall: $0) == .failed })
        #expect(VonageVoiceProvider.status(ofCall: "machine") == nil)
        #expect(VonageVoiceProvider.outcome(status: 429, title: "Too Many Requests") == .transient("vonage: http 429 Too Many Requests"))
        #expect(VonageVoiceProvider.outcome(status: 401, title: "Unauthorized") == .failed("vonage: http 401 Unauthorized"))
        #expect(VonageVoiceProvider.speech("Kode <1> & 2") == "<speak><prosody rate='slow'>Kode &lt;1&gt; &amp; 2</prosody><break time='1s'/></speak>")
    }

    // MARK: Helpers

    enum Encoding { case query, form, json }

    /// Posts (or gets) a delivery receipt the way Vonage may send it.
    func dlr(_ api: APIClient, _ params: [(String, String)], as encoding: Encoding) async throws -> Answer {
        switch encoding {
        case .query:
            return try await api.request(.get, "/v1/callbacks/vonage/dlr?" + Self.formEncoded(params), key: "")
        case .form:
            return try await api.request(.post, "/v1/callbacks/vonage/dlr", body: Self.formEncoded(params), key: "",
                                         headers: ["Content-Type": "application/x-www-form-urlencoded"])
        case .json:
            let object = JSONValue.object(Dictionary(params.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { $1 }))
            return try await api.request(.post, "/v1/callbacks/vonage/dlr", body: String(decoding: try JSONEncoder().encode(object), as: UTF8.self), key: "")
        }
    }

    /// Posts a call event with its `Authorization`.
    func event(_ api: APIClient, _ body: String, authorization: String?) async throws -> Answer {
        try await api.request(.post, "/v1/callbacks/vonage/voice", body: body, key: "", headers: authorization.map { ["Authorization": $0] } ?? [:])
    }

    /// Form encoding as browsers and Vonage write it: spaces as `+`.
    static func formEncoded(_ params: [(String, String)]) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~ ")
        func encode(_ s: String) -> String { (s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s).replacingOccurrences(of: " ", with: "+") }
        return params.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }
}
