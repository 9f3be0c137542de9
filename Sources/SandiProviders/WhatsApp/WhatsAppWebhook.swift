import Crypto
public import Foundation
public import Logging
public import SandiCore
import Synchronization

/// A message a WhatsApp user sent to the business number (a reply, a question), as Meta's
/// webhook reports it; the support assistant (``WhatsAppAssistant``) may answer it.
public struct WhatsAppInboundMessage: Sendable, Equatable {
    /// Meta's id of the message (`wamid.…`).
    public var id: String
    /// The sender's WhatsApp id (the phone number's digits, without `+`).
    public var from: String
    /// The sender's profile name, when Meta gave one.
    public var profileName: String?
    /// The business number it was sent to (Meta's phone number id).
    public var phoneNumberID: String?
    public var timestamp: Date?
    /// `text`, `button`, `interactive`, `image`, `audio`, `location`, `unsupported`, …
    public var type: String
    /// What the user wrote or chose: the text, a quick-reply button's text, an interactive
    /// reply's title, a media caption.
    public var text: String?
    /// The id of the chosen interactive reply, or a template button's payload.
    public var replyID: String?
    /// The message this one replies to, when it is a reply.
    public var contextMessageID: String?

    public init(id: String, from: String, profileName: String? = nil, phoneNumberID: String? = nil, timestamp: Date? = nil, type: String,
                text: String? = nil, replyID: String? = nil, contextMessageID: String? = nil) {
        self.id = id
        self.from = from
        self.profileName = profileName
        self.phoneNumberID = phoneNumberID
        self.timestamp = timestamp
        self.type = type
        self.text = text
        self.replyID = replyID
        self.contextMessageID = contextMessageID
    }
}

/// One status of a message Sandi sent, as Meta's webhook reports it.
public struct WhatsAppStatusUpdate: Sendable, Equatable {
    /// The message's id (`wamid.…`), as the send answered it.
    public var messageID: String
    /// `sent`, `delivered`, `read`, `failed` (others are not news to Sandi).
    public var status: String
    /// The first error's code of a `failed` status.
    public var errorCode: Int?
    public var errorTitle: String?
    /// What Sandi sent as `biz_opaque_callback_data`: the delivery id.
    public var callbackData: String?

    public init(messageID: String, status: String, errorCode: Int? = nil, errorTitle: String? = nil, callbackData: String? = nil) {
        self.messageID = messageID
        self.status = status
        self.errorCode = errorCode
        self.errorTitle = errorTitle
        self.callbackData = callbackData
    }

    /// The delivery status it means (nil: not news).
    public var deliveryStatus: DeliveryStatus? {
        switch status {
        case "sent": .sent
        case "delivered": .delivered
        case "read": .read
        case "failed": errorCode.map(WhatsAppWebhook.undeliverableCodes.contains) == true ? .undeliverable : .failed
        default: nil
        }
    }
}

/// Meta's webhook for WhatsApp at `/v1/callbacks/whatsapp`.
///
/// - `GET` is the subscription handshake: `hub.mode=subscribe` with `hub.verify_token` equal to
///   the configured token answers the `hub.challenge` as plain text; anything else 403.
/// - `POST` carries notifications, signed with `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256
///   of the raw body with the app secret; any of several secrets is accepted, so a secret can be
///   rotated without losing receipts); unsigned or forged ones are refused with 403. A body that
///   is signed but not JSON is refused with 400.
///
/// Each status (a request may batch several entries, changes and statuses) is applied to the
/// delivery Meta knows by the message id: `sent`, `delivered`, `read`, and `failed`, which is
/// `undeliverable` for "not on WhatsApp" (131026) and a country restriction (130497), so Sandi
/// remembers the number and falls back at once. Statuses only move forward, so redeliveries and
/// out-of-order ones change nothing; recently seen (message id, status) pairs are also skipped
/// without touching storage. Statuses of unknown messages are acknowledged and ignored. Messages
/// users send go to the `onMessage` hook (the support assistant, which bounds its own time), once
/// per id seen recently; the request is answered when the hook returns.
public struct WhatsAppWebhook: CallbackHandler {
    public let route = "whatsapp"
    let appSecrets: [SymmetricKey]
    let verifyToken: String
    let provider: String
    let recorder: ReceiptRecorder
    let onMessage: (@Sendable (WhatsAppInboundMessage) async -> Void)?
    let logger: Logger
    let seen: RecentKeys

    /// Failure codes that mean WhatsApp cannot reach this number (rather than "this message failed").
    public static let undeliverableCodes: Set<Int> = [131026, 130497]

    /// How long after queuing a delivery whose send has not been recorded yet a status for it is
    /// answered "try again" (Meta may report `sent` before the send's answer is stored).
    static let sendInFlightSeconds: TimeInterval = 120

