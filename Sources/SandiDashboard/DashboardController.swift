import Foundation
public import Hummingbird
import HTTPTypes
import Logging
import Mustache
import NIOCore
public import SandiCore
public import SandiHTTP
import SandiProviders

/// What the dashboard reads and acts through.
public struct DashboardDependencies: Sendable {
    public var store: any SandiStore
    public var hasher: CodeHasher
    public var clock: any TimeSource
    public var service: VerificationService
    public var messageSettings: MessageSettingsCache
    public var webhooks: WebhookService?
    public var admins: AdminDirectory
    /// Mark the session cookie `Secure` (on whenever Sandi is reached over HTTPS).
    public var secureCookies: Bool

    public init(store: any SandiStore, hasher: CodeHasher, clock: any TimeSource, service: VerificationService, messageSettings: MessageSettingsCache,
                webhooks: WebhookService?, admins: AdminDirectory, secureCookies: Bool) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.service = service
        self.messageSettings = messageSettings
        self.webhooks = webhooks
        self.admins = admins
        self.secureCookies = secureCookies
    }
}

/// The cockpit at `/dashboard`: sign-in with password and TOTP, signed session cookies with a
/// CSRF token on every form, roles (admin edits, analyst reads, support acts for users, scoped to
/// its tenant when it has one), and pages computed from rollups (never a scan of the event log).
public struct DashboardController: Sendable {
    let deps: DashboardDependencies

    public init(_ deps: DashboardDependencies) { self.deps = deps }

    /// Page templates that do not parse (a test keeps this empty).
    public static var templateProblems: [String] { Templates.problems }

    /// A refusal rendered as a page (or a redirect to sign in).
    struct Refusal: Error {
        let response: Response
    }

    struct Viewer: Sendable {
        let session: DashboardSession
        let account: AdminAccount
        var tenantScope: String? { account.tenantID }
    }

    public func register(on router: Router<SandiRequestContext>) {
        let group = router.group("dashboard")
        group.get("assets/app.css") { _, _ in Self.asset(Templates.css, type: "text/css; charset=utf-8") }
        group.get("assets/app.js") { _, _ in Self.asset(Templates.script, type: "text/javascript; charset=utf-8") }
        group.get("login") { _, _ in try page("login", title: "Sign in", values: [:], viewer: nil) }
        group.post("login", use: login)
        group.post("logout") { request, context in
            do {
                _ = try await viewer(request, context: context, form: try await form(request))
            } catch let refusal as Refusal {
                return refusal.response
            }
            return Self.redirect("/dashboard/login", cookie: Self.cookie("", secure: deps.secureCookies, maxAge: 0))
        }
        group.get(use: guarded(overview))
        group.get("api/overview", use: overviewJSON)
        group.get("breakdown", use: guarded(breakdown))
        group.get("providers", use: guarded(providers))
        group.get("verifications", use: guarded(lookup))
        group.get("verifications/:id", use: guarded(timeline))
        group.post("verifications/:id/resend", use: resend)
        group.get("audit", use: guarded(audit))
        group.get("audit/export", use: exportAudit)
        group.get("webhooks", use: guarded(deadLetters))
        group.post("webhooks/:id/replay", use: replay)
        group.get("settings", use: guarded(settings))
        group.post("settings", use: saveSettings)
        group.get("report", use: guarded(report))
        group.get("support", use: guarded(support))
        group.get("users", use: guarded(users))
        group.post("phone-changes/:id/decide", use: decidePhoneChange)
        group.post("users/recover", use: recoverUser)
    }

    // MARK: sessions

