import Foundation
import HummingbirdTesting
import SandiApp
import SandiCore
import SandiProviders
import Synchronization
import Testing

/// Sandi with a WhatsApp Business account configured, against a fake Meta Graph API on loopback:
/// the public API in, authentication templates out, signed status webhooks back into Sandi's real
/// HTTP server, over a real SQLite file and a manual clock.
@Suite("WhatsApp Cloud API, end to end")
struct WhatsAppProviderTests {
    static let phoneNumberID = "106540352242922"
    static let token = "EAAGtest-whatsapp-token-1"
    static let secret = "new-app-secret-2026"
    static let oldSecret = "old-app-secret-2025"
    static let verifyToken = "verify-me-7f3a"

    static func overrides(apiBase: String) -> [String: String] {
        [
            "sandi.plan": "whatsapp:40,sms:45",
            "sandi.whatsapp.phone_number_id": phoneNumberID,
            "sandi.whatsapp.token": token,
            "sandi.whatsapp.template": "sandi_otp",
            "sandi.whatsapp.api_base": apiBase,
            "sandi.whatsapp.app_secrets": "\(secret),\(oldSecret)",
            "sandi.whatsapp.verify_token": verifyToken,
        ]
    }

    static func fake() -> FakeGraphAPI { FakeGraphAPI(tokens: [phoneNumberID: token], appSecret: secret) }

    /// Runs `body` against Sandi's live HTTP server (Meta's fake posts webhooks to it) with the
    /// WhatsApp account pointed at `fake`; passes the client, the harness and the callback URL.
    func withSandi(_ fake: FakeGraphAPI, extra: [String: String] = [:],
                   _ body: @Sendable (APIClient, APIHarness, String) async throws -> Void) async throws {
        try await fake.serve { apiBase in
            let harness = try await APIHarness.make(overrides: Self.overrides(apiBase: apiBase).merging(extra) { $1 })
            do {
                try await harness.system.application().test(.live) { client in
                    let port = try #require(client.port)
                    try await body(APIClient(client: client, key: harness.key, harness: harness), harness, "http://localhost:\(port)/v1/callbacks/whatsapp")
                }
            } catch {
                try? await harness.system.close()
                await harness.remove()
                throw error
            }
            #expect(!harness.logs.text.contains(Self.token) && !harness.logs.text.contains(Self.secret), "no secret in the logs")
            try await harness.system.close()
            await harness.remove()
        }
    }