    /// - Parameters:
    ///   - appSecrets: the Meta app's secrets, current first (old ones while rotating).
    ///   - verifyToken: the token entered at Meta with the callback URL.
    ///   - recentCapacity: how many (message id, status) pairs are remembered to skip redeliveries.
    public init(appSecrets: [String], verifyToken: String, provider: String = "whatsapp", recorder: ReceiptRecorder,
                logger: Logger = Logger(label: "sandi.whatsapp"), recentCapacity: Int = 8192,
                onMessage: (@Sendable (WhatsAppInboundMessage) async -> Void)? = nil) {
        self.appSecrets = appSecrets.filter { !$0.isEmpty }.map { SymmetricKey(data: Data($0.utf8)) }
        self.verifyToken = verifyToken
        self.provider = provider
        self.recorder = recorder
        self.onMessage = onMessage
        self.logger = logger
        self.seen = RecentKeys(capacity: recentCapacity)
    }

    /// Statuses and messages skipped because they were seen moments ago.
    public var duplicatesSkipped: Int { seen.skipped }

    public func handle(_ request: InboundCallback) async throws -> CallbackAnswer {
        guard request.action == nil else { throw CallbackRejection.notFound }
        switch request.method {
        case "GET": return try handshake(request)
        case "POST": return try await notification(request)
        default: throw CallbackRejection.notFound
        }
    }

    /// The subscription handshake.
    func handshake(_ request: InboundCallback) throws -> CallbackAnswer {
        guard request.queryValue("hub.mode") == "subscribe", let token = request.queryValue("hub.verify_token"),
              !verifyToken.isEmpty, WhatsAppSignature.constantTimeEqual(Data(token.utf8), Data(verifyToken.utf8))
        else { throw CallbackRejection.forbidden("not a subscription with the configured verify token") }
        guard let challenge = request.queryValue("hub.challenge"), (1...256).contains(challenge.count),
              challenge.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else { throw CallbackRejection.forbidden("hub.challenge missing or malformed") }
        return CallbackAnswer(status: 200, contentType: "text/plain; charset=utf-8", body: challenge)
    }

    /// A signed notification.
    func notification(_ request: InboundCallback) async throws -> CallbackAnswer {
        guard let header = request.header("X-Hub-Signature-256"), WhatsAppSignature.isValid(header, body: request.body, secrets: appSecrets) else {
            throw CallbackRejection.forbidden("missing or invalid X-Hub-Signature-256")
        }
        let notification: WhatsAppNotification
        do {
            notification = try WhatsAppNotification.parse(request.body)
        } catch {
            throw CallbackRejection.invalid("not a WhatsApp notification (JSON object expected)")
        }
        for problem in notification.errors {
            logger.warning("whatsapp: Meta reported an error", metadata: ["code": "\(problem.code.map(String.init) ?? "none")", "title": .string(problem.title ?? "")])
        }
        for update in notification.statuses {
            try await apply(update)
        }
        // Messages of one request are handled side by side, so a batch takes as long as its
        // slowest message (each bounded by the hook), not their sum; answered after them all.
        if let onMessage {
            await withTaskGroup(of: Void.self) { group in
                for message in notification.messages where seen.insert("\(message.id)|inbound") {
                    group.addTask { await onMessage(message) }
                }
            }
        }
        return .received
    }

    /// Applies one status, unless it was just seen.
    func apply(_ update: WhatsAppStatusUpdate) async throws {
        guard let status = update.deliveryStatus else { return }
        let key = "\(update.messageID)|\(status.rawValue)"
        guard !seen.contains(key) else {
            seen.countSkip()
            return
        }
        let error = status.isFailure ? "whatsapp: error " + (update.errorCode.map(String.init) ?? "unknown") : nil
        if try await recorder.record(provider: provider, messageIDs: [update.messageID], status: status, error: error) != nil {
            _ = seen.insert(key)
            return
        }
        // Not known by this id. Meta may report a message before the send's answer is stored:
        // when our reference names a delivery of ours still being sent, Meta should try again.
        if let reference = update.callbackData, Identifier.isWellFormed(reference, as: .delivery),
           let delivery = try await recorder.lookup.delivery(id: reference), delivery.provider == provider,
           delivery.status == .queued, delivery.providerMessageID == nil,
           recorder.processor.clock.now.timeIntervalSince(delivery.queuedAt) < Self.sendInFlightSeconds {
            throw SendNotRecordedYet()
        }
        logger.debug("whatsapp: status of an unknown message ignored", metadata: ["status": .string(update.status)])
    }

    /// A status arrived before the answer of its send was stored: answered 503 so Meta retries.
    struct SendNotRecordedYet: Error {}
}