    func cookieValue(_ request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == DashboardSession.cookie { return String(parts[1]) }
            }
        }
        return nil
    }

    /// The signed-in viewer; anonymous page requests go to the sign-in page, state-changing ones
    /// without the session's CSRF token (or from another origin) are refused.
    func viewer(_ request: Request, context: SandiRequestContext, form: [String: String]? = nil) async throws -> Viewer {
        let now = deps.clock.now
        guard let value = cookieValue(request), let session = DashboardSession.decode(value, hasher: deps.hasher, now: now),
              let account = try await deps.admins.account(named: session.name), !account.disabled, account.role == session.role,
              account.tenantID == session.tenantID
        else {
            if request.uri.path.hasPrefix("/dashboard/api/") {
                throw APIProblem(status: .unauthorized, code: "unauthorized", title: "Unauthorized", detail: "sign in to the dashboard first")
            }
            throw Refusal(response: Self.redirect("/dashboard/login"))
        }
        if let form {
            let sameOrigin = request.headers[.origin].map { origin in
                request.head.authority.map { origin.hasSuffix("://" + $0) } ?? false
            } ?? true
            guard sameOrigin, session.acceptsCSRF(form["csrf"]) else {
                throw Refusal(response: try page("message", title: "Refused", values: ["title": "Refused", "text": "This form expired or did not come from the dashboard. Reload the page and try again."],
                                                 viewer: nil, status: .forbidden))
            }
        }
        return Viewer(session: session, account: account)
    }

    func guarded(_ handler: @escaping @Sendable (Request, SandiRequestContext, Viewer) async throws -> Response) -> @Sendable (Request, SandiRequestContext) async throws -> Response {
        { request, context in
            do {
                return try await handler(request, context, try await viewer(request, context: context))
            } catch let refusal as Refusal {
                return refusal.response
            }
        }
    }

    func login(_ request: Request, context: SandiRequestContext) async throws -> Response {
        let fields = try await form(request)
        let name = fields["name"] ?? ""
        let address = request.headers[HTTPField.Name("X-Forwarded-For")!]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let account = try await deps.admins.authenticate(name: name, password: fields["password"] ?? "", code: fields["code"] ?? "", from: address) else {
            return try page("login", title: "Sign in", values: ["error": "Name, password or code is wrong, or the account is locked for a while.", "name": name],
                            viewer: nil, status: .unauthorized)
        }
        let session = DashboardSession(account: account, now: deps.clock.now)
        return Self.redirect("/dashboard", cookie: Self.cookie(try session.encode(deps.hasher), secure: deps.secureCookies, maxAge: Int(DashboardSession.lifetime)))
    }

    func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 64 * 1024)
        var fields: [String: String] = [:]
        for (name, value) in FormBody.parse(String(buffer: body)) { fields[name] = value }
        return fields
    }

    /// A state-changing form post: the viewer (CSRF checked) and the fields.
    func post(_ request: Request, context: SandiRequestContext) async throws -> (Viewer, [String: String]) {
        let fields = try await form(request)
        return (try await viewer(request, context: context, form: fields), fields)
    }

    // MARK: rendering

    static let navigation: [(String, String)] = [
        ("/dashboard", "Overview"), ("/dashboard/breakdown", "Breakdown"), ("/dashboard/providers", "Providers"),
        ("/dashboard/verifications", "Verifications"), ("/dashboard/audit", "Audit"), ("/dashboard/webhooks", "Webhooks"),
        ("/dashboard/support", "Support"), ("/dashboard/users", "Users"), ("/dashboard/settings", "Settings"), ("/dashboard/report", "Report"),
    ]

    func page(_ template: String, title: String, values: [String: Any], viewer: Viewer?, status: HTTPResponse.Status = .ok, path: String = "") throws -> Response {
        let body = Templates.library.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body]
        if let viewer {
            var session: [String: Any] = [
                "name": viewer.account.name, "role": viewer.account.role.rawValue, "csrf": viewer.session.csrf,
                "nav": Self.navigation.map { ["href": $0.0, "label": $0.1, "current": $0.0 == path] },
            ]
            if let scope = viewer.account.tenantID { session["scope"] = scope }
            layout["session"] = session
            let open = deps.service.providers.breakers.snapshot(at: deps.clock.now).filter { $0.state == .open }
            if !open.isEmpty { layout["outage"] = open.map { "\($0.provider) \($0.channel.rawValue) (\($0.operator))" }.joined(separator: ", ") }
        }
        let html = Templates.library.render(layout, withTemplate: "layout") ?? ""
        return Response(status: status, headers: Self.htmlHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// `Referrer-Policy: same-origin`, not `no-referrer`: under `no-referrer` browsers send
    /// `Origin: null` with a form post, and the same-origin check refused every form a real
    /// browser submitted (the headless-Chromium test submits one).
    static let htmlHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "same-origin", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
    ]

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    static func cookie(_ value: String, secure: Bool, maxAge: Int) -> String {
        "\(DashboardSession.cookie)=\(value); Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)" + (secure ? "; Secure" : "")
    }

    func forbidden(_ viewer: Viewer, _ what: String) throws -> Response {
        try page("message", title: "Not allowed", values: ["title": "Not allowed", "text": "Your role (\(viewer.account.role.rawValue)) may not \(what)."], viewer: viewer, status: .forbidden)
    }

    static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0 * 100) } ?? "–" }
    static func seconds(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value.isInfinite ? "> 300 s" : "≤ \(Int(value)) s"
    }

    func window(_ request: Request) -> OverviewWindow { request.uri.queryParameters.get("window").flatMap(OverviewWindow.init(rawValue:)) ?? .hour }

    func overviewData(_ viewer: Viewer, window: OverviewWindow) async throws -> Overview {
        let now = deps.clock.now
        let range = window.range(now: now)
        let rows = try await deps.store.rollups(tenantID: viewer.tenantScope, span: window.span, from: range.from, to: range.to, metrics: Overview.metrics)
        return Overview(window: window, rows: rows.filter { $0.tenantID != AdminDirectory.operatorTenant }, now: now)
    }

    static func tiles(_ o: Overview) -> [(field: String, label: String, value: String)] {
        [("verifications", "Verifications", String(o.verifications)), ("per_minute", "Per minute", String(format: "%.2f", o.perMinute)),
         ("delivery_rate", "Delivery rate", percent(o.deliveryRate)), ("median", "Median time to delivery", seconds(o.medianDeliverySeconds)),
         ("p95", "95th percentile", seconds(o.p95DeliverySeconds)), ("success_rate", "Verification success", percent(o.successRate)),
         ("fallback_rate", "Fallback rate", percent(o.fallbackRate)), ("fraud_blocks", "Fraud blocks", String(o.fraudBlocks)),
         ("failed_checks", "Wrong codes", String(o.failedChecks))]
    }

    // MARK: pages

    func overview(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let window = window(request)
        let o = try await overviewData(viewer, window: window)
        return try page("overview", title: "Overview", values: [
            "window": window.rawValue,
            "windows": OverviewWindow.allCases.map { ["name": $0.rawValue, "current": $0 == window] },
            "tiles": Self.tiles(o).map { ["field": $0.field, "label": $0.label, "value": $0.value] },
            "chart": Charts.bars(o.series, span: window.span),
            "fallbackSteps": o.fallbackSteps.sorted { $0.value > $1.value }.map { ["key": $0.key.replacingOccurrences(of: ">", with: " → "), "count": $0.value] },
        ], viewer: viewer, path: "/dashboard")
    }

    func overviewJSON(_ request: Request, context: SandiRequestContext) async throws -> Response {
        let viewer = try await viewer(request, context: context)
        let o = try await overviewData(viewer, window: window(request))
        var tiles: [String: JSONValue] = [:]
        for tile in Self.tiles(o) { tiles[tile.field] = .string(tile.value) }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let figures = try JSONDecoder().decode(JSONValue.self, from: try encoder.encode(o))
        let body: JSONValue = .object(["overview": figures, "tiles": .object(tiles), "chart": .string(Charts.bars(o.series, span: o.window.span))])
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(body))))
    }

    func breakdown(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let window = window(request)
        let o = try await overviewData(viewer, window: window)
        func rows(_ list: [Overview.Row]) -> [[String: Any]] {
            list.map { ["key": $0.key.replacingOccurrences(of: "|", with: " via "), "sends": $0.sends, "delivered": $0.delivered, "failed": $0.failed, "rate": Self.percent($0.deliveryRate)] }
        }
        return try page("breakdown", title: "Breakdown", values: [
            "windows": OverviewWindow.allCases.map { ["name": $0.rawValue, "current": $0 == window] },
            "tables": [
                ["title": "By channel and provider", "column": "Channel via provider", "sendsLabel": "Sends", "rows": rows(o.routes)],
                ["title": "By country", "column": "Country", "sendsLabel": "Started", "rows": rows(o.countries)],
                ["title": "By operator", "column": "Operator", "sendsLabel": "Started", "rows": rows(o.operators)],
            ],
        ], viewer: viewer, path: "/dashboard/breakdown")
    }

    func providers(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let registry = deps.service.providers
        let snapshot = registry.breakers.snapshot(at: deps.clock.now)
        var byName: [String: (priority: Int, channels: Set<String>)] = [:]
        for (channel, routes) in registry.routes {
            for route in routes { byName[route.provider.name, default: (route.priority, [])].channels.insert(channel.rawValue) }
        }
        let list: [[String: Any]] = byName.keys.sorted().map { name in
            [
                "name": name, "channels": byName[name]!.channels.sorted().joined(separator: ", "), "priority": byName[name]!.priority,
                "breakers": snapshot.filter { $0.provider == name }.map { b in
                    ["channel": b.channel.rawValue, "operator": b.operator, "state": b.state.rawValue, "samples": b.statistics.samples,
                     "failureRate": Self.percent(b.statistics.failureRate)] as [String: Any]
                },
            ]
        }
        return try page("providers", title: "Providers", values: ["providers": list], viewer: viewer, path: "/dashboard/providers")
    }

    /// The tenants a viewer may see.
    func tenants(_ viewer: Viewer) async throws -> [Tenant] {
        let all = try await deps.store.tenants()
        return viewer.tenantScope.map { scope in all.filter { $0.id == scope } } ?? all
    }

    func lookup(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let q = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        var values: [String: Any] = ["q": q]
        guard !q.isEmpty else { return try page("lookup", title: "Verifications", values: values, viewer: viewer, path: "/dashboard/verifications") }
        let tenants = try await tenants(viewer)
        var found: [(Verification, Tenant)] = []
        if q.hasPrefix("ver_") {
            for tenant in tenants {
                if let v = try await deps.store.verification(id: q, tenantID: tenant.id, deliveries: false) { found.append((v, tenant)) }
            }
        } else if let number = try? deps.service.parser.parse(q) {
            let now = deps.clock.now
            for tenant in tenants {
                for purpose in Purpose.allCases {
                    if let v = try await deps.store.liveVerification(tenantID: tenant.id, to: number.e164, purpose: purpose, now: now) { found.append((v, tenant)) }
                }
            }
            values["message"] = "Live verifications for \(number.masked) (finished ones are found by id)."
            values["q"] = ""  // the page never shows a full number, not even the one searched for
        } else {
            values["message"] = "Give a verification id (ver_…) or a phone number in international form."
        }
        if !found.isEmpty {
            values["results"] = ["items": found.map { v, t in
                ["id": v.id, "tenantID": t.id, "tenant": t.name, "purpose": v.purpose.rawValue, "to": PhoneNumber.mask(v.to),
                 "status": v.status.rawValue, "created": Timestamp.format(v.createdAt)] as [String: Any]
            }]
        } else if values["message"] == nil {
            values["message"] = "Nothing found."
        }
        return try page("lookup", title: "Verifications", values: values, viewer: viewer, path: "/dashboard/verifications")
    }

    /// The verification with its tenant, when the viewer may see it.
    func visibleVerification(id: String, tenantID: String?, viewer: Viewer) async throws -> (Verification, Tenant)? {
        for tenant in try await tenants(viewer) where tenantID == nil || tenant.id == tenantID {
            if let v = try await deps.store.verification(id: id, tenantID: tenant.id, deliveries: true) { return (v, tenant) }
        }
        return nil
    }

    func timeline(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let (v, tenant) = try await visibleVerification(id: id, tenantID: request.uri.queryParameters.get("tenant").map { String($0) }, viewer: viewer) else {
            return try page("message", title: "Not found", values: ["title": "Not found", "text": "No verification \(id) that you may see."], viewer: viewer, status: .notFound)
        }
        return try page("timeline", title: "Verification", values: try await timelineValues(v, tenant: tenant, viewer: viewer, notice: request.uri.queryParameters.get("notice").map { String($0) }),
                        viewer: viewer, path: "/dashboard/verifications")
    }

    func timelineValues(_ v: Verification, tenant: Tenant, viewer: Viewer, notice: String?) async throws -> [String: Any] {
        let events = try await deps.store.events(verificationID: v.id, tenantID: tenant.id)
        return [
            "id": v.id, "tenant": tenant.name, "tenantID": tenant.id, "to": PhoneNumber.mask(v.to), "purpose": v.purpose.rawValue,
            "status": v.status.rawValue, "country": v.country ?? "–", "operator": v.operator ?? "–", "sendsLeft": v.sendsRemaining,
            "expires": Timestamp.format(v.expiresAt), "csrf": viewer.session.csrf, "notice": notice ?? "",
            "canAct": viewer.account.role.canActForUsers && v.status == .pending,
            "availability": Channel.allCases.map { channel -> [String: Any] in
                let routes = deps.service.providers.routes[channel] ?? []
                let open = routes.filter { deps.service.providers.breakers.allows(provider: $0.provider.name, channel: channel, operator: v.operator, at: deps.clock.now) }
                let state = routes.isEmpty ? "no provider" : open.isEmpty ? "unavailable (breakers open)" : "available via " + open.map(\.provider.name).joined(separator: ", ")
                return ["channel": channel.rawValue, "state": state]
            },
            "channels": Channel.allCases.map(\.rawValue),
            "deliveries": v.deliveries.map { d in
                ["channel": d.channel.rawValue, "provider": d.provider, "status": d.status.rawValue, "queued": Timestamp.format(d.queuedAt),
                 "sent": d.sentAt.map(Timestamp.format) ?? "–", "error": d.error ?? ""] as [String: Any]
            },
            "events": events.map { e in
                ["at": Timestamp.format(e.createdAt), "type": e.type,
                 "summary": e.data.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.short($0.value))" }.joined(separator: " ")] as [String: Any]
            },
        ]
    }

    static func short(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): s
        case .number(let n): n.rounded() == n ? String(Int(n)) : String(n)
        case .bool(let b): String(b)
        case .null: "–"
        case .array(let a): "[" + a.map(short).joined(separator: ",") + "]"
        case .object: "{…}"
        }
    }

    func resend(_ request: Request, context: SandiRequestContext) async throws -> Response {
        do {
            let (viewer, fields) = try await post(request, context: context)
            guard viewer.account.role.canActForUsers else { return try forbidden(viewer, "act for users") }
            let id = context.parameters.get("id") ?? ""
            guard let (v, tenant) = try await visibleVerification(id: id, tenantID: fields["tenant"], viewer: viewer) else {
                return try page("message", title: "Not found", values: ["title": "Not found", "text": "No verification \(id) that you may see."], viewer: viewer, status: .notFound)
            }
            let notice: String
            do {
                _ = try await deps.service.resend(id: v.id, tenantID: tenant.id, channel: fields["channel"])
                notice = "Sent again by \(fields["channel"] ?? "the next channel")."
            } catch let error as VerificationError {
                notice = "Not sent: " + APIProblem(error).detail
            }
            try await record(viewer, "admin.support_resend", tenantID: tenant.id, verificationID: v.id, ["channel": .string(fields["channel"] ?? ""), "result": .string(notice)])
            let query = notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Self.redirect("/dashboard/verifications/\(v.id)?tenant=\(tenant.id)&notice=\(query)")
        } catch let refusal as Refusal {
            return refusal.response
        }
    }

    /// An admin action as an event of the tenant it touched (or of the operator).
    func record(_ viewer: Viewer, _ type: String, tenantID: String?, verificationID: String?, _ data: [String: JSONValue]) async throws {
        let now = deps.clock.now
        var all = data
        all["actor"] = .string(viewer.account.name)
        all["role"] = .string(viewer.account.role.rawValue)
        let event = Event(tenantID: tenantID ?? AdminDirectory.operatorTenant, verificationID: verificationID, type: type, createdAt: now, data: all)
        let key = "admin.action|" + viewer.account.name
        try await deps.store.updateRiskState(keys: [key], now: now) { _ in ((), RiskStateWrite(values: [key: RiskStateValue(Timestamp.format(now), expiresAt: now.addingTimeInterval(60))], events: [event])) }
    }

    func audit(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let type = request.uri.queryParameters.get("type").map { String($0) } ?? ""
        let tenantFilter = viewer.tenantScope ?? request.uri.queryParameters.get("tenant").map { String($0) } ?? ""
        var shown: [AuditRecord] = []
        var before: Int64?
        // Newest first, a bounded number of pages: the log page shows the latest 100 matches.
        for _ in 0..<10 where shown.count < 100 {
            let page = try await deps.store.latestAudit(beforePosition: before, limit: 500)
            guard let last = page.last else { break }
            shown += page.filter { (type.isEmpty || $0.type.hasPrefix(type)) && (tenantFilter.isEmpty || $0.tenantID == tenantFilter) }
            before = last.seq
        }
        return try page("audit", title: "Audit log", values: [
            "type": type, "tenant": tenantFilter,
            "records": shown.prefix(100).map { r in
                ["seq": r.seq, "at": Timestamp.format(millis: r.createdAtMillis), "tenant": r.tenantID, "type": r.type,
                 "verification": r.verificationID ?? "", "data": r.data, "hash": r.hash.map { String($0.prefix(16)) + "…" } ?? "not sealed yet"] as [String: Any]
            },
        ], viewer: viewer, path: "/dashboard/audit")
    }

    func exportAudit(_ request: Request, context: SandiRequestContext) async throws -> Response {
        let viewer: Viewer
        do { viewer = try await self.viewer(request, context: context) } catch let refusal as Refusal { return refusal.response }
        guard viewer.tenantScope == nil else { return try forbidden(viewer, "export the whole audit trail (it spans every tenant)") }
        let format = request.uri.queryParameters.get("format").flatMap { AuditTool.Format(rawValue: String($0)) } ?? .jsonl
        var lines: [String] = []
        try await AuditTool(store: deps.store).export(since: nil, format: format) { lines.append($0) }
        try await record(viewer, "admin.audit_exported", tenantID: nil, verificationID: nil, ["format": .string(format.rawValue), "records": .number(Double(lines.count))])
        return Response(status: .ok, headers: [
            .contentType: format == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
            .contentDisposition: "attachment; filename=\"sandi-audit.\(format.rawValue)\"", .cacheControl: "no-store",
        ], body: ResponseBody(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
    }

    func deadLetters(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        var items: [[String: Any]] = []
        for tenant in try await tenants(viewer) {
            for hook in try await deps.store.webhooks(tenantID: tenant.id) {
                for d in try await deps.store.webhookDeliveries(webhookID: hook.id, tenantID: tenant.id, status: .dead, limit: 50) {
                    items.append(["id": d.id, "tenant": tenant.name, "tenantID": tenant.id, "url": hook.url, "attempts": d.attempts,
                                  "result": d.lastResult ?? "", "csrf": viewer.session.csrf, "canReplay": viewer.account.role.canReplayWebhooks])
                }
            }
        }
        return try page("webhooks", title: "Webhooks", values: ["items": items, "notice": request.uri.queryParameters.get("notice").map { String($0) } ?? ""],
                        viewer: viewer, path: "/dashboard/webhooks")
    }

    func replay(_ request: Request, context: SandiRequestContext) async throws -> Response {
        do {
            let (viewer, fields) = try await post(request, context: context)
            guard viewer.account.role.canReplayWebhooks else { return try forbidden(viewer, "replay webhook deliveries") }
            let id = context.parameters.get("id") ?? ""
            let tenantID = fields["tenant"] ?? ""
            guard try await tenants(viewer).contains(where: { $0.id == tenantID }),
                  try await deps.store.replayWebhookDelivery(id: id, tenantID: tenantID, now: deps.clock.now)
            else { return Self.redirect("/dashboard/webhooks?notice=Not%20replayed") }
            try await record(viewer, "admin.webhook_replayed", tenantID: tenantID, verificationID: nil, ["delivery_id": .string(id)])
            return Self.redirect("/dashboard/webhooks?notice=Queued%20again")
        } catch let refusal as Refusal {
            return refusal.response
        }
    }

    func settings(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var tenants: [[String: Any]] = []
        for tenant in try await self.tenants(viewer) {
            let routing = try await deps.service.routing.settings(tenantID: tenant.id)
            let messages = try await deps.messageSettings.settings(tenantID: tenant.id)
            let risk = try await deps.service.riskSettings.settings(tenantID: tenant.id)
            let groups = try await deps.service.groups.settings(tenantID: tenant.id)
            let documents: [[String: Any]] = [
                ["kind": "groups", "source": groups.own ? "tenant" : "defaults", "json": String(decoding: try encoder.encode(groups.settings), as: UTF8.self)],
                ["kind": "routing", "source": routing.own ? "tenant" : "defaults", "json": String(decoding: try encoder.encode(routing.settings), as: UTF8.self)],
                ["kind": "risk", "source": risk.own ? "tenant" : "defaults", "json": String(decoding: try encoder.encode(risk.settings), as: UTF8.self)],
                ["kind": "messages", "source": messages.own ? "tenant" : "defaults", "json": String(decoding: try encoder.encode(messages.settings), as: UTF8.self)],
            ].map { $0.merging(["tenantID": tenant.id, "csrf": viewer.session.csrf, "canEdit": viewer.account.role.canEditSettings]) { a, _ in a } }
            tenants.append(["name": tenant.name, "documents": documents])
        }
        return try page("settings", title: "Settings", values: ["tenants": tenants, "notice": request.uri.queryParameters.get("notice").map { String($0) } ?? ""],
                        viewer: viewer, path: "/dashboard/settings")
    }

    func saveSettings(_ request: Request, context: SandiRequestContext) async throws -> Response {
        do {
            let (viewer, fields) = try await post(request, context: context)
            guard viewer.account.role.canEditSettings else { return try forbidden(viewer, "edit settings") }
            let tenantID = fields["tenant"] ?? ""
            guard try await tenants(viewer).contains(where: { $0.id == tenantID }) else { return Self.redirect("/dashboard/settings?notice=Unknown%20tenant") }
            let data = Data((fields["document"] ?? "").utf8)
            let actor = "dashboard:" + viewer.account.name
            var problems: [FieldError] = []
            switch fields["kind"] {
            case "routing":
                guard let document = try? JSONDecoder().decode(RoutingSettings.self, from: data) else { return Self.redirect("/dashboard/settings?notice=Not%20a%20routing%20document") }
                problems = document.problems
                if problems.isEmpty { try await deps.service.routing.save(tenantID: tenantID, document, actor: actor) }
            case "risk":
                guard let document = try? JSONDecoder().decode(RiskSettings.self, from: data) else { return Self.redirect("/dashboard/settings?notice=Not%20a%20risk%20settings%20document") }
                problems = document.problems
                if problems.isEmpty { try await deps.service.riskSettings.save(tenantID: tenantID, document, actor: actor) }
            case "groups":
                guard let document = try? JSONDecoder().decode(GroupSettings.self, from: data) else { return Self.redirect("/dashboard/settings?notice=Not%20a%20groups%20document") }
                problems = document.problems
                if problems.isEmpty { try await deps.service.groups.save(tenantID: tenantID, document, actor: actor) }
            case "messages":
                guard let document = try? JSONDecoder().decode(MessageSettings.self, from: data) else { return Self.redirect("/dashboard/settings?notice=Not%20a%20message%20settings%20document") }
                problems = document.problems
                if problems.isEmpty { try await deps.messageSettings.save(tenantID: tenantID, document, actor: actor) }
            default:
                return Self.redirect("/dashboard/settings?notice=Unknown%20settings")
            }
            let notice = problems.isEmpty ? "Saved" : "Not saved: " + problems.map { "\($0.field) \($0.reason)" }.joined(separator: "; ")
            return Self.redirect("/dashboard/settings?notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch let refusal as Refusal {
            return refusal.response
        }
    }

    /// Tickets users opened with the assistant ("talk to a person"), newest first, each with a
    /// link to its verification's timeline (where support can resend on another channel).
    func support(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let names = Dictionary(try await tenants(viewer).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let tickets = try await AssistantService(service: deps.service).tickets(tenantID: viewer.tenantScope)
            .filter { names[$0.tenantID] != nil }
        return try page("support", title: "Support", values: [
            "tickets": tickets.map { t in
                ["id": t.id, "tenant": names[t.tenantID] ?? t.tenantID, "tenantID": t.tenantID, "verification": t.verificationID ?? "",
                 "to": t.to ?? "", "message": t.message, "language": t.language, "at": Timestamp.format(t.createdAt), "source": t.source] as [String: Any]
            },
        ], viewer: viewer, path: "/dashboard/support")
    }

    /// `2026-12-02 16:46` (UTC): short enough for a table cell.
    static func minute(_ date: Date) -> String {
        String(Timestamp.format(date).prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    var accounts: AccountService {
        AccountService(verifications: deps.service, devices: TrustedDevices(store: deps.store, clock: deps.clock))
    }

    /// Users: number changes waiting for an approval (approve or reject, audited with the
    /// admin's name), a user's account by user_ref, and admin-assisted recovery.
    func users(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        let tenants = try await tenants(viewer)
        var waiting: [[String: Any]] = []
        for tenant in tenants {
            for change in try await accounts.pendingApprovals(tenantID: tenant.id) {
                waiting.append([
                    "id": change.id, "tenant": tenant.name, "tenantID": tenant.id, "user": change.userRef,
                    "from": PhoneNumber.mask(change.oldNumber), "to": PhoneNumber.mask(change.newNumber),
                    "at": Self.minute(change.createdAt), "expires": Self.minute(change.expiresAt),
                    "csrf": viewer.session.csrf, "canDecide": viewer.account.role.canActForUsers,
                ])
            }
        }
        var found: [String: Any] = [:]
        let q = (request.uri.queryParameters.get("user") ?? "").trimmingCharacters(in: .whitespaces)
        if !q.isEmpty {
            for tenant in tenants {
                guard let account = try await accounts.account(tenantID: tenant.id, userRef: q) else { continue }
                found = [
                    "user": account.userRef, "tenant": tenant.name, "phone": account.phone.map(PhoneNumber.mask) ?? "none",
                    "group": account.group ?? "(default)", "locale": account.locale ?? "(by number)", "channel": account.preferredChannel?.rawValue ?? "(by plan)",
                    "supervisor": account.supervisorRef ?? "", "cooling": account.coolingOff(at: deps.clock.now) ? Timestamp.format(account.coolingOffUntil ?? deps.clock.now) : "no",
                    "codes": account.recovery.map { String($0.unused.count) } ?? "none",
                    "history": account.numberHistory.reversed().map { ["at": Timestamp.format($0.at), "method": $0.method, "from": $0.from ?? "", "to": $0.to, "by": $0.approvedBy ?? ""] },
                ]
                break
            }
        }
        return try page("users", title: "Users", values: [
            "waiting": waiting, "query": q, "found": found.isEmpty ? false : found, "searched": !q.isEmpty,
            "tenants": tenants.map { ["id": $0.id, "name": $0.name] }, "csrf": viewer.session.csrf,
            "canRecover": viewer.account.role.canEditSettings,
            "notice": request.uri.queryParameters.get("notice").map { String($0) } ?? "",
        ], viewer: viewer, path: "/dashboard/users")
    }

    func decidePhoneChange(_ request: Request, context: SandiRequestContext) async throws -> Response {
        do {
            let (viewer, fields) = try await post(request, context: context)
            guard viewer.account.role.canActForUsers else { return try forbidden(viewer, "approve number changes") }
            let tenantID = fields["tenant"] ?? ""
            guard try await tenants(viewer).contains(where: { $0.id == tenantID }) else { return Self.redirect("/dashboard/users?notice=Unknown%20tenant") }
            let approve = fields["decision"] == "approve"
            let notice: String
            do {
                let change = try await accounts.decide(tenantID: tenantID, id: context.parameters.get("id") ?? "", approve: approve,
                                                       approver: "dashboard:" + viewer.account.name, approverChecked: true, note: fields["note"])
                notice = approve ? "Approved (\(change.status == .completed ? "completed" : "waits for the new number's code"))" : "Rejected"
            } catch let error as AccountError {
                switch error {
                case .notFound(let detail), .conflict(_, let detail), .forbidden(_, let detail): notice = "Not done: " + detail
                }
            }
            return Self.redirect("/dashboard/users?notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch let refusal as Refusal {
            return refusal.response
        }
    }

    func recoverUser(_ request: Request, context: SandiRequestContext) async throws -> Response {
        do {
            let (viewer, fields) = try await post(request, context: context)
            guard viewer.account.role.canEditSettings else { return try forbidden(viewer, "recover accounts") }
            let tenantID = fields["tenant"] ?? ""
            guard try await tenants(viewer).contains(where: { $0.id == tenantID }) else { return Self.redirect("/dashboard/users?notice=Unknown%20tenant") }
            let user = (fields["user"] ?? "").trimmingCharacters(in: .whitespaces)
            let reason = (fields["reason"] ?? "").trimmingCharacters(in: .whitespaces)
            let newTo = (fields["new_to"] ?? "").trimmingCharacters(in: .whitespaces)
            var notice: String
            if user.isEmpty || reason.isEmpty || user.utf8.count > 128 || reason.utf8.count > 500 {
                notice = "Not done: a user_ref and a reason (up to 500 characters) are required"
            } else {
                do {
                    let number = newTo.isEmpty ? nil : try deps.service.parser.parse(newTo, country: nil)
                    let done = try await accounts.adminRecover(tenantID: tenantID, userRef: user, actor: "dashboard:" + viewer.account.name,
                                                               reason: reason, newPhone: number)
                    // The grant is shown on this page only, never put in a URL.
                    return try page("message", title: "Recovered", values: ["title": "Account recovered", "text":
                        "\(user): \(done.devicesRevoked) trusted device(s) signed out, cooling-off until \(Timestamp.format(done.account.coolingOffUntil ?? deps.clock.now)), the user's number was told. One-time grant for the app (valid 10 minutes, shown once): \(done.grantToken)"],
                        viewer: viewer, path: "/dashboard/users")
                } catch let error as AccountError {
                    if case .notFound(let detail) = error { notice = "Not done: " + detail } else { notice = "Not done" }
                } catch let error as PhoneNumberError {
                    notice = "Not done: " + error.explanation
                }
            }
            return Self.redirect("/dashboard/users?user=" + (user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                                 + "&notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch let refusal as Refusal {
            return refusal.response
        }
    }

    func report(_ request: Request, context: SandiRequestContext, viewer: Viewer) async throws -> Response {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.startOfDay(for: deps.clock.now)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let day = request.uri.queryParameters.get("day").flatMap { formatter.date(from: String($0)) } ?? today.addingTimeInterval(-86_400)
        let rows = try await deps.store.rollups(tenantID: viewer.tenantScope, span: 3600, from: day, to: day.addingTimeInterval(86_400), metrics: Overview.metrics)
        let o = Overview(window: .day, rows: rows.filter { $0.tenantID != AdminDirectory.operatorTenant }, now: day.addingTimeInterval(86_399))
        return try page("report", title: "Daily report", values: [
            "day": formatter.string(from: day),
            "tiles": Self.tiles(o).map { ["label": $0.label, "value": $0.value] },
            "chart": Charts.bars(o.series, span: 3600),
            "hours": o.series.map { ["hour": Charts.label($0.at, span: 3600), "verifications": $0.verifications, "delivered": $0.delivered] as [String: Any] },
        ], viewer: viewer, path: "/dashboard/report")
    }
}
