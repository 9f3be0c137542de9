import Foundation
import SandiApp
import SandiCore
import SandiDashboard
import Testing

/// A browser's view of the dashboard, in-process: cookies by hand, forms as a browser posts them.
struct DashboardBrowser {
    let client: APIClient
    var cookie: String?

    func get(_ path: String) async throws -> Answer {
        try await client.request(.get, path, key: "", headers: cookie.map { ["Cookie": $0] } ?? [:])
    }

    func post(_ path: String, _ fields: [(String, String)], origin: String? = nil) async throws -> Answer {
        var headers = ["Content-Type": "application/x-www-form-urlencoded"]
        if let cookie { headers["Cookie"] = cookie }
        if let origin { headers["Origin"] = origin }
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
        return try await client.request(.post, path, body: body, key: "", headers: headers)
    }

    /// Signs in; returns the answer and keeps the session cookie when one was set.
    mutating func signIn(_ name: String, _ password: String, code: String) async throws -> Answer {
        let answer = try await post("/dashboard/login", [("name", name), ("password", password), ("code", code)])
        if let set = answer.headers["set-cookie"] { cookie = String(set.split(separator: ";")[0]) }
        return answer
    }

    /// The CSRF token of the page's forms.
    func csrf() async throws -> String {
        let page = try await get("/dashboard/settings")
        guard let match = page.text.firstMatch(of: /name="csrf" value="([A-Za-z0-9]+)"/) else { throw TestFailure("no csrf token in \(page.status)") }
        return String(match.output.1)
    }
}

@Suite("Dashboard: sign-in, roles, CSRF, figures from rollups")
struct DashboardTests {
    static let overrides = ["sandi.dashboard.scrypt_log_n": "10"]

    func account(_ harness: APIHarness, _ name: String, _ role: AdminRole, tenant: String? = nil) async throws -> (String, [UInt8]) {
        let credentials = try await harness.system.admins.create(name: name, role: role, tenantID: tenant, actor: "test")
        return (credentials.password, credentials.totpSecret)
    }

    @Test("every page template parses")
    func templates() {
        #expect(DashboardController.templateProblems.isEmpty)
    }

    @Test("anonymous requests go to sign-in; a password without a fresh code fails; a code works once; five failures lock; the cookie is HttpOnly and SameSite=Strict")
    func signIn() async throws {
        let harness = try await APIHarness.make(overrides: Self.overrides)
        let (password, secret) = try await account(harness, "ana", .admin)
        try await harness.run { client in
            var browser = DashboardBrowser(client: client)
            let anonymous = try await browser.get("/dashboard")
            #expect(anonymous.status == 303 && anonymous.headers["location"] == "/dashboard/login")
            let api = try await browser.get("/dashboard/api/overview")
            #expect(api.status == 401 && api.code == "unauthorized")
            let login = try await browser.get("/dashboard/login")
            #expect(login.status == 200 && login.text.contains("autocomplete=\"one-time-code\""))
            #expect(login.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true)

            let code = TOTP.code(secret: secret, at: harness.clock.now)
            let wrongCode = String(format: "%06d", (Int(code)! + 1) % 1_000_000)
            #expect(try await browser.signIn("ana", password, code: wrongCode).status == 401)
            #expect(try await browser.signIn("ana", "not-the-password", code: code).status == 401)
            #expect(try await browser.signIn("nobody", password, code: code).status == 401)
            let ok = try await browser.signIn("ana", password, code: code)
            #expect(ok.status == 303 && ok.headers["location"] == "/dashboard")
            let setCookie = try #require(ok.headers["set-cookie"])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/dashboard"))
            let page = try await browser.get("/dashboard")
            #expect(page.status == 200 && page.text.contains("Overview") && page.text.contains("ana · admin"))

            // The same code again (a replayed sign-in) is refused, though the password is right.
            var other = DashboardBrowser(client: client)
            #expect(try await other.signIn("ana", password, code: code).status == 401)
            // A forged cookie is nobody.
            let forged = DashboardBrowser(client: client, cookie: "sandi_session=eyJuIjoiYW5hIn0.k1.AAAA")
            #expect(try await forged.get("/dashboard").status == 303)

            // Five failures lock the account: the right password and a fresh code fail for a while.
            let (lockedPassword, lockedSecret) = try await account(harness, "bob", .analyst)
            var bob = DashboardBrowser(client: client)
            for _ in 0..<5 { _ = try await bob.signIn("bob", "wrong", code: "000000") }
            harness.clock.advance(by: 31)
            #expect(try await bob.signIn("bob", lockedPassword, code: TOTP.code(secret: lockedSecret, at: harness.clock.now)).status == 401)
            harness.clock.advance(by: 15 * 60 + 31)
            #expect(try await bob.signIn("bob", lockedPassword, code: TOTP.code(secret: lockedSecret, at: harness.clock.now)).status == 303)

            // Sign-ins are in the audit trail; no password or code in it.
            _ = try await harness.system.store.sealAudit(limit: 1000)
            let records = try await harness.system.store.latestAudit(beforePosition: nil, limit: 200)
            #expect(records.contains { $0.type == "admin.signed_in" } && records.contains { $0.type == "admin.sign_in_failed" })
            #expect(!records.contains { $0.data.contains(password) || $0.data.contains(code) })
        }
    }

