public import Foundation

/// A user's message to the support assistant, about one verification (by id, or the live one of
/// a number).
public struct AssistantRequest: Sendable {
    public var tenantID: String
    public var verificationID: String?
    public var to: String?
    public var message: String
    public var locale: String?
    /// Where the message came from (`api`, `whatsapp`), recorded with the events.
    public var source: String

    public init(tenantID: String, verificationID: String? = nil, to: String? = nil, message: String, locale: String? = nil, source: String = "api") {
        self.tenantID = tenantID
        self.verificationID = verificationID
        self.to = to
        self.message = message
        self.locale = locale
        self.source = source
    }
}

/// The assistant's answer: the reply to show the user and what it did.
public struct AssistantAnswer: Sendable, Equatable {
    public enum Action: String, Sendable, Codable {
        case status, resent, canceled, ticketOpened = "ticket_opened", none, refused, rateLimited = "rate_limited"
    }

    public var intent: AssistantIntent?
    public var language: String
    public var reply: String
    public var action: Action
    public var verificationID: String?
    public var verificationStatus: VerificationStatus?
    public var ticketID: String?
}

/// A request for a person's help, with what the support agent needs (the timeline is the
/// verification's).
public struct SupportTicket: Sendable, Equatable, Codable {
    public var id: String
    public var tenantID: String
    public var verificationID: String?
    /// The destination, masked.
    public var to: String?
    /// The user's words, digits runs of 4 or more masked (codes and numbers never stored).
    public var message: String
    public var language: String
    public var createdAt: Date
    public var source: String
}

/// "My code never came": understands a user's message (keywords in twelve languages), answers
/// with the delivery status and what happens next (never the code), sends again or by another
/// channel within the verification's cooldowns and limits, cancels and reports a code the user
/// did not ask for, or opens a ticket for a person. Each step is an event in the audit trail;
/// each destination may send 10 messages per 10 minutes.
public struct AssistantService: Sendable {
    public let service: VerificationService
    public let catalog: AssistantCatalog
    public var messagesPerWindow = 10
    public var windowSeconds = 600.0
    public var maxMessageLength = 1000

    public init(service: VerificationService, catalog: AssistantCatalog = .bundled) {
        self.service = service
        self.catalog = catalog
    }

    var store: any SandiStore { service.store }
    var clock: any TimeSource { service.clock }

    public func assist(_ request: AssistantRequest) async throws -> AssistantAnswer {
        let now = clock.now
        let verification = try await find(request)
        let preferred = request.locale.flatMap(Self.language) ?? verification.flatMap { Self.language($0.locale) }
        let matched = Self.isRefused(request.message, limit: maxMessageLength) ? nil : catalog.match(request.message, preferring: preferred)
        let language = preferred ?? matched?.language ?? "en"
        func answer(_ action: AssistantAnswer.Action, _ reply: String, intent: AssistantIntent? = matched?.intent, ticket: String? = nil, status: VerificationStatus? = verification?.effectiveStatus(at: now)) -> AssistantAnswer {
            AssistantAnswer(intent: intent, language: language, reply: reply, action: action, verificationID: verification?.id, verificationStatus: status, ticketID: ticket)
        }
        guard try await withinLimit(request, verification: verification, now: now) else {
            return answer(.rateLimited, catalog.reply("slow_down", language: language))
        }
        if Self.isRefused(request.message, limit: maxMessageLength) {
            return answer(.refused, catalog.reply("refused", language: language), intent: nil)
        }
        guard let intent = matched?.intent else { return answer(.none, catalog.reply("help", language: language)) }
        guard let verification else { return answer(.none, catalog.reply("no_verification", language: language)) }
        let pending = verification.effectiveStatus(at: now) == .pending
        switch intent {
        case .human:
            let ticket = try await openTicket(request, verification: verification, language: language, now: now)
            return answer(.ticketOpened, catalog.reply("ticket_opened", language: language, values: ["ticket": ticket.id]), ticket: ticket.id)
        case _ where !pending:
            return answer(.none, catalog.reply("finished", language: language))
        case .whereIsCode:
            return answer(.status, status(of: verification, language: language, now: now))
        case .notMe:
            let canceled = try await service.cancel(id: verification.id, tenantID: request.tenantID)
            try await record(request, verification: verification, type: "security.not_requested", data: [
                "to": .string(PhoneNumber.mask(verification.to)), "to_hash": .string(service.hasher.numberHash(verification.to)),
                "purpose": .string(verification.purpose.rawValue),
            ], now: now)
            return answer(.canceled, catalog.reply("not_me_done", language: language), status: canceled.status)
        case .sendAgain, .sendSMS, .sendWhatsApp, .sendVoice:
            do {
                let after = try await service.resend(id: verification.id, tenantID: request.tenantID, channel: intent.channel?.rawValue)
                let channel = after.deliveries.last?.channel ?? intent.channel ?? .sms
                return answer(.resent, catalog.reply("resent", language: language, values: ["channel": catalog.channelName(channel, language: language)]))
            } catch let error as VerificationError {
                switch error {
                case .resendTooSoon(let wait):
                    return answer(.none, catalog.reply("resend_wait", language: language, values: ["seconds": String(wait)]))
                case .maxSendsReached:
                    return answer(.none, catalog.reply("resend_limit", language: language))
                case .channelUnavailable(let channel):
                    return answer(.none, catalog.reply("channel_unavailable", language: language, values: ["channel": catalog.channelName(channel, language: language)]))
                case .notPending:
                    return answer(.none, catalog.reply("finished", language: language))
                case .rateLimited:
                    return answer(.rateLimited, catalog.reply("slow_down", language: language))
                default:
                    throw error
                }
            }
        }
    }

