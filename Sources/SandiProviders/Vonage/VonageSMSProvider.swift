public import AsyncHTTPClient
public import Foundation
public import SandiCore
import SandiSMPP
import NIOCore
import NIOFoundationCompat

/// Vonage (Nexmo) SMS API for SMS: `POST {restBase}/sms/json`, form encoded with `api_key` and
/// `api_secret`, from a branded alphanumeric sender or a number, `type=unicode` when the text is
/// not GSM 03.38, a validity (`ttl`) no longer than the code lives, our delivery id as
/// `client-ref`, and a delivery receipt asked to `callback`. The answer is HTTP 200 even when
/// a message is refused: each part has its own `status`. Receipts come back to ``VonageCallbacks``.
public struct VonageSMSProvider: ChannelProvider {
    public struct Options: Sendable {
        public var apiKey: String
        public var apiSecret: String
        /// The sender: 1–11 letters, digits or spaces with a letter, or a number (digits only).
        public var from: String
        /// Where Vonage sends delivery receipts (nil: the account's default, if any).
        public var callbackURL: String?
        /// The SMS API's root (tests point it at a fake).
        public var restBase: String
        public var timeoutMs: Int
        public var name: String

        public init(apiKey: String, apiSecret: String, from: String, callbackURL: String? = nil, restBase: String = "https://rest.nexmo.com",
                    timeoutMs: Int = 4000, name: String = "vonage") {
            self.apiKey = apiKey
            self.apiSecret = apiSecret
            self.from = from
            self.callbackURL = callbackURL
            self.restBase = restBase
            self.timeoutMs = timeoutMs
            self.name = name
        }
    }

    public let options: Options
    public var name: String { options.name }
    public let channels: Set<SandiCore.Channel> = [.sms]
    let client: HTTPClient

    public init(options: Options, client: HTTPClient = .shared) {
        self.options = options
        self.client = client
    }

    /// Whether Vonage takes `sender` as `from`: a number of 4–15 digits (no `+`), or 1–11 letters,
    /// digits and spaces with at least one letter.
    public static func isValidSender(_ sender: String) -> Bool {
        if sender.allSatisfy({ $0.isASCII && $0.isNumber }) { return (4...15).contains(sender.count) }
        return (1...11).contains(sender.count) && sender.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }
            && sender.contains { $0.isASCII && $0.isLetter }
    }

    /// The form of one send.
    func form(_ message: OutboundMessage) -> [(String, String)] {
        let ttlMs = min(604_800_000, max(20_000, message.ttlSeconds * 1000))
        var form: [(String, String)] = [
            ("api_key", options.apiKey), ("api_secret", options.apiSecret), ("from", options.from),
            ("to", message.to.hasPrefix("+") ? String(message.to.dropFirst()) : message.to), ("text", message.text),
            ("type", GSM7.canEncode(message.text) ? "text" : "unicode"), ("ttl", String(ttlMs)), ("client-ref", message.deliveryID),
        ]
        if let callback = options.callbackURL { form += [("status-report-req", "1"), ("callback", callback)] }
        return form
    }

    /// `application/x-www-form-urlencoded` with every byte outside ASCII letters, digits and
    /// `-._~` percent-encoded (so Thai or emoji travel as UTF-8 escapes, never raw).
    static func formEncoded(_ pairs: [(String, String)]) -> String {
        func encode(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                }
            }
            return out
        }
        return pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        guard message.channel == .sms else { throw .undeliverable("vonage: \(message.channel.rawValue) not supported") }
        var request = HTTPClientRequest(url: "\(options.restBase)/sms/json")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.formEncoded(form(message))))
        let reply = try await ProviderCall.send(request, client: client, timeoutMs: options.timeoutMs, provider: "vonage")
        return try Self.acceptance(status: reply.status, body: reply.body)
    }

    /// What an answer of the SMS API means: every part accepted (status 0) is a send whose id is
    /// the first part's `message-id`; otherwise the first refused part's status decides.
    public static func acceptance(status: Int, body: Data) throws(ProviderError) -> ProviderAcceptance {
        guard status == 200 else {
            switch status {
            case 429: throw .transient("vonage: too many requests")
            case 500...: throw .transient("vonage: http \(status)")
            default: throw .failed("vonage: http \(status)")
            }
        }
        let json = JSONValue.parseObject(body) ?? [:]
        let parts = (json["messages"]?.arrayValue ?? []).compactMap(\.objectValue)
        guard !parts.isEmpty else { throw .failed("vonage: unreadable answer") }
        let refused = parts.first { code($0["status"]) != 0 }
        guard let refused else {
            guard let id = parts.first?["message-id"]?.stringValue, !id.isEmpty else { throw .failed("vonage: no message-id") }
            return ProviderAcceptance(providerMessageID: id)
        }
        let statusCode = code(refused["status"]) ?? -1
        // Some parts went out: sending again would repeat them.
        if parts.contains(where: { code($0["status"]) == 0 }) { throw .failed("vonage: only some parts accepted (status \(statusCode))") }
        throw outcome(status: statusCode)
    }

    static func code(_ value: JSONValue?) -> Int? {
        switch value {
        case .string(let s)?: Int(s)
        case .number(let n)?: Int(exactly: n)
        default: nil
        }
    }

    /// A refused message's `status` as the plan sees it: throttling and Vonage's own faults are
    /// tried again; a barred, deactivated or unroutable number cannot be reached by SMS; the rest
    /// (credentials, parameters, account) fail the step.
    public static func outcome(status: Int) -> ProviderError {
        switch status {
        case 1: .transient("vonage: throttled (status 1)")
        case 5: .transient("vonage: internal error (status 5)")
        case 10: .transient("vonage: too many binds (status 10)")
        case 6: .undeliverable("vonage: unroutable number (status 6)")
        case 7: .undeliverable("vonage: number barred (status 7)")
        case 33: .undeliverable("vonage: number de-activated (status 33)")
        default: .failed("vonage: status \(status)")
        }
    }

    /// A delivery receipt's `status` (and `err-code`) as a delivery status (nil: not news). A
    /// failure for an unknown or permanently absent subscriber or an illegal number means SMS
    /// cannot reach the number.
    public static func status(ofReceipt status: String, errorCode: String?) -> DeliveryStatus? {
        switch status.lowercased() {
        case "delivered": return .delivered
        case "accepted", "buffered": return .sent
        case "expired", "failed", "rejected":
            if let errorCode, ["1", "3", "9"].contains(errorCode) { return .undeliverable }
            return .failed
        default: return nil
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
