public import Foundation
public import Logging
public import SandiCore
import Synchronization

/// The support assistant on WhatsApp: answers what users write to a business number with the
/// same ``AssistantService`` turn as `POST /v1/assist` (by the sender's number, for the tenant that
/// owns the number), replying with a free-form text message (allowed: the user just wrote).
///
/// - The tenant: the one whose own account (``WhatsAppCloudProvider/Options/tenantAccounts``) has
///   the receiving number; for the default account's number, ``Options/defaultTenant``. Without
///   one (or with several tenants on one number) messages are acknowledged, logged without the
///   sender, and not answered.
/// - Text, quick-reply buttons and interactive replies are read as text; anything else (a picture,
///   a voice note, a location) gets "only text", in the language of the sender's live
///   verification (English without one).
/// - Each message id is answered at most once, across retries, restarts and nodes: it is claimed
///   in the store's risk state before the turn (a turn that fails after the claim stays
///   unanswered rather than risking two replies).
/// - Over the limit (10 messages per sender per 10 minutes), "slow down" is sent once per window;
///   later messages get no reply.
/// - The reply waits at most ``Options/replyTimeoutMs`` for Graph: the webhook is answered after
///   the turn, so Meta gets its 200 within that bound (a retry of a slow one is a duplicate).
///
/// Logs carry the masked sender, the message type, intent and action; never the text.
public struct WhatsAppAssistant: Sendable {
    public struct Options: Sendable {
        /// The tenant (id or name) the default account's number answers for; nil: not answered.
        public var defaultTenant: String?
        /// The longest wait for Graph to take a reply.
        public var replyTimeoutMs: Int
        /// How long a message id is remembered (Meta retries webhooks for up to 7 days).
        public var rememberSeconds: TimeInterval

        public init(defaultTenant: String? = nil, replyTimeoutMs: Int = 5000, rememberSeconds: TimeInterval = 7 * 86_400) {
            self.defaultTenant = defaultTenant
            self.replyTimeoutMs = replyTimeoutMs
            self.rememberSeconds = rememberSeconds
        }
    }

    public let assistant: AssistantService
    public let provider: WhatsAppCloudProvider
    public let options: Options
    let logger: Logger
    private let tenantIDs = TenantIDs()

    public init(assistant: AssistantService, provider: WhatsAppCloudProvider, options: Options, logger: Logger = Logger(label: "sandi.whatsapp")) {
        self.assistant = assistant
        self.provider = provider
        self.options = options
        self.logger = logger
    }

    /// Message types read as text.
    static let textTypes: Set<String> = ["text", "button", "interactive"]

    var store: any SandiStore { assistant.service.store }

    /// Answers one message; never throws (the webhook acknowledges every message).
    public func handle(_ message: WhatsAppInboundMessage) async {
        var metadata: Logger.Metadata = ["type": .string(message.type), "from": .string(PhoneNumber.mask("+" + message.from))]
        do {
            guard let phoneNumberID = message.phoneNumberID, let account = provider.options.account(phoneNumberID: phoneNumberID),
                  let tenantID = try await tenant(answering: phoneNumberID)
            else {
                logger.info("whatsapp: a user's message acknowledged; no assistant answers this number",
                            metadata: ["type": .string(message.type), "phone_number_id": .string(message.phoneNumberID ?? "")])
                return
            }
            metadata["tenant"] = .string(tenantID)
            let number: PhoneNumber
            do { number = try assistant.service.parser.parse("+" + message.from) } catch {
                logger.info("whatsapp: a message from a sender that is not a phone number, not answered", metadata: metadata)
                return
            }
            guard try await claim(message.id) else {
                logger.debug("whatsapp: a message answered before, skipped", metadata: metadata)
                return
            }
            let request = AssistantRequest(tenantID: tenantID, to: number.e164, message: message.text ?? "", source: "whatsapp")
            let answer = Self.textTypes.contains(message.type) ? try await assistant.assist(request) : try await assistant.textOnly(request)
            metadata["action"] = .string(answer.action.rawValue)
            metadata["intent"] = .string(answer.intent?.rawValue ?? "none")
            metadata["language"] = .string(answer.language)
            if answer.action == .rateLimited, !(try await firstSlowDown(tenantID: tenantID, e164: number.e164)) {
                logger.info("whatsapp: over the limit, not answered", metadata: metadata)
                return
            }
            try await provider.sendText(answer.reply, to: message.from, account: account, timeoutMs: options.replyTimeoutMs)
            logger.info("whatsapp: the assistant answered", metadata: metadata)
        } catch {
            metadata["error"] = .string(Self.describe(error))
            logger.warning("whatsapp: the assistant could not answer", metadata: metadata)
        }
    }

    /// The tenant that answers messages to `phoneNumberID`, by id.
    func tenant(answering phoneNumberID: String) async throws -> String? {
        let owners = provider.options.owners(of: phoneNumberID)
        let keys = owners.isEmpty ? (phoneNumberID == provider.options.account.phoneNumberID ? options.defaultTenant.map { [$0] } ?? [] : []) : owners
        var ids: Set<String> = []
        for key in keys {
            if let id = try await tenantID(key) { ids.insert(id) } else {
                logger.warning("whatsapp: the tenant configured for a number does not exist", metadata: ["tenant": .string(key)])
            }
        }
        guard ids.count <= 1 else {
            logger.warning("whatsapp: several tenants share a number; its messages are not answered", metadata: ["phone_number_id": .string(phoneNumberID)])
            return nil
        }
        return ids.first
    }

    /// A tenant's id by id or name (remembered once found: neither changes).
    func tenantID(_ key: String) async throws -> String? {
        if let known = tenantIDs.id(of: key) { return known }
        var found = try await store.tenant(id: key)
        if found == nil { found = try await store.tenant(named: key) }
        guard let tenant = found else { return nil }
        tenantIDs.remember(tenant.id, for: key)
        return tenant.id
    }

    /// Claims a message id: false when it was claimed before.
    func claim(_ messageID: String) async throws -> Bool {
        try await claimOnce("whatsapp.inbound|" + messageID, for: options.rememberSeconds)
    }

    /// Whether this is the first "slow down" of the sender's window.
    func firstSlowDown(tenantID: String, e164: String) async throws -> Bool {
        try await claimOnce("whatsapp.slow_down|" + tenantID + "|" + assistant.service.hasher.numberHash(e164), for: assistant.windowSeconds)
    }

    /// Sets `key` for `seconds` unless it is set: true for the one caller (on any node) that set it.
    func claimOnce(_ key: String, for seconds: TimeInterval) async throws -> Bool {
        let now = assistant.service.clock.now
        let expiry = now.addingTimeInterval(seconds)
        return try await store.updateRiskState(keys: [key], now: now) { state in
            guard state[key] == nil else { return (false, RiskStateWrite()) }
            return (true, RiskStateWrite(values: [key: RiskStateValue("1", expiresAt: expiry)]))
        }
    }

    /// An error for the log: a provider's message, or only the type (no user input in it).
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ProviderError: "\(error)"
        default: "\(type(of: error))"
        }
    }
}

/// Tenant ids by configured id or name, bounded.
private final class TenantIDs: Sendable {
    private let ids = Mutex<[String: String]>([:])

    func id(of key: String) -> String? { ids.withLock { $0[key] } }

    func remember(_ id: String, for key: String) {
        ids.withLock { ids in
            if ids.count >= 10_000 { ids.removeAll(keepingCapacity: true) }
            ids[key] = id
        }
    }
}