    @Test("every dashboard route: anonymous pages redirect to sign-in and the JSON answers 401; an analyst's posts are refused; the timeline lists channel availability")
    func everyRoute() async throws {
        let harness = try await APIHarness.make(overrides: Self.overrides)
        let (password, secret) = try await account(harness, "ana", .analyst)
        try await harness.run { client in
            let id = try await client.start(purpose: "login")
            try await client.deliver()
            let tenant = try #require(try await harness.system.store.tenants().first { $0.name.hasPrefix("acme-") })
            let pages = ["/dashboard", "/dashboard?window=week", "/dashboard/breakdown", "/dashboard/providers", "/dashboard/verifications",
                         "/dashboard/verifications?q=%2B6281234567890", "/dashboard/verifications/\(id)", "/dashboard/audit", "/dashboard/audit/export",
                         "/dashboard/webhooks", "/dashboard/support", "/dashboard/settings", "/dashboard/report", "/dashboard/users", "/dashboard/users?user=u-1"]
            let posts = ["/dashboard/verifications/\(id)/resend", "/dashboard/webhooks/whd_x/replay", "/dashboard/settings", "/dashboard/phone-changes/pcr_x/decide",
                         "/dashboard/users/recover", "/dashboard/logout"]
            let anonymous = DashboardBrowser(client: client)
            for page in pages {
                let answer = try await anonymous.get(page)
                #expect(answer.status == 303 && answer.headers["location"] == "/dashboard/login", "\(page): \(answer.status)")
            }
            #expect(try await anonymous.get("/dashboard/api/overview").status == 401)
            for path in posts {
                let answer = try await anonymous.post(path, [("csrf", "x"), ("tenant", tenant.id)])
                #expect(answer.status == 303 && answer.headers["location"] == "/dashboard/login", "\(path): \(answer.status)")
            }
            var analyst = DashboardBrowser(client: client)
            _ = try await analyst.signIn("ana", password, code: TOTP.code(secret: secret, at: harness.clock.now))
            for page in pages {
                let answer = try await analyst.get(page)
                #expect(answer.status == 200, "\(page): \(answer.status)")
                #expect(!answer.text.contains("6281234567890"), "\(page) shows no full number")
            }
            let token = try await analyst.csrf()
            for path in posts.dropLast() {
                let answer = try await analyst.post(path, [("csrf", token), ("tenant", tenant.id), ("kind", "routing"), ("document", "{}"), ("channel", "sms")])
                #expect(answer.status == 403, "\(path): \(answer.status)")
            }
            let timeline = try await analyst.get("/dashboard/verifications/\(id)")
            #expect(timeline.text.contains("available via simulator"), "channel availability")
            #expect(try await analyst.post("/dashboard/logout", [("csrf", token)]).headers["set-cookie"]?.contains("Max-Age=0") == true)
        }
    }

