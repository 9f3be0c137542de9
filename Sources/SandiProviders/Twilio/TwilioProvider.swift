public import AsyncHTTPClient
import Foundation
public import SandiCore
import NIOCore
import NIOFoundationCompat

/// Twilio for SMS and voice. SMS through the Messages API
/// (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form encoded, HTTP Basic auth) from a number
/// or a branded alphanumeric sender, with a validity no longer than the code lives; voice through
/// the Calls API with inline TwiML that reads the code digit by digit, twice, in the user's
/// language. Status callbacks come back to ``TwilioCallbacks``.
public struct TwilioProvider: ChannelProvider {
    /// One Twilio account.
    public struct Options: Sendable {
        public var accountSID: String
        public var authToken: String
        /// The SMS sender: a Twilio number, or an alphanumeric sender id (≤ 11 characters, at
        /// least one letter).
        public var from: String
        /// The number calls come from (nil: no voice).
        public var voiceFrom: String?
        /// Where Twilio posts message status callbacks (nil: no receipts).
        public var statusCallbackURL: String?
        /// Where Twilio posts call status callbacks (nil: no receipts).
        public var callStatusCallbackURL: String?
        /// The API's root (tests point it at a fake).
        public var apiBase: String
        public var timeoutMs: Int
        public var name: String

        public init(accountSID: String, authToken: String, from: String, voiceFrom: String? = nil, statusCallbackURL: String? = nil,
                    callStatusCallbackURL: String? = nil, apiBase: String = "https://api.twilio.com", timeoutMs: Int = 4000, name: String = "twilio") {
            self.accountSID = accountSID
            self.authToken = authToken
            self.from = from
            self.voiceFrom = voiceFrom
            self.statusCallbackURL = statusCallbackURL
            self.callStatusCallbackURL = callStatusCallbackURL
            self.apiBase = apiBase
            self.timeoutMs = timeoutMs
            self.name = name
        }
    }

    public let options: Options
    public var name: String { options.name }
    public let channels: Set<SandiCore.Channel>
    let client: HTTPClient

    public init(options: Options, client: HTTPClient = .shared) {
        self.options = options
        self.client = client
        self.channels = options.voiceFrom == nil ? [.sms] : [.sms, .voice]
    }