    func deliveries(_ answer: Answer) -> [[String: JSONValue]] { answer["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? [] }

    func events(_ answer: Answer, _ type: String) -> [[String: JSONValue]] {
        answer["events"]?.arrayValue?.compactMap(\.objectValue).filter { $0["type"]?.stringValue == type } ?? []
    }

    func webhook(_ harness: APIHarness) throws -> WhatsAppWebhook {
        try #require(harness.system.callbacks.first { $0.route == "whatsapp" } as? WhatsAppWebhook)
    }

    @Test("a code goes out as the authentication template (code in body and button, language of the locale, our delivery id); sent and delivered webhooks mark it delivered; the code checks")
    func endToEnd() async throws {
        let fake = Self.fake()
        try await withSandi(fake) { api, _, callback in
            let started = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"login","channel":"whatsapp","locale":"id"}"#)
            #expect(started.status == 201, "\(started.text)")
            let id = try #require(started["id"]?.stringValue)
            try await api.deliver()

            #expect(fake.problems.withLock { $0 }.isEmpty, "\(fake.problems.withLock { $0 })")
            let sent = try #require(fake.sent.withLock { $0 }.first)
            #expect(sent.version == "v22.0" && sent.phoneNumberID == Self.phoneNumberID && sent.to == "+6281234567890")
            #expect(sent.template == "sandi_otp" && sent.language == "id")
            #expect(sent.code.count == 6 && sent.code.allSatisfy(\.isNumber))
            var read = try await api.get("/v1/verifications/\(id)")
            let delivery = try #require(deliveries(read).first)
            #expect(delivery["channel"] == "whatsapp" && delivery["provider"] == "whatsapp" && delivery["status"] == "sent")
            #expect(sent.callbackData == delivery["id"]?.stringValue, "biz_opaque_callback_data carries the delivery id")

            let first = try await fake.post(FakeGraphAPI.statusBody([.init(wamid: sent.wamid, status: "sent", callbackData: sent.callbackData)]), to: callback)
            #expect(first.status == 200)
            let second = try await fake.post(FakeGraphAPI.statusBody([.init(wamid: sent.wamid, status: "delivered", callbackData: sent.callbackData)]), to: callback)
            #expect(second.status == 200)
            read = try await api.get("/v1/verifications/\(id)?include=events")
            #expect(deliveries(read).first?["status"] == "delivered")
            #expect(deliveries(read).first?["delivered_at"] != .null)
            #expect(events(read, "delivery.delivered").count == 1 && events(read, "delivery.sent").count == 1)
            #expect(events(read, "delivery.fallback").isEmpty)

            let checked = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(sent.code)"}"#)
            #expect(checked["valid"] == .bool(true), "\(checked.text)")
        }
    }

    @Test("a failed status with 131026 makes the delivery undeliverable and falls back to SMS at once; the number's next verification skips WhatsApp")
    func notOnWhatsAppFallsBack() async throws {
        let fake = Self.fake()
        try await withSandi(fake) { api, _, callback in
            let to = "+6281234567891"
            let id = try await api.start(to)
            try await api.deliver()
            let sent = try #require(fake.sent.withLock { $0 }.first)
            #expect(deliveries(try await api.get("/v1/verifications/\(id)")).map { $0["channel"] } == ["whatsapp"])

            let failed = FakeGraphAPI.statusBody([.init(wamid: sent.wamid, status: "failed", errorCode: 131026, callbackData: sent.callbackData, recipient: "6281234567891")])
            #expect(try await fake.post(failed, to: callback).status == 200)
            var read = try await api.get("/v1/verifications/\(id)?include=events")
            #expect(deliveries(read).first?["status"] == "undeliverable")
            #expect(events(read, "delivery.failed").first?["data"]?.objectValue?["undeliverable"] == .bool(true))

            // No clock moves: the receipt made the plan's next step due now.
            let code = try await api.code(to: to)
            #expect(code == sent.code, "the SMS carries the same code")
            read = try await api.get("/v1/verifications/\(id)?include=events")
            #expect(deliveries(read).map { $0["channel"] } == ["whatsapp", "sms"])
            #expect(events(read, "delivery.fallback").count == 1)

            let next = try await api.start(to)
            try await api.deliver()
            read = try await api.get("/v1/verifications/\(next)?include=events")
            #expect(deliveries(read).first?["channel"] == "sms", "WhatsApp is remembered as unusable for this number")
            let skipped = events(read, "verification.created").first?["data"]?.objectValue?["skipped_channels"]
            #expect(skipped == .array(["whatsapp"]))
            #expect(fake.sent.withLock { $0 }.count == 1, "no second template to that number")
        }
    }

    @Test("Graph errors are classified by error.code: 131026 undeliverable, 190 and 131056 fall back at once, 130429 is tried again later")
    func synchronousErrors() async throws {
        let fake = Self.fake()
        try await withSandi(fake) { api, harness, _ in
            fake.fail("+6281234567892", with: .notOnWhatsApp)
            fake.fail("+6281234567893", with: .expiredToken)
            fake.fail("+6281234567894", with: .pairLimit)
            fake.fail("+6281234567895", with: .throttled)
            let notOn = try await api.start("+6281234567892")
            let token = try await api.start("+6281234567893")
            let pair = try await api.start("+6281234567894")
            let throttled = try await api.start("+6281234567895")
            try await api.deliver()

            for (id, status) in [(notOn, "undeliverable"), (token, "failed"), (pair, "failed")] {
                let read = try await api.get("/v1/verifications/\(id)")
                #expect(deliveries(read).map { $0["channel"] } == ["whatsapp", "sms"], "\(status): fell back at once")
                #expect(deliveries(read).first?["status"] == .string(status))
            }
            #expect(harness.logs.text.contains("whatsapp: the account was refused"), "an expired token is logged for the operator")
            var read = try await api.get("/v1/verifications/\(throttled)")
            #expect(deliveries(read).map { $0["status"] } == ["queued"], "throttled: waits and tries the same step again")

            fake.fail("+6281234567895", with: nil)
            harness.clock.advance(by: 5)
            try await api.deliver()
            read = try await api.get("/v1/verifications/\(throttled)")
            #expect(deliveries(read).map { $0["status"] } == ["sent"])
            let next = try await api.start("+6281234567892")
            try await api.deliver()
            #expect(deliveries(try await api.get("/v1/verifications/\(next)")).first?["channel"] == "sms", "131026 at send time is remembered too")
            #expect(fake.problems.withLock { $0 }.isEmpty)
        }
    }

    @Test("webhooks are authenticated: forged or unsigned ones get 403 problem+json and change nothing; the old secret still works while rotating; signed garbage is 400; unknown messages are acknowledged")
    func signatures() async throws {
        let fake = Self.fake()
        try await withSandi(fake) { api, _, callback in
            let id = try await api.start("+6281234567896")
            try await api.deliver()
            let sent = try #require(fake.sent.withLock { $0 }.first)
            let before = try await api.get("/v1/verifications/\(id)?include=events")
            let delivered = FakeGraphAPI.statusBody([.init(wamid: sent.wamid, status: "delivered")])

            let forged = try await fake.post(delivered, to: callback, secret: "not-the-app-secret")
            #expect(forged.status == 403 && forged.contentType?.hasPrefix("application/problem+json") == true, "\(forged)")
            #expect(Answer(status: forged.status, headers: .init(fields: [:]), text: forged.text).code == "invalid_signature")
            let tampered = try await fake.post(delivered, to: callback,
                                               signature: FakeGraphAPI.signature(FakeGraphAPI.statusBody([.init(wamid: sent.wamid, status: "sent")]), secret: Self.secret))
            #expect(tampered.status == 403, "a signature of other bytes")
            #expect(try await fake.post(delivered, to: callback, signature: "").status == 403)
            #expect(try await fake.post(delivered, to: callback, signature: "sha1=" + String(repeating: "0", count: 40)).status == 403)
            #expect(try await api.get("/v1/verifications/\(id)?include=events").json == before.json, "nothing changed")

            let garbage = Data("{\"object\":\"whatsapp_business_account\",\"entry\":[".utf8)
            #expect(try await fake.post(garbage, to: callback).status == 400)
            let unknown = FakeGraphAPI.statusBody([.init(wamid: "wamid.UNKNOWN0000", status: "delivered")])
            #expect(try await fake.post(unknown, to: callback).status == 200)
            #expect(try await api.get("/v1/verifications/\(id)?include=events").json == before.json)

            let rotated = try await fake.post(delivered, to: callback, secret: Self.oldSecret)
            #expect(rotated.status == 200, "signed with the previous app secret, still listed")
            #expect(deliveries(try await api.get("/v1/verifications/\(id)")).first?["status"] == "delivered")
        }
    }

    @Test("the subscription handshake answers the challenge for the configured verify token only")
    func handshake() async throws {
        let fake = Self.fake()
        try await withSandi(fake) { _, _, callback in
            let good = try await fake.handshake(callback, verifyToken: Self.verifyToken, challenge: "1158201444")
            #expect(good.status == 200 && good.text == "1158201444")
            #expect(try await fake.handshake(callback, verifyToken: "guess", challenge: "1158201444").status == 403)
            #expect(try await fake.handshake(callback, verifyToken: Self.verifyToken + "x", challenge: "1").status == 403)
            #expect(try await fake.handshake(callback, mode: "unsubscribe", verifyToken: Self.verifyToken, challenge: "1").status == 403)
            #expect(try await fake.handshake(callback, verifyToken: Self.verifyToken, challenge: "%3Cscript%3E").status == 403, "only a plain token is echoed")
        }
    }

    @Test("a redelivered webhook is skipped without store work and adds no event; a batch out of order (read before delivered) ends read with one event each")
    func duplicates() async throws {
        let fake = Self.fake()
        try await withSandi(fake) { api, harness, callback in
            let webhook = try webhook(harness)
            let id = try await api.start("+6281234567897")
            try await api.deliver()
            let sent = try #require(fake.sent.withLock { $0 }.first)

            let delivered = FakeGraphAPI.statusBody([.init(wamid: sent.wamid, status: "delivered")])
            #expect(try await fake.post(delivered, to: callback).status == 200)
            let after = try await api.get("/v1/verifications/\(id)?include=events")
            #expect(webhook.duplicatesSkipped == 0)
            #expect(try await fake.post(delivered, to: callback).status == 200)
            #expect(webhook.duplicatesSkipped == 1, "the redelivery was recognised before any store work")
            #expect(try await api.get("/v1/verifications/\(id)?include=events").json == after.json, "nothing changed")
            #expect(events(after, "delivery.delivered").count == 1)

            let other = try await api.start("+6281234567898")
            try await api.deliver()
            let second = try #require(fake.sent.withLock { $0 }.last)
            let batch = FakeGraphAPI.statusBody([
                .init(wamid: second.wamid, status: "read"), .init(wamid: second.wamid, status: "delivered"),
                .init(wamid: second.wamid, status: "sent"), .init(wamid: sent.wamid, status: "delivered"),
            ])
            #expect(try await fake.post(batch, to: callback).status == 200)
            let read = try await api.get("/v1/verifications/\(other)?include=events")
            #expect(deliveries(read).first?["status"] == "read")
            #expect(events(read, "delivery.delivered").count == 1 && events(read, "delivery.read").count == 1)
            #expect(webhook.duplicatesSkipped == 2, "the first message's delivered again, in a batch")
        }
    }

    @Test("a status that overtakes its send's answer is answered 503 so Meta retries it, then applies; a stale one for a delivery never sent is ignored")
    func statusBeforeSendAnswer() async throws {
        let fake = Self.fake()
        try await withSandi(fake) { api, harness, callback in
            let id = try await api.start("+6281234567880")
            let queued = try #require(deliveries(try await api.get("/v1/verifications/\(id)")).first?["id"]?.stringValue)
            let early = FakeGraphAPI.statusBody([.init(wamid: "wamid.NOTYETSTORED", status: "sent", callbackData: queued)])
            let answer = try await fake.post(early, to: callback)
            #expect(answer.status == 503 && answer.text.contains("unavailable"), "\(answer)")

            try await api.deliver()
            let sent = try #require(fake.sent.withLock { $0 }.first)
            let retried = FakeGraphAPI.statusBody([.init(wamid: sent.wamid, status: "delivered", callbackData: queued)])
            #expect(try await fake.post(retried, to: callback).status == 200)
            #expect(deliveries(try await api.get("/v1/verifications/\(id)")).first?["status"] == "delivered")

            // A delivery still queued long after it was made (its send never ran): not worth retrying.
            let other = try await api.start("+6281234567881")
            let stuck = try #require(deliveries(try await api.get("/v1/verifications/\(other)")).first?["id"]?.stringValue)
            harness.clock.advance(by: 180)
            let stale = FakeGraphAPI.statusBody([.init(wamid: "wamid.NEVERSENT", status: "sent", callbackData: stuck)])
            #expect(try await fake.post(stale, to: callback).status == 200)
        }
    }

    @Test("tenants' own accounts (by name) send with their number, token, template and languages; others use the default; unknown locales get en_US")
    func tenantAccounts() async throws {
        let fake = FakeGraphAPI(tokens: [Self.phoneNumberID: Self.token, "200000000000002": "EAAGglobex-token"], appSecret: Self.secret)
        let file = NSTemporaryDirectory() + "wa-accounts-" + Identifier.randomBase32(bytes: 4) + ".json"
        try Data(#"{"globex-wa": {"phone_number_id": "200000000000002", "token": "EAAGglobex-token", "template": "globex_login", "languages": {"en": "en_GB"}}}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await withSandi(fake, extra: ["sandi.whatsapp.accounts": file]) { api, harness, _ in
            let globex = try await TenantAdmin(store: harness.system.store, clock: harness.clock).createKey(tenantName: "globex-wa").key
            let body = #"{"to":"+6281234567899","purpose":"login","channel":"whatsapp","locale":"en"}"#
            #expect(try await api.post("/v1/verifications", body, key: globex).status == 201)
            #expect(try await api.post("/v1/verifications", body.replacingOccurrences(of: "99", with: "88")).status == 201)
            #expect(try await api.post("/v1/verifications", body.replacingOccurrences(of: "99", with: "77").replacingOccurrences(of: "\"en\"", with: "\"ne\"")).status == 201)
            try await api.deliver()
            let sent = Dictionary(uniqueKeysWithValues: fake.sent.withLock { $0 }.map { ($0.to, $0) })
            #expect(sent["+6281234567899"].map { [$0.phoneNumberID, $0.template, $0.language] } == ["200000000000002", "globex_login", "en_GB"])
            #expect(sent["+6281234567888"].map { [$0.phoneNumberID, $0.template, $0.language] } == [Self.phoneNumberID, "sandi_otp", "en_US"])
            #expect(sent["+6281234567877"]?.language == "en_US", "Nepali has no template language at Meta")
            #expect(fake.problems.withLock { $0 }.isEmpty)
        }
    }

    @Test("users' messages reach the hook once, parsed (text, sender, profile name), and are not answered")
    func inboundMessages() async throws {
        let harness = try await APIHarness.make()
        let received = Mutex<[WhatsAppInboundMessage]>([])
        let webhook = WhatsAppWebhook(appSecrets: [Self.secret], verifyToken: Self.verifyToken,
                                      recorder: ReceiptRecorder(lookup: harness.system.store, processor: harness.system.worker.processor),
                                      onMessage: { message in received.withLock { $0.append(message) } })
        let body = FakeGraphAPI.textMessageBody(from: "6281234567890", name: "Siti", wamid: "wamid.INBOUND1", text: "halo, kode saya tidak masuk 🙏")
        let request = InboundCallback(method: "POST", url: "https://otp.example.com/v1/callbacks/whatsapp", action: nil, query: [],
                                      headers: ["X-Hub-Signature-256": FakeGraphAPI.signature(body, secret: Self.secret), "Content-Type": "application/json"], body: body)
        let answer = try await webhook.handle(request)
        #expect(answer.status == 200 && answer.body.isEmpty)
        _ = try await webhook.handle(request)
        let messages = received.withLock { $0 }
        #expect(messages.count == 1, "a redelivery does not reach the hook again")
        #expect(messages.first == WhatsAppInboundMessage(
            id: "wamid.INBOUND1", from: "6281234567890", profileName: "Siti", phoneNumberID: "106540352242922",
            timestamp: Date(timeIntervalSince1970: 1_694_427_240), type: "text", text: "halo, kode saya tidak masuk 🙏"))
        await #expect(throws: CallbackRejection.self) {
            try await webhook.handle(InboundCallback(method: "POST", url: "", action: "status", query: [], headers: [:], body: body))
        }
        try await harness.system.close()
        await harness.remove()
    }

    @Test("configuration problems refuse to start: missing token, template, secrets; bad ids, versions, languages and accounts files")
    func configurationProblems() async throws {
        func problems(_ values: [String: String]) async throws -> [String] {
            try await SandiConfiguration.load(overrides: values, environment: [:]).startupProblems
        }
        let complete = Self.overrides(apiBase: "https://graph.facebook.com")
        #expect(try await problems(complete).isEmpty)
        #expect(try await problems([:]).isEmpty, "off without an account")

        var missing = complete
        missing["sandi.whatsapp.token"] = nil
        missing["sandi.whatsapp.app_secrets"] = nil
        missing["sandi.whatsapp.verify_token"] = nil
        let found = try await problems(missing)
        #expect(found.contains { $0.hasPrefix("sandi.whatsapp.token is required") })
        #expect(found.contains { $0.hasPrefix("sandi.whatsapp.app_secrets is required") })
        #expect(found.contains { $0.hasPrefix("sandi.whatsapp.verify_token is required") })
        let directory = NSTemporaryDirectory() + "sandi-wa-" + Identifier.randomBase32(bytes: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var refused = missing
        refused["sandi.data.dir"] = directory
        await #expect(throws: StartupError.self) {
            _ = try await SandiSystem.open(try await SandiConfiguration.load(overrides: refused, environment: [:]), logger: .init(label: "wa-test"))
        }

        let cases: [(String, String, String)] = [
            ("sandi.whatsapp.phone_number_id", "1555-0783881", "sandi.whatsapp.phone_number_id"),
            ("sandi.whatsapp.template", "Sandi OTP", "sandi.whatsapp.template"),
            ("sandi.whatsapp.api_version", "v22", "sandi.whatsapp.api_version"),
            ("sandi.whatsapp.api_base", "graph.facebook.com", "sandi.whatsapp.api_base"),
            ("sandi.whatsapp.timeout_ms", "50", "sandi.whatsapp.timeout_ms"),
            ("sandi.whatsapp.languages", "en=en_GB", "sandi.whatsapp.languages"),
            ("sandi.whatsapp.accounts", "/nonexistent/accounts.json", "sandi.whatsapp.accounts"),
        ]
        for (key, value, prefix) in cases {
            var values = complete
            values[key] = value
            let found = try await problems(values)
            #expect(found.count == 1 && found.first?.hasPrefix(prefix) == true, "\(key)=\(value): \(found)")
        }
        var onlyTemplate = [String: String]()
        onlyTemplate["sandi.whatsapp.template"] = "sandi_otp"
        #expect(try await problems(onlyTemplate).contains { $0.hasPrefix("sandi.whatsapp.phone_number_id") }, "half a configuration is refused, not ignored")
        // Secrets come from the environment too.
        let fromEnvironment = try await SandiConfiguration.load(environment: [
            "SANDI_WHATSAPP_PHONE_NUMBER_ID": Self.phoneNumberID, "SANDI_WHATSAPP_TOKEN": Self.token, "SANDI_WHATSAPP_TEMPLATE": "sandi_otp",
            "SANDI_WHATSAPP_APP_SECRETS": "a, b", "SANDI_WHATSAPP_VERIFY_TOKEN": "123456",
        ])
        #expect(fromEnvironment.startupProblems.isEmpty, "\(fromEnvironment.startupProblems)")
        #expect(fromEnvironment.providers.whatsapp?.appSecrets == ["a", "b"] && fromEnvironment.providers.whatsapp?.verifyToken == "123456")
    }

    @Test("error codes, languages and the webhook signature, without a network")
    func rules() {
        #expect(WhatsAppCloudProvider.outcome(code: 131026) == .undeliverable("whatsapp: error 131026"))
        #expect(WhatsAppCloudProvider.outcome(code: 130497) == .undeliverable("whatsapp: error 130497"))
        for code in [130429, 80007, 4, 131057, 2] {
            guard case .transient = WhatsAppCloudProvider.outcome(code: code) else { Issue.record("\(code) should be tried again"); continue }
        }
        for code in [131056, 131048, 1, 190, 0, 368, 131031, 100, 131009, 132001] {
            guard case .failed = WhatsAppCloudProvider.outcome(code: code) else { Issue.record("\(code) should move the plan on"); continue }
        }
        guard case .failed = WhatsAppCloudProvider.outcome(code: nil) else { Issue.record("no code: failed"); return }

        #expect(WhatsAppLanguages.code(for: "id") == "id" && WhatsAppLanguages.code(for: "en") == "en_US")
        #expect(WhatsAppLanguages.code(for: "zh") == "zh_CN" && WhatsAppLanguages.code(for: "fil") == "fil" && WhatsAppLanguages.code(for: "ms") == "ms")
        #expect(WhatsAppLanguages.code(for: "vi") == "vi" && WhatsAppLanguages.code(for: "th") == "th" && WhatsAppLanguages.code(for: "bn") == "bn")
        #expect(WhatsAppLanguages.code(for: "en-GB") == "en_US" && WhatsAppLanguages.code(for: "km") == "en_US")
        #expect(WhatsAppLanguages.parse("en:en_GB, ne:en_US") == ["en": "en_GB", "ne": "en_US"])
        #expect(WhatsAppLanguages.parse("en:en-GB") == nil && WhatsAppLanguages.parse("en") == nil)

        // The fake's signature agrees with Sandi's (and with RFC 4231 test case 2).
        let body = FakeGraphAPI.statusBody([.init(wamid: "wamid.X", status: "sent")])
        #expect(FakeGraphAPI.signature(body, secret: "s") == WhatsAppSignature.header(body: body, secret: "s"))
        #expect(FakeGraphAPI.signature(Data("what do ya want for nothing?".utf8), secret: "Jefe")
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")

        let notification = try? WhatsAppNotification.parse(FakeGraphAPI.statusBody([
            .init(wamid: "wamid.A", status: "failed", errorCode: 131026, callbackData: "dlv_1"), .init(wamid: "wamid.A", status: "failed", errorCode: 131049),
            .init(wamid: "wamid.B", status: "deleted"),
        ]))
        #expect(notification?.statuses.map(\.deliveryStatus) == [.undeliverable, .failed, nil])
        #expect(notification?.statuses.first?.callbackData == "dlv_1")
    }
}