    @Test("the overview shows the numbers of what happened (from rollups), live as JSON and as a page with an SVG chart")
    func overviewFigures() async throws {
        let harness = try await APIHarness.make(overrides: Self.overrides)
        let (password, secret) = try await account(harness, "ana", .analyst)
        try await harness.run { client in
            var ids: [String] = []
            for i in 0..<4 { ids.append(try await client.start("+62812345678\(i)", purpose: "login")) }
            try await client.deliver()
            for (i, id) in ids.prefix(3).enumerated() {
                let code = try await client.code(to: "+62812345678\(i)")
                #expect(try await client.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)["valid"] == .bool(true))
            }
            _ = try await client.post("/v1/verifications/\(ids[3])/check", #"{"code":"000000"}"#)
            _ = try await harness.system.store.sealAudit(limit: 10_000)

            var browser = DashboardBrowser(client: client)
            #expect(try await browser.signIn("ana", password, code: TOTP.code(secret: secret, at: harness.clock.now)).status == 303)
            let live = try await browser.get("/dashboard/api/overview?window=hour")
            let overview = try #require(live["overview"]?.objectValue)
            #expect(overview["verifications"]?.intValue == 4 && overview["approved"]?.intValue == 3, "\(live.text)")
            #expect(overview["failed_checks"]?.intValue == 1)
            #expect(overview["success_rate"] == .number(0.75))
            #expect(overview["sends"]?.intValue == 4)
            #expect(live["tiles"]?.objectValue?["verifications"] == "4")
            let page = try await browser.get("/dashboard?window=day")
            #expect(page.status == 200 && page.text.contains("<svg") && page.text.contains(">4<"), "tile shows 4")
            let breakdown = try await browser.get("/dashboard/breakdown")
            #expect(breakdown.text.contains("whatsapp via simulator") && breakdown.text.contains("ID"))
            #expect(try await browser.get("/dashboard/report").status == 200)
            #expect(try await browser.get("/dashboard/providers").text.contains("simulator"))
        }
    }

    @Test("roles: an analyst cannot edit or act; an admin edits (audited); CSRF and foreign origins are refused; support is scoped to its tenant and may resend")
    func rolesAndCSRF() async throws {
        let harness = try await APIHarness.make(overrides: Self.overrides)
        try await harness.run { client in
            let id = try await client.start(purpose: "login")
            try await client.deliver()
            let tenants = try await harness.system.store.tenants()
            let acme = try #require(tenants.first { $0.name.hasPrefix("acme-") })
            let other = try #require(tenants.first { $0.name.hasPrefix("other-") })
            let (ap, asec) = try await account(harness, "ana", .analyst)
            let (dp, dsec) = try await account(harness, "dan", .admin)
            let (sp, ssec) = try await account(harness, "sue", .support, tenant: other.id)
            let (tp, tsec) = try await account(harness, "tom", .support, tenant: acme.id)

            var analyst = DashboardBrowser(client: client)
            _ = try await analyst.signIn("ana", ap, code: TOTP.code(secret: asec, at: harness.clock.now))
            let doc = #"{"rules":[],"prefer_last_worked":false,"last_worked_days":7}"#
            let token = try await analyst.csrf()
            let refused = try await analyst.post("/dashboard/settings", [("csrf", token), ("tenant", acme.id), ("kind", "routing"), ("document", doc)])
            #expect(refused.status == 403)
            #expect(try await analyst.post("/dashboard/verifications/\(id)/resend", [("csrf", token), ("tenant", acme.id), ("channel", "sms")]).status == 403)
            let timeline = try await analyst.get("/dashboard/verifications/\(id)")
            #expect(timeline.status == 200 && timeline.text.contains("+62********890") && !timeline.text.contains("81234567890"))

            var admin = DashboardBrowser(client: client)
            _ = try await admin.signIn("dan", dp, code: TOTP.code(secret: dsec, at: harness.clock.now))
            let adminToken = try await admin.csrf()
            // No token, a wrong token, another origin: refused, nothing saved.
            #expect(try await admin.post("/dashboard/settings", [("tenant", acme.id), ("kind", "routing"), ("document", doc)]).status == 403)
            #expect(try await admin.post("/dashboard/settings", [("csrf", "AAAA"), ("tenant", acme.id), ("kind", "routing"), ("document", doc)]).status == 403)
            #expect(try await admin.post("/dashboard/settings", [("csrf", adminToken), ("tenant", acme.id), ("kind", "routing"), ("document", doc)], origin: "https://evil.example").status == 403)
            #expect(try await client.get("/v1/settings/routing")["source"] == "defaults")
            let saved = try await admin.post("/dashboard/settings", [("csrf", adminToken), ("tenant", acme.id), ("kind", "routing"), ("document", doc)])
            #expect(saved.status == 303 && saved.headers["location"]?.contains("Saved") == true)
            #expect(try await client.get("/v1/settings/routing")["settings"]?.objectValue?["last_worked_days"]?.intValue == 7)
            _ = try await harness.system.store.sealAudit(limit: 10_000)
            let audit = try await admin.get("/dashboard/audit?type=settings.")
            #expect(audit.text.contains("settings.routing_updated") && audit.text.contains("dashboard:dan"))
            let export = try await admin.get("/dashboard/audit/export?format=csv")
            #expect(export.status == 200 && export.text.hasPrefix("seq,id,tenant_id") && export.text.contains("admin.signed_in"))

            // Support of the other tenant sees nothing of acme's.
            var sue = DashboardBrowser(client: client)
            _ = try await sue.signIn("sue", sp, code: TOTP.code(secret: ssec, at: harness.clock.now))
            #expect(try await sue.get("/dashboard/verifications/\(id)").status == 404)
            #expect(try await sue.get("/dashboard/api/overview").json?.objectValue?["overview"]?.objectValue?["verifications"]?.intValue == 0)
            #expect(try await sue.get("/dashboard/audit/export").status == 403)

            // Support of acme resends on another channel: audited on the verification.
            var tom = DashboardBrowser(client: client)
            _ = try await tom.signIn("tom", tp, code: TOTP.code(secret: tsec, at: harness.clock.now))
            harness.clock.advance(by: 31)
            let tomToken = try await tom.csrf()
            let resent = try await tom.post("/dashboard/verifications/\(id)/resend", [("csrf", tomToken), ("tenant", acme.id), ("channel", "sms")])
            #expect(resent.status == 303 && resent.headers["location"]?.contains("Sent%20again") == true, "\(resent.headers["location"] ?? "")")
            let read = try await client.get("/v1/verifications/\(id)?include=events")
            #expect(read["deliveries"]?.arrayValue?.last?.objectValue?["channel"] == "sms")
            #expect(read["events"]?.arrayValue?.contains { $0.objectValue?["type"] == "admin.support_resend" } == true)

            // A disabled account's session ends at its next request.
            try await harness.system.admins.setDisabled("tom", true, actor: "test")
            #expect(try await tom.get("/dashboard").status == 303)
        }
    }

    @Test("users page: support approves a number change (audited with its name), an analyst may not; an admin recovers an account and sees the grant once; groups are edited on the settings page")
    func usersPage() async throws {
        let harness = try await APIHarness.make(overrides: Self.overrides)
        try await harness.run { client in
            let acme = try #require(try await harness.system.store.tenants().first { $0.name.hasPrefix("acme-") })
            _ = try await client.put("/v1/users/w-1", #"{"phone":"+8801712345678","group":"worker","locale":"bn"}"#)
            let change = try await client.post("/v1/phone-changes", #"{"user_ref":"w-1","new_to":"+60123456789","old_number_available":false}"#)
            let changeID = try #require(change["id"]?.stringValue)
            let (ap, asec) = try await account(harness, "ana", .analyst)
            let (tp, tsec) = try await account(harness, "tom", .support, tenant: acme.id)
            let (dp, dsec) = try await account(harness, "dan", .admin)

            var analyst = DashboardBrowser(client: client)
            _ = try await analyst.signIn("ana", ap, code: TOTP.code(secret: asec, at: harness.clock.now))
            let seen = try await analyst.get("/dashboard/users")
            #expect(seen.status == 200 && seen.text.contains(changeID) && seen.text.contains("+88*") && !seen.text.contains("8801712345678"), "masked numbers only")
            #expect(!seen.text.contains("Approve</button>") && !seen.text.contains("Recover an account"), "an analyst sees no actions")
            let aToken = try await analyst.csrf()
            #expect(try await analyst.post("/dashboard/phone-changes/\(changeID)/decide", [("csrf", aToken), ("tenant", acme.id), ("decision", "approve")]).status == 403)

            var tom = DashboardBrowser(client: client)
            _ = try await tom.signIn("tom", tp, code: TOTP.code(secret: tsec, at: harness.clock.now))
            let tToken = try await tom.csrf()
            #expect(try await tom.post("/dashboard/phone-changes/\(changeID)/decide", [("tenant", acme.id), ("decision", "approve")]).status == 403, "no CSRF token")
            let approved = try await tom.post("/dashboard/phone-changes/\(changeID)/decide",
                                              [("csrf", tToken), ("tenant", acme.id), ("decision", "approve"), ("note", "checked work permit")])
            #expect(approved.status == 303 && approved.headers["location"]?.contains("Approved") == true, "\(approved.headers["location"] ?? "")")
            let read = try await client.get("/v1/phone-changes/\(changeID)")
            #expect(read["approved_by"] == "dashboard:tom" && read["note"] == "checked work permit" && read["requires"] == .array(["new_number_code"]))
            #expect(!(try await tom.get("/dashboard/users")).text.contains(changeID), "no longer waiting")
            #expect(try await tom.post("/dashboard/users/recover", [("csrf", tToken), ("tenant", acme.id), ("user", "w-1"), ("reason", "x")]).status == 403,
                    "recovery is for admins")

            var dan = DashboardBrowser(client: client)
            _ = try await dan.signIn("dan", dp, code: TOTP.code(secret: dsec, at: harness.clock.now))
            let dToken = try await dan.csrf()
            let missing = try await dan.post("/dashboard/users/recover", [("csrf", dToken), ("tenant", acme.id), ("user", "w-1"), ("reason", "")])
            #expect(missing.status == 303 && missing.headers["location"]?.contains("reason") == true)
            let recovered = try await dan.post("/dashboard/users/recover",
                                               [("csrf", dToken), ("tenant", acme.id), ("user", "w-1"), ("reason", "phone stolen; passport checked"), ("new_to", "+60123456788")])
            #expect(recovered.status == 200 && recovered.text.contains("grt_"), "the grant is shown on the page")
            #expect(recovered.headers["location"] == nil)
            let user = try await client.get("/v1/users/w-1")
            #expect(user["phone"] == "+60123456788" && user["number_history"]?.arrayValue?.first?.objectValue?["approved_by"] == "dashboard:dan")
            let found = try await dan.get("/dashboard/users?user=w-1")
            #expect(found.text.contains("admin_recovery") && found.text.contains("dashboard:dan") && !found.text.contains("60123456788"))
            // Groups on the settings page.
            let groups = #"{"groups":{"plantation":{"channels":["sms","voice"]}},"default_group":"plantation"}"#
            let saved = try await dan.post("/dashboard/settings", [("csrf", dToken), ("tenant", acme.id), ("kind", "groups"), ("document", groups)])
            #expect(saved.headers["location"]?.contains("Saved") == true)
            #expect(try await client.get("/v1/settings/groups")["settings"]?.objectValue?["default_group"] == "plantation")
            let bad = try await dan.post("/dashboard/settings", [("csrf", dToken), ("tenant", acme.id), ("kind", "groups"), ("document", #"{"default_group":"nope"}"#)])
            #expect(bad.headers["location"]?.contains("Not%20saved") == true)
        }
    }
}