    /// A message the assistant cannot read (a picture, a voice note, a location): says that only
    /// text is understood, in the language of the request's locale, else the live verification's,
    /// else English. Counts against the same limit as text; changes nothing else.
    public func textOnly(_ request: AssistantRequest) async throws -> AssistantAnswer {
        let now = clock.now
        let verification = try await find(request)
        let language = request.locale.flatMap(Self.language) ?? verification.flatMap { Self.language($0.locale) } ?? "en"
        let within = try await withinLimit(request, verification: verification, now: now)
        return AssistantAnswer(
            intent: nil, language: language, reply: catalog.reply(within ? "text_only" : "slow_down", language: language),
            action: within ? .none : .rateLimited, verificationID: verification?.id,
            verificationStatus: verification?.effectiveStatus(at: now), ticketID: nil)
    }

    /// The verification a message is about: by id, else the newest live one of the number.
    func find(_ request: AssistantRequest) async throws -> Verification? {
        if let id = request.verificationID {
            guard Identifier.isWellFormed(id, as: .verification) else { throw VerificationError.notFound }
            guard let found = try await store.verification(id: id, tenantID: request.tenantID, deliveries: true) else { throw VerificationError.notFound }
            return found
        }
        guard let to = request.to else {
            throw VerificationError.invalidRequest([FieldError(field: "verification_id", reason: "give verification_id or to")])
        }
        let number: PhoneNumber
        do { number = try service.parser.parse(to) } catch { throw VerificationError.invalidPhoneNumber(error.explanation) }
        var newest: Verification?
        for purpose in Purpose.allCases {
            if let live = try await store.liveVerification(tenantID: request.tenantID, to: number.e164, purpose: purpose, now: clock.now),
               live.createdAt > (newest?.createdAt ?? .distantPast) {
                newest = live
            }
        }
        guard let newest else { return nil }
        return try await store.verification(id: newest.id, tenantID: request.tenantID, deliveries: true)
    }

    /// Where the code is, and what happens next.
    func status(of v: Verification, language: String, now: Date) -> String {
        guard let last = v.deliveries.max(by: { $0.queuedAt < $1.queuedAt }) else { return catalog.reply("where_queued", language: language) }
        let channel = catalog.channelName(last.channel, language: language)
        let key = switch last.status {
        case .queued: "where_queued"
        case .sent: "where_sent"
        case .delivered, .read: "where_delivered"
        case .failed, .undeliverable, .canceled: "where_failed"
        }
        var text = catalog.reply(key, language: language, values: ["channel": channel])
        if !last.status.reachedPhone, v.plan.steps.indices.contains(last.planIndex), let timeout = v.plan.steps[last.planIndex].timeoutSeconds,
           let next = v.plan.step(after: last.planIndex), v.sendsRemaining > 0 {
            let waited = now.timeIntervalSince(last.sentAt ?? last.queuedAt)
            let seconds = max(0, Int((Double(timeout) - waited).rounded(.up)))
            text += " " + catalog.reply("next_step", language: language, values: [
                "next_channel": catalog.channelName(next.step.channel, language: language), "seconds": String(seconds),
            ])
        } else if !last.status.reachedPhone || last.status == .delivered {
            text += " " + catalog.reply("next_none", language: language)
        }
        return text
    }