/// `X-Hub-Signature-256`: `sha256=` and the lowercase hex HMAC-SHA256 of the raw body, keyed with
/// the Meta app's secret.
public enum WhatsAppSignature {
    /// The header value for `body` signed with `secret`.
    public static func header(body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` signs `body` with one of `secrets` (each compared in constant time).
    static func isValid(_ header: String, body: Data, secrets: [SymmetricKey]) -> Bool {
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix("sha256="), let given = hexBytes(value.dropFirst(7)), given.count == 32 else { return false }
        var valid = false
        for secret in secrets {
            // Every secret is tried, so timing does not tell which one matched.
            valid = HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: body, using: secret) || valid
        }
        return valid
    }

    static func hexBytes(_ text: Substring) -> Data? {
        guard text.count % 2 == 0 else { return nil }
        var bytes = Data(capacity: text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        // Digests first, so neither the length nor the first difference shows in the timing.
        let x = Data(SHA256.hash(data: a)), y = Data(SHA256.hash(data: b))
        var difference: UInt8 = 0
        for (p, q) in zip(x, y) { difference |= p ^ q }
        return difference == 0
    }
}

/// What one webhook request reports: statuses of sent messages, messages from users, and errors
/// not tied to a message. Fields Sandi does not use are ignored.
public struct WhatsAppNotification: Sendable, Equatable {
    public struct Problem: Sendable, Equatable {
        public var code: Int?
        public var title: String?
    }

    public var statuses: [WhatsAppStatusUpdate] = []
    public var messages: [WhatsAppInboundMessage] = []
    public var errors: [Problem] = []

    struct NotAnObject: Error {}

    /// Reads a webhook body; throws when it is not a JSON object.
    public static func parse(_ body: Data) throws -> WhatsAppNotification {
        guard let root = JSONValue.parseObject(body) else { throw NotAnObject() }
        var result = WhatsAppNotification()
        guard root["object"]?.stringValue ?? "whatsapp_business_account" == "whatsapp_business_account" else { return result }
        for entry in root["entry"]?.arrayValue ?? [] {
            for change in entry.objectValue?["changes"]?.arrayValue ?? [] {
                guard let value = change.objectValue?["value"]?.objectValue else { continue }
                let phoneNumberID = value["metadata"]?.objectValue?["phone_number_id"]?.stringValue
                for status in value["statuses"]?.arrayValue ?? [] {
                    guard let s = status.objectValue, let id = s["id"]?.stringValue, !id.isEmpty, let name = s["status"]?.stringValue else { continue }
                    let error = s["errors"]?.arrayValue?.first?.objectValue
                    result.statuses.append(WhatsAppStatusUpdate(
                        messageID: id, status: name, errorCode: error?["code"]?.intValue, errorTitle: error?["title"]?.stringValue,
                        callbackData: s["biz_opaque_callback_data"]?.stringValue))
                }
                var names: [String: String] = [:]
                for contact in value["contacts"]?.arrayValue ?? [] {
                    if let c = contact.objectValue, let waID = c["wa_id"]?.stringValue, let name = c["profile"]?.objectValue?["name"]?.stringValue {
                        names[waID] = name
                    }
                }
                for message in value["messages"]?.arrayValue ?? [] {
                    guard let m = message.objectValue, let id = m["id"]?.stringValue, !id.isEmpty, let from = m["from"]?.stringValue else { continue }
                    result.messages.append(inbound(m, id: id, from: from, profileName: names[from], phoneNumberID: phoneNumberID))
                }
                for error in value["errors"]?.arrayValue ?? [] {
                    result.errors.append(Problem(code: error.objectValue?["code"]?.intValue, title: error.objectValue?["title"]?.stringValue))
                }
            }
        }
        return result
    }

    static func inbound(_ m: [String: JSONValue], id: String, from: String, profileName: String?, phoneNumberID: String?) -> WhatsAppInboundMessage {
        let type = m["type"]?.stringValue ?? "unknown"
        var text: String?
        var replyID: String?
        switch type {
        case "text":
            text = m["text"]?.objectValue?["body"]?.stringValue
        case "button":
            text = m["button"]?.objectValue?["text"]?.stringValue
            replyID = m["button"]?.objectValue?["payload"]?.stringValue
        case "interactive":
            let interactive = m["interactive"]?.objectValue
            let reply = (interactive?["button_reply"] ?? interactive?["list_reply"])?.objectValue
            text = reply?["title"]?.stringValue
            replyID = reply?["id"]?.stringValue
        default:
            text = m[type]?.objectValue?["caption"]?.stringValue
        }
        let timestamp = m["timestamp"]?.stringValue.flatMap(TimeInterval.init).map { Date(timeIntervalSince1970: $0) }
        return WhatsAppInboundMessage(
            id: id, from: from, profileName: profileName, phoneNumberID: phoneNumberID, timestamp: timestamp, type: type,
            text: text, replyID: replyID, contextMessageID: m["context"]?.objectValue?["id"]?.stringValue)
    }
}

/// The most recent keys seen, at most `capacity` (the oldest forgotten first).
final class RecentKeys: Sendable {
    private struct State {
        var keys: Set<String> = []
        var order: [String] = []
        var next = 0
        var skipped = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func contains(_ key: String) -> Bool { state.withLock { $0.keys.contains(key) } }

    func countSkip() { state.withLock { $0.skipped += 1 } }

    var skipped: Int { state.withLock { $0.skipped } }

    /// Adds `key`; false (and counted as skipped) when it was already there.
    func insert(_ key: String) -> Bool {
        state.withLock { s in
            guard !s.keys.contains(key) else {
                s.skipped += 1
                return false
            }
            s.keys.insert(key)
            if s.order.count < capacity {
                s.order.append(key)
            } else {
                s.keys.remove(s.order[s.next])
                s.order[s.next] = key
                s.next = (s.next + 1) % capacity
            }
            return true
        }
    }
}
