import Foundation
import HTTPTypes
import Logging
import SandiApp
import SandiCore
import SandiSQLite
import Testing

@Suite("HTTP API: validation, auth, idempotency, operations")
struct ProtocolAPITests {
    @Test("requests without a valid key are 401 problem+json")
    func unauthorized() async throws {
        try await APIHarness.make().run { api in
            for key in ["", "   ", "\t", "sandi_wrong", " sandi_wrong ", String(repeating: "x", count: 300)] {
                let answer = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"login"}"#, key: key)
                #expect(answer.status == 401 && answer.code == "unauthorized")
                #expect(answer.headers["Content-Type"] == "application/problem+json")
            }
            // Spaces and tabs around the key are optional whitespace, not part of it.
            let padded = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"login"}"#, key: " \t" + api.key + "\t ")
            #expect(padded.status == 201)
            // A body may start with a UTF-8 byte order mark and whitespace before its object.
            let marked = try await api.post("/v1/verifications", "\u{FEFF} \n" + #"{"to":"+6281234567891","purpose":"login"}"#)
            #expect(marked.status == 201)
        }
    }

    @Test("bodies: not JSON or not an object is 400; bad fields are 422 with the specific code; over 16 KiB is 413")
    func validation() async throws {
        try await APIHarness.make().run { api in
            for body in ["", "nope", "[1,2]", "\"text\"", "{\"to\":", "null"] {
                let answer = try await api.post("/v1/verifications", body)
                #expect(answer.status == 400 && answer.code == "invalid_request", "body \(body)")
            }
            let cases: [(String, String, String)] = [
                (#"{"purpose":"login"}"#, "invalid_phone_number", "to"),
                (#"{"to":6281234567890,"purpose":"login"}"#, "invalid_phone_number", "to"),
                (#"{"to":"+62812","purpose":"login"}"#, "invalid_phone_number", "to"),
                (#"{"to":"081234567890","purpose":"login"}"#, "invalid_phone_number", "to"),
                (#"{"to":"+6281234567890"}"#, "unsupported_purpose", "purpose"),
                (#"{"to":"+6281234567890","purpose":"bank_heist"}"#, "unsupported_purpose", "purpose"),
                (#"{"to":"+6281234567890","purpose":"login","channel":"fax"}"#, "invalid_request", "channel"),
                (#"{"to":"+6281234567890","purpose":"login","country":"IDN"}"#, "invalid_request", "country"),
                (#"{"to":"+6281234567890","purpose":"login","locale":"!!"}"#, "invalid_request", "locale"),
                (#"{"to":"+6281234567890","purpose":"login","user_ref":7}"#, "invalid_request", "user_ref"),
                (#"{"to":"+6281234567890","purpose":"login","context":"x"}"#, "invalid_request", "context"),
                (#"{"to":"+6281234567890","purpose":"login","context":{"ip":"999.1.1.1"}}"#, "invalid_request", "context.ip"),
                (#"{"to":"+6281234567890","purpose":"login","context":{"app_hash":"short"}}"#, "invalid_request", "context.app_hash"),
            ]
            for (body, code, field) in cases {
                let answer = try await api.post("/v1/verifications", body)
                #expect(answer.status == 422 && answer.code == code, "\(body) → \(answer.text)")
                var fields: [String] = []
                if case .array(let errors)? = answer["errors"] { fields = errors.compactMap { $0.objectValue?["field"]?.stringValue } }
                #expect(fields.contains(field), "\(body): errors name \(field), got \(fields)")
            }
            let huge = "{\"to\":\"" + String(repeating: "1", count: 17_000) + "\"}"
            let tooLarge = try await api.post("/v1/verifications", huge)
            #expect(tooLarge.status == 413 && tooLarge.code == "payload_too_large")
            let noCode = try await api.post("/v1/verifications/check", #"{"to":"+6281234567890","purpose":"login"}"#)
            #expect(noCode.status == 422, "code required")
            let redeem = try await api.post("/v1/grants/redeem", #"{"token":5}"#)
            #expect(redeem.code == "invalid_request")
        }
    }

    @Test("geo permission: 403 destination_not_allowed creates nothing")
    func geoPermission() async throws {
        let harness = try await APIHarness.make()
        let tenant = try #require(try await harness.system.store.tenant(forKeyHash: SecretHash.hex(harness.key)))
        _ = try await harness.system.store.setAllowedCountries(tenantID: tenant.id, countries: ["MY"])
        try await harness.run { api in
            let refused = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"login"}"#)
            #expect(refused.status == 403 && refused.code == "destination_not_allowed")
            let nothing = try await api.post("/v1/verifications/check", #"{"to":"+6281234567890","purpose":"login","code":"123456"}"#)
            #expect(nothing.status == 404, "nothing was created")
            let invalid = try await api.post("/v1/verifications", #"{"to":"+62812","purpose":"login"}"#)
            #expect(invalid.status == 422, "invalid numbers stay 422")
            let allowed = try await api.post("/v1/verifications", #"{"to":"+60123456789","purpose":"login"}"#)
            #expect(allowed.status == 201)
        }
    }

    @Test("too many wrong codes for a destination: 429 rate_limited with Retry-After")
    func rateLimited() async throws {
        try await APIHarness.make().run { api in
            for _ in 0..<2 {
                let id = try await api.start()
                for _ in 0..<5 { _ = try await api.post("/v1/verifications/\(id)/check", #"{"code":"0000001"}"#) }
            }
            let limited = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"password_reset"}"#)
            #expect(limited.status == 429 && limited.code == "rate_limited" && limited["limit"] == "failed_checks_per_destination")
            #expect(limited["retry_after_s"] == 86_400 && limited.headers["Retry-After"] == "86400")
            let otherPurpose = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"login"}"#)
            #expect(otherPurpose.status == 201, "counted per purpose")
        }
    }

    @Test("no client input, however malformed, gets a 5xx")
    func noServerErrors() async throws {
        try await APIHarness.make().run { api in
            let id = try await api.start()
            let bodies = [
                "", "{}", "[]", "{\"to\":null,\"purpose\":null}", "{\"to\":{},\"purpose\":[]}", "{\"code\":1e309}", "{\"code\":\"\\u0000\"}",
                String(repeating: "[", count: 5000), "{\"to\":\"+\(String(repeating: "9", count: 39))\",\"purpose\":\"login\"}",
                "{\"to\":\"+6281234567890\",\"purpose\":\"login\",\"context\":{\"ip\":\"::ffff:1.2.3.4\",\"device_id\":\"\\ud800\"}}",
                "{\"token\":\"grt_\(String(repeating: "z", count: 200))\"}", "{\"channel\":\"sms\",\"latency_ms\":-1}", "\u{FEFF}{}",
                String(repeating: "{\"a\":", count: 200) + "1" + String(repeating: "}", count: 200), "{\"code\":\"123456\",}",
            ]
            let paths = ["/v1/verifications", "/v1/verifications/check", "/v1/verifications/\(id)/check", "/v1/verifications/\(id)/resend",
                         "/v1/verifications/\(id)/cancel", "/v1/grants/redeem", "/v1/dev/simulator", "/v1/verifications/%00/check",
                         "/v1/verifications/\(String(repeating: "a", count: 2000))/check"]
            for path in paths {
                for body in bodies {
                    let answer = try await api.post(path, body)
                    #expect(answer.status < 500, "\(path) \(body.prefix(40)) → \(answer.status) \(answer.text)")
                }
            }
            // Nesting past 128 levels is refused as malformed, like any body that is not one JSON object.
            let deep = try await api.post("/v1/verifications", "{\"context\":" + String(repeating: "[", count: 130) + String(repeating: "]", count: 130) + "}")
            #expect(deep.status == 400 && deep.code == "invalid_request", "\(deep.status) \(deep.text)")
            for path in ["/v1/verifications/%zz", "/v1/dev/outbox?to=%2B1&limit=abc", "/v1/dev/outbox?to=garbage", "/v1/verifications/\(id)?include=events,,x"] {
                let answer = try await api.get(path)
                #expect(answer.status < 500, "\(path)")
            }
        }
    }

    @Test("Idempotency-Key: same body replays without sending again; another body is 422; tenant-scoped")
    func idempotency() async throws {
        try await APIHarness.make().run { api in
            let body = #"{"to":"+6281234567890","purpose":"login"}"#
            let first = try await api.post("/v1/verifications", body, headers: ["Idempotency-Key": "k-1"])
            let second = try await api.post("/v1/verifications", body, headers: ["Idempotency-Key": "k-1"])
            #expect(first.status == 201 && second.status == 201 && second.text == first.text)
            #expect(second.headers["Idempotent-Replayed"] == "true" && first.headers["Idempotent-Replayed"] == nil)
            try await api.deliver()
            guard case .array(let messages)? = try await api.get("/v1/dev/outbox?to=%2B6281234567890")["messages"] else { throw TestFailure("outbox") }
            #expect(messages.count == 1, "sent once")
            let reused = try await api.post("/v1/verifications", #"{"to":"+6281234567891","purpose":"login"}"#, headers: ["Idempotency-Key": "k-1"])
            #expect(reused.status == 422 && reused.code == "idempotency_key_reused")
            let otherTenant = try await api.post("/v1/verifications", body, key: api.harness.otherKey, headers: ["Idempotency-Key": "k-1"])
            #expect(otherTenant.status == 201 && otherTenant.headers["Idempotent-Replayed"] == nil, "keys are per tenant")
            // Errors below 500 are replayed too.
            let bad = try await api.post("/v1/verifications", #"{"to":"+62","purpose":"login"}"#, headers: ["Idempotency-Key": "k-2"])
            let badAgain = try await api.post("/v1/verifications", #"{"to":"+62","purpose":"login"}"#, headers: ["Idempotency-Key": "k-2"])
            #expect(bad.status == 422 && badAgain.status == 422 && badAgain.headers["Idempotent-Replayed"] == "true")
            let id = first["id"]?.stringValue ?? ""
            let cancel1 = try await api.post("/v1/verifications/\(id)/cancel", nil, headers: ["Idempotency-Key": "c-1"])
            let cancel2 = try await api.post("/v1/verifications/\(id)/cancel", nil, headers: ["Idempotency-Key": "c-1"])
            #expect(cancel1.status == 200 && cancel2.status == 200 && cancel2.headers["Idempotent-Replayed"] == "true", "replayed instead of 409")
            #expect(try await api.post("/v1/verifications", body, headers: ["Idempotency-Key": String(repeating: "k", count: 300)]).status == 400)
        }
    }

    @Test("the simulator: outage falls back, settings answer, outbox is per tenant; gone when the simulator is off")
    func simulator() async throws {
        try await APIHarness.make().run { api in
            let settings = try await api.post("/v1/dev/simulator", #"{"channel":"whatsapp","outage":true}"#)
            #expect(settings.status == 200)
            #expect(settings["channels"]?.objectValue?["whatsapp"]?.objectValue?["outage"] == true)
            #expect(settings["channels"]?.objectValue?["sms"]?.objectValue?["outage"] == false)
            let id = try await api.start(extra: #","locale":"en""#)
            try await api.deliver()
            let read = try await api.get("/v1/verifications/\(id)?include=events")
            guard case .array(let deliveries)? = read["deliveries"] else { throw TestFailure("deliveries") }
            #expect(deliveries.compactMap { $0.objectValue?["channel"]?.stringValue } == ["whatsapp", "sms"])
            #expect(deliveries.compactMap { $0.objectValue?["status"]?.stringValue } == ["failed", "delivered"])
            #expect(read["channel"] == "sms")
            let code = try await api.code()
            let outbox = try await api.get("/v1/dev/outbox?to=%2B6281234567890")
            guard case .array(let messages)? = outbox["messages"], case .object(let message)? = messages.first else { throw TestFailure("outbox") }
            #expect(message["channel"] == "sms" && message["to"] == "+6281234567890" && message["code"]?.stringValue == code)
            let text = message["text"]?.stringValue ?? ""
            #expect(text.contains(code) && text.contains("Never share this code"), "the real message text: \(text)")
            let foreignOutbox = try await api.get("/v1/dev/outbox", key: api.harness.otherKey)
            #expect(foreignOutbox["messages"] == .array([]), "outbox is per tenant")
            let override = try await api.post("/v1/dev/simulator", #"{"channel":"sms","operator":"XL","failure_rate":1}"#)
            #expect(override.status == 200 && override.text.contains("\"operator\":\"XL\""))
            #expect(try await api.post("/v1/dev/simulator", #"{"failure_rate":2}"#).status == 422)
        }
        try await APIHarness.make(simulator: false).run { api in
            let outbox = try await api.get("/v1/dev/outbox")
            let simulator = try await api.post("/v1/dev/simulator", #"{"outage":true}"#)
            #expect(outbox.status == 404 && simulator.status == 404)
        }
    }

    @Test("no WhatsApp receipt within 40 s: the same code goes out by SMS")
    func receiptTimeoutFallback() async throws {
        try await APIHarness.make().run { api in
            _ = try await api.post("/v1/dev/simulator", #"{"channel":"whatsapp","receipts":false}"#)
            let id = try await api.start(extra: #","locale":"en""#)
            try await api.deliver()
            api.harness.clock.advance(by: 40)
            try await api.deliver()
            let read = try await api.get("/v1/verifications/\(id)?include=events")
            guard case .array(let deliveries)? = read["deliveries"] else { throw TestFailure("deliveries") }
            #expect(deliveries.compactMap { $0.objectValue?["channel"]?.stringValue } == ["whatsapp", "sms"])
            #expect(deliveries.compactMap { $0.objectValue?["status"]?.stringValue } == ["sent", "delivered"])
            #expect(read.text.contains("no_receipt_within_40s"))
            guard case .array(let messages)? = try await api.get("/v1/dev/outbox?to=%2B6281234567890")["messages"] else { throw TestFailure("outbox") }
            let codes = Set(messages.compactMap { $0.objectValue?["code"]?.stringValue })
            #expect(messages.count == 2 && codes.count == 1, "two messages, one code")
        }
    }

    @Test("the simulator's numbers that are not on WhatsApp: undeliverable, remembered, next time SMS first")
    func notOnWhatsApp() async throws {
        try await APIHarness.make().run { api in
            let configured = try await api.post("/v1/dev/simulator", #"{"channel":"whatsapp","unreachable_numbers":["+6281234567890"]}"#)
            #expect(configured.status == 200)
            let bad = try await api.post("/v1/dev/simulator", #"{"unreachable_numbers":["nope"]}"#)
            #expect(bad.status == 422)
            let first = try await api.start()
            try await api.deliver()
            let read = try await api.get("/v1/verifications/\(first)")
            guard case .array(let deliveries)? = read["deliveries"] else { throw TestFailure("deliveries") }
            #expect(deliveries.compactMap { $0.objectValue?["status"]?.stringValue } == ["undeliverable", "delivered"])
            let second = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"login"}"#)
            #expect(second["channel"] == "sms")
            #expect(second["plan"] == .array([.object(["channel": "sms", "timeout_s": 45]), .object(["channel": "voice"])]))
        }
    }

    @Test("health, metrics and the OpenAPI document need no key; unknown routes are problem+json 404")
    func operations() async throws {
        try await APIHarness.make().run { api in
            #expect(try await api.get("/health/live", key: "").status == 200)
            let ready = try await api.get("/health/ready", key: "")
            #expect(ready.status == 200 && ready["status"] == "ok")
            _ = try await api.start()
            let metrics = try await api.get("/metrics", key: "")
            #expect(metrics.status == 200 && metrics.text.contains("sandi_http_requests_total{"))
            #expect(metrics.text.contains(#"route="/v1/verifications""#) && !metrics.text.contains("6281234567890"), "bounded labels, no numbers")
            // The process metrics of every Prometheus client, with their HELP and TYPE lines.
            func value(_ name: String) -> Double? {
                metrics.text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.dropFirst(name.count + 1)) }
            }
            #expect(metrics.text.contains("# TYPE process_cpu_seconds_total counter\n"))
            #expect((value("process_cpu_seconds_total") ?? 0) > 0)
            #if os(Linux)
            #expect((value("process_resident_memory_bytes") ?? 0) > 1_000_000 && (value("process_threads") ?? 0) >= 2)
            #expect((value("process_open_fds") ?? 0) >= 3 && (value("process_max_fds") ?? 0) >= (value("process_open_fds") ?? .infinity))
            let started = value("process_start_time_seconds") ?? 0
            #expect(started <= Date().timeIntervalSince1970 + 1 && started > Date().timeIntervalSince1970 - 86_400 * 30, "\(started)")
            #endif
            let doc = try await api.get("/openapi.yaml", key: "")
            #expect(doc.status == 200 && doc.text.hasPrefix("openapi: 3.1"))
            let missing = try await api.get("/nowhere", key: "")
            #expect(missing.status == 404 && missing.code == "not_found" && missing.headers["Content-Type"] == "application/problem+json")
        }
    }

    @Test("metrics count verifications, checks, sends and fallbacks with bounded labels")
    func engineMetrics() async throws {
        try await APIHarness.make().run { api in
            _ = try await api.post("/v1/dev/simulator", #"{"channel":"whatsapp","outage":true}"#)
            let id = try await api.start()
            let code = try await api.code()
            _ = try await api.post("/v1/verifications/\(id)/check", #"{"code":"0000001"}"#)
            _ = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
            _ = try await api.post("/v1/verifications", #"{"to":"+6281234567890","purpose":"bogus"}"#)
            _ = try await api.get("/v1/verifications/ver_unknown")
            let text = try await api.get("/metrics", key: "").text
            #expect(text.contains(#"sandi_http_requests_total{method="GET",route="/v1/verifications/{id}",status="404"} 1"#),
                    "request metrics count the status the client got, not 500 for a domain error")
            #expect(text.contains(#"sandi_http_requests_total{method="POST",route="/v1/verifications",status="422"} 1"#))
            let expected = [
                #"sandi_verifications_total{purpose="password_reset",outcome="created"} 1"#,
                #"sandi_verifications_total{purpose="unknown",outcome="unsupported_purpose"} 1"#,
                #"sandi_checks_total{purpose="password_reset",outcome="wrong_code"} 1"#,
                #"sandi_checks_total{purpose="password_reset",outcome="approved"} 1"#,
                #"sandi_sends_total{channel="whatsapp",provider="simulator",operator="Telkomsel",country="ID",status="failed"} 1"#,
                #"sandi_sends_total{channel="sms",provider="simulator",operator="Telkomsel",country="ID",status="delivered"} 1"#,
                #"sandi_fallbacks_total{from="whatsapp",to="sms",reason="send_failed"} 1"#,
                #"sandi_send_duration_seconds_count{channel="sms",provider="simulator",status="delivered"} 1"#,
                #"sandi_queue_lag_seconds_count{kind="send"} 2"#,
            ]
            for line in expected {
                #expect(text.contains(line), "missing \(line)")
            }
            #expect(!text.contains("6281234567890") && !text.contains(id), "no numbers or ids in labels")
        }
    }

    @Test("the OpenAPI document and the running routes agree")
    func openAPIAgrees() async throws {
        try await APIHarness.make().run { api in
            let doc = try await api.get("/openapi.yaml", key: "").text
            var operations: [(String, String)] = []
            var path: String?
            for line in doc.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.allSatisfy(\.isWhitespace) { continue }  // blank lines inside block scalars
                if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()) ; continue }
                if !line.hasPrefix("  ") || (line.hasPrefix("  ") && !line.hasPrefix("   ") && !line.hasPrefix("  /")) { path = nil }
                if let p = path, let method = ["get", "post", "put", "delete", "patch"].first(where: { line == "    \($0):" }) {
                    operations.append((method.uppercased(), p))
                }
            }
            let expected: Set<String> = [
                "POST /v1/verifications", "GET /v1/verifications/{id}", "POST /v1/verifications/{id}/check", "POST /v1/verifications/check",
                "POST /v1/verifications/{id}/resend", "POST /v1/verifications/{id}/cancel", "POST /v1/grants/redeem", "GET /v1/dev/outbox",
                "POST /v1/dev/simulator", "GET /v1/dev/simulator", "GET /health/live", "GET /health/ready", "GET /metrics", "GET /openapi.yaml",
                "GET /v1/settings/risk", "PUT /v1/settings/risk", "DELETE /v1/settings/risk", "GET /v1/risk/prefix-blocks",
                "DELETE /v1/risk/prefix-blocks/{prefix}", "POST /v1/devices/trust", "POST /v1/devices/check", "POST /v1/devices/revoke",
                "POST /v1/webhooks", "GET /v1/webhooks", "DELETE /v1/webhooks/{id}", "GET /v1/webhooks/{id}/deliveries",
                "POST /v1/webhooks/deliveries/{id}/replay",
                "GET /v1/providers", "GET /v1/settings/routing", "PUT /v1/settings/routing", "DELETE /v1/settings/routing",
                "GET /v1/settings/messages", "PUT /v1/settings/messages", "DELETE /v1/settings/messages", "POST /v1/assist",
                "GET /v1/callbacks/{provider}", "POST /v1/callbacks/{provider}", "GET /v1/callbacks/{provider}/{action}", "POST /v1/callbacks/{provider}/{action}",
                "PUT /v1/users/{user_ref}", "GET /v1/users/{user_ref}", "DELETE /v1/users/{user_ref}", "POST /v1/users/{user_ref}/recovery-codes",
                "POST /v1/users/{user_ref}/recovery-codes/redeem", "POST /v1/users/{user_ref}/recover", "POST /v1/phone-changes", "GET /v1/phone-changes",
                "GET /v1/phone-changes/{id}", "POST /v1/phone-changes/{id}/complete", "POST /v1/phone-changes/{id}/approve", "POST /v1/phone-changes/{id}/reject",
                "GET /v1/settings/groups", "PUT /v1/settings/groups", "DELETE /v1/settings/groups",
            ]
            #expect(Set(operations.map { "\($0.0) \($0.1)" }) == expected, "documented: \(operations)")
            for (method, path) in operations {
                let concrete = path.replacingOccurrences(of: "{id}", with: "ver_0000").replacingOccurrences(of: "{prefix}", with: "4479001")
                    .replacingOccurrences(of: "{provider}", with: "http").replacingOccurrences(of: "{action}", with: "none")
                    .replacingOccurrences(of: "{user_ref}", with: "u-1")
                let verb: HTTPRequest.Method = ["GET": .get, "PUT": .put, "DELETE": .delete][method] ?? .post
                let answer = try await api.request(verb, concrete, body: method == "POST" || method == "PUT" ? "{}" : nil)
                #expect(!(answer.status == 404 && answer.text.contains("no such route")), "\(method) \(path) is documented but not served")
            }
        }
    }

    @Test("logs never hold a code or a full phone number")
    func logsStayClean() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            _ = try await api.post("/v1/dev/simulator", #"{"channel":"whatsapp","outage":true}"#)
            let id = try await api.start()
            let code = try await api.code()
            _ = try await api.post("/v1/verifications/\(id)/check", #"{"code":"000001"}"#)
            _ = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
            _ = try await api.post("/v1/verifications", "not json")
            let logs = harness.logs.text
            #expect(!logs.contains(code))
            #expect(!logs.contains("81234567890"))
        }
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test("policies come from the environment and the file; flags win; unsafe policies refuse to start")
    func policies() async throws {
        let file = NSTemporaryDirectory() + "sandi-config-\(Identifier.randomBase32(bytes: 4)).json"
        try Data(#"{"sandi": {"port": 9100, "policy": {"login": {"ttl": 120, "code_length": 8}}, "brand": "Acme"}}"#.utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try await SandiConfiguration.load(
            overrides: ["sandi.port": "9200"], file: file,
            environment: ["SANDI_POLICY_LOGIN_MAX_ATTEMPTS": "3", "SANDI_POLICY_SIGNUP_COOLDOWNS": "10,20", "SANDI_BRAND": "FromEnv"])
        let login = configuration.policies.policy(for: .login)
        #expect(login.ttlSeconds == 120 && login.codeLength == 8 && login.maxAttempts == 3)
        #expect(configuration.policies.policy(for: .signup).resendCooldowns == [10, 20])
        #expect(configuration.policies.policy(for: .passwordReset).ttlSeconds == 300, "defaults stay")
        #expect(configuration.port == 9200, "flags win over the file")
        #expect(configuration.brand == "FromEnv", "the environment wins over the file")
        #expect(configuration.startupProblems.isEmpty)
        let unsafe = try await SandiConfiguration.load(environment: ["SANDI_POLICY_LOGIN_CODE_LENGTH": "4", "SANDI_CHECKS_MAX_FAILED": "500"])
        #expect(unsafe.startupProblems.contains { $0.contains("code_length") })
        #expect(unsafe.startupProblems.contains { $0.contains("max_failed") })
    }

    @Test("a configured policy is what the API applies")
    func appliedPolicy() async throws {
        let directory = NSTemporaryDirectory() + "sandi-policy-" + Identifier.randomBase32(bytes: 4)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try await SandiConfiguration.load(
            overrides: ["sandi.data.dir": directory], environment: ["SANDI_POLICY_LOGIN_TTL": "90", "SANDI_POLICY_LOGIN_CODE_LENGTH": "8"])
        let system = try await SandiSystem.open(configuration, logger: Logger(label: "test"))
        let (key, _) = try await TenantAdmin(store: system.store).createKey(tenantName: "acme")
        let v = try await system.service.start(tenantID: try #require(try await system.store.tenant(forKeyHash: SecretHash.hex(key))).id,
                                               StartRequest(to: "+6281234567890", purpose: "login"))
        #expect(v.codeLength == 8 && v.expiresAt.timeIntervalSince(v.createdAt) == 90)
        #expect(try await (system.store as? SQLiteStore)?.writerCacheKiB() == 16 * 1024, "the writer's page cache: 16 MiB by default")
        try await system.close()
    }

    @Test("the SQLite writer's page cache comes from the configuration, within bounds")
    func sqliteCache() async throws {
        let directory = NSTemporaryDirectory() + "sandi-cache-" + Identifier.randomBase32(bytes: 4)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try await SandiConfiguration.load(overrides: ["sandi.data.dir": directory], environment: ["SANDI_SQLITE_CACHE_MIB": "24"])
        #expect(configuration.sqliteCacheMiB == 24 && configuration.startupProblems.isEmpty)
        let system = try await SandiSystem.open(configuration, logger: Logger(label: "test"))
        #expect(try await (system.store as? SQLiteStore)?.writerCacheKiB() == 24 * 1024)
        try await system.close()
        for bad in ["0", "4097", "-16"] {
            let refused = try await SandiConfiguration.load(environment: ["SANDI_SQLITE_CACHE_MIB": bad])
            #expect(refused.startupProblems.contains("sandi.sqlite.cache_mib must be 1–4096"), "\(bad)")
        }
    }

    @Test("PostgreSQL from DATABASE_URL: shared code keys required, pool and lease bounds checked, other schemes refused")
    func postgresSettings() async throws {
        let url = "postgres://sandi:pw@127.0.0.1:5432/sandi?sslmode=disable"
        let bare = try await SandiConfiguration.load(environment: ["DATABASE_URL": url])
        #expect(bare.databaseURL == url, "DATABASE_URL is read as well as SANDI_DATABASE_URL")
        #expect(bare.startupProblems.contains { $0.contains("SANDI_CODE_KEYS") }, "several nodes need one set of code keys")
        let keyed = try await SandiConfiguration.load(environment: [
            "SANDI_DATABASE_URL": url, "SANDI_CODE_KEYS": "k1:" + Data(repeating: 7, count: 32).base64EncodedString(),
            "SANDI_POSTGRES_POOL_MAX": "0", "SANDI_WORKER_LEASE_SECONDS": "1"])
        #expect(keyed.startupProblems.contains { $0.contains("pool_max") } && keyed.startupProblems.contains { $0.contains("lease_seconds") })
        let mysql = try await SandiConfiguration.load(overrides: ["sandi.data.dir": NSTemporaryDirectory()], environment: [
            "SANDI_DATABASE_URL": "mysql://x@y/z", "SANDI_CODE_KEYS": "k1:" + Data(repeating: 7, count: 32).base64EncodedString()])
        await #expect(throws: StartupError.self) { _ = try await SandiSystem.open(mysql, logger: Logger(label: "test")) }
    }

    @Test("the database clock: this machine's clock plus the offset measured halfway through a round trip")
    func databaseClock() async throws {
        let clock = DatabaseClock { Date().addingTimeInterval(3600) }
        let offset = try await clock.refresh()
        #expect(abs(offset - 3600) < 1 && abs(clock.now.timeIntervalSince(Date()) - 3600) < 1)
        #expect(clock.measuredOffset == offset)
    }
}