    func openTicket(_ request: AssistantRequest, verification: Verification, language: String, now: Date) async throws -> SupportTicket {
        let ticket = SupportTicket(
            id: "tkt_" + Identifier.randomBase32(bytes: 10), tenantID: request.tenantID, verificationID: verification.id,
            to: PhoneNumber.mask(verification.to), message: Self.maskDigits(String(request.message.prefix(500))), language: language,
            createdAt: now, source: request.source)
        let text = String(decoding: try JSONEncoder().encode(ticket), as: UTF8.self)
        let key = Self.ticketPrefix + request.tenantID + "|" + ticket.id
        let event = Event(tenantID: request.tenantID, verificationID: verification.id, type: "support.ticket_opened", createdAt: now,
                          data: ["ticket_id": .string(ticket.id), "language": .string(language), "source": .string(request.source)])
        try await store.updateRiskState(keys: [key], now: now) { _ in
            ((), RiskStateWrite(values: [key: RiskStateValue(text, expiresAt: now.addingTimeInterval(90 * 86_400))], events: [event]))
        }
        return ticket
    }

    static let ticketPrefix = "ticket|"

    /// Open tickets (kept 90 days), newest first; of one tenant or all.
    public func tickets(tenantID: String?) async throws -> [SupportTicket] {
        let values = try await store.riskStates(prefix: Self.ticketPrefix + (tenantID.map { $0 + "|" } ?? ""), now: clock.now, limit: 1000)
        return values.values.compactMap { try? JSONDecoder().decode(SupportTicket.self, from: Data($0.utf8)) }.sorted { $0.createdAt > $1.createdAt }
    }

    func record(_ request: AssistantRequest, verification: Verification, type: String, data: [String: JSONValue], now: Date) async throws {
        var all = data
        all["source"] = .string(request.source)
        let key = "assist.report|" + request.tenantID + "|" + verification.id
        let event = Event(tenantID: request.tenantID, verificationID: verification.id, type: type, createdAt: now, data: all)
        try await store.updateRiskState(keys: [key], now: now) { _ in
            ((), RiskStateWrite(values: [key: RiskStateValue("1", expiresAt: now.addingTimeInterval(86_400))], events: [event]))
        }
    }

    /// 10 messages per destination (or verification) per 10 minutes.
    func withinLimit(_ request: AssistantRequest, verification: Verification?, now: Date) async throws -> Bool {
        // Per sender: the number's keyed hash (never the number), however the number was written.
        let number = request.to.flatMap { try? service.parser.parse($0).e164 }
        let subject = (verification?.to ?? number).map(service.hasher.numberHash) ?? request.verificationID ?? "-"
        let key = "assist.rate|" + request.tenantID + "|" + subject
        let (limit, window) = (messagesPerWindow, windowSeconds)
        return try await store.updateRiskState(keys: [key], now: now) { state in
            let count = Int(state[key] ?? "0") ?? 0
            guard count < limit else { return (false, RiskStateWrite()) }
            return (true, RiskStateWrite(values: [key: RiskStateValue(String(count + 1), expiresAt: now.addingTimeInterval(window))]))
        }
    }

    /// Messages that get no keyword matching at all: too long, links, control characters.
    static func isRefused(_ message: String, limit: Int) -> Bool {
        let lower = message.lowercased()
        return message.count > limit || lower.contains("http://") || lower.contains("https://") || lower.contains("www.")
            || message.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }
    }

    /// Runs of four or more digits become asterisks (a code or number a user typed).
    static func maskDigits(_ text: String) -> String {
        text.replacing(/\d{4,}/) { String(repeating: "*", count: $0.output.count) }
    }

    /// The assistant language for a locale (`id-ID` → `id`, `tl` → `fil`, `zh-Hans` → `zh`).
    static func language(_ locale: String) -> String? {
        let base = locale.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init) ?? ""
        switch base {
        case "tl": return "fil"
        case "": return nil
        default: return base
        }
    }
}