    /// Whether Twilio takes `sender` as `From`: E.164, or 1–11 letters, digits and spaces with at
    /// least one letter.
    public static func isValidSender(_ sender: String) -> Bool {
        if sender.hasPrefix("+") { return (8...16).contains(sender.count) && sender.dropFirst().allSatisfy { $0.isASCII && $0.isNumber } }
        return (1...11).contains(sender.count) && sender.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }
            && sender.contains { $0.isASCII && $0.isLetter }
    }

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        switch message.channel {
        case .sms:
            var form: [(String, String)] = [("To", message.to), ("From", options.from), ("Body", message.text),
                                            ("ValidityPeriod", String(min(36_000, max(1, message.ttlSeconds))))]
            if let callback = options.statusCallbackURL { form.append(("StatusCallback", callback)) }
            return try await post("Messages.json", form: form)
        case .voice:
            guard let voiceFrom = options.voiceFrom else { throw .undeliverable("twilio: voice not configured") }
            var form: [(String, String)] = [("To", message.to), ("From", voiceFrom), ("Twiml", Self.twiml(message)),
                                            ("Timeout", "30")]
            if let callback = options.callStatusCallbackURL {
                form += [("StatusCallback", callback), ("StatusCallbackMethod", "POST")]
                form += ["initiated", "ringing", "answered", "completed"].map { ("StatusCallbackEvent", $0) }
            }
            return try await post("Calls.json", form: form)
        default:
            throw .undeliverable("twilio: \(message.channel.rawValue) not supported")
        }
    }

    func post(_ resource: String, form: [(String, String)]) async throws(ProviderError) -> ProviderAcceptance {
        var request = HTTPClientRequest(url: "\(options.apiBase)/2010-04-01/Accounts/\(options.accountSID)/\(resource)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(options.accountSID):\(options.authToken)".utf8).base64EncodedString())
        request.body = .bytes(ByteBuffer(string: FormBody.encode(form)))
        let reply = try await ProviderCall.send(request, client: client, timeoutMs: options.timeoutMs, provider: "twilio")
        let (status, json) = (reply.status, reply.json)
        if status == 201 || status == 200, let sid = json["sid"]?.stringValue, !sid.isEmpty {
            return ProviderAcceptance(providerMessageID: sid)
        }
        var code: Int?
        if case .number(let n)? = json["code"] { code = Int(n) }
        throw Self.outcome(status: status, code: code)
    }

    /// The TwiML of a voice code: the script (which already spells the code digit by digit and
    /// repeats it), slowly, in the user's language, said twice with a pause between.
    public static func twiml(_ message: OutboundMessage) -> String {
        let language = VoiceLanguages.bcp47(message.locale)
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
            + "<Say language=\"\(language)\"><prosody rate=\"slow\">\(xmlEscaped(message.text))</prosody></Say>"
            + "<Pause length=\"1\"/>"
            + "<Say language=\"\(language)\"><prosody rate=\"slow\">\(xmlEscaped(message.text))</prosody></Say>"
            + "</Response>"
    }

    static func xmlEscaped(_ text: String) -> String { XMLText.escaped(text) }

    /// What a refused request means for the plan (by Twilio's error code first, then status).
    public static func outcome(status: Int, code: Int?) -> ProviderError {
        switch (status, code) {
        case (429, _), (_, 20429?): .transient("twilio: too many requests")
        // Not a mobile number, no route from this sender, no permission for the country, opted out:
        // this channel cannot reach the number.
        case (_, 21614?), (_, 21612?), (_, 21408?), (_, 21610?), (_, 21211?): .undeliverable("twilio: code \(code ?? 0)")
        case (500..., _): .transient("twilio: http \(status)")
        default: .failed("twilio: http \(status)" + (code.map { " code \($0)" } ?? ""))
        }
    }

    /// A message status callback's `MessageStatus` as a delivery status (nil: not news).
    public static func status(ofMessage messageStatus: String) -> DeliveryStatus? {
        switch messageStatus {
        case "sent": .sent
        case "delivered": .delivered
        case "read": .read
        case "undelivered", "failed", "canceled": .failed
        default: nil
        }
    }

    /// A call status callback's `CallStatus` as a delivery status (nil: not news). An answered
    /// call heard the code.
    public static func status(ofCall callStatus: String) -> DeliveryStatus? {
        switch callStatus {
        case "ringing": .sent
        case "in-progress", "answered", "completed": .delivered
        case "busy", "failed", "no-answer", "canceled": .failed
        default: nil
        }
    }
}

/// Text-to-speech languages by Sandi locale (BCP 47 tags, as Twilio `<Say language>` and Vonage
/// `language` take them).
public enum VoiceLanguages {
    static let tags: [String: String] = [
        "id": "id-ID", "en": "en-US", "ms": "ms-MY", "vi": "vi-VN", "fil": "fil-PH", "tl": "fil-PH", "th": "th-TH",
        "my": "my-MM", "km": "km-KH", "ne": "ne-NP", "bn": "bn-IN", "hi": "hi-IN", "zh": "cmn-CN", "zh-Hans": "cmn-CN",
    ]

    /// The BCP 47 tag for `locale` (`id` → `id-ID`); English for locales without a voice.
    public static func bcp47(_ locale: String) -> String {
        if let tag = tags[locale] { return tag }
        let base = String(locale.split(separator: "-").first ?? Substring(locale)).split(separator: "_").first.map(String.init) ?? locale
        return tags[base] ?? "en-US"
    }
}
