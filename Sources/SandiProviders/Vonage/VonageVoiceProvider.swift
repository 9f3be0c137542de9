public import AsyncHTTPClient
import Foundation
public import SandiCore
import NIOCore
import NIOFoundationCompat

/// Vonage (Nexmo) Voice API for voice codes: `POST {apiBase}/v1/calls` with a bearer token
/// signed by the application's RSA key, calling from a Vonage number with an inline NCCO whose
/// `talk` action reads the script (which already spells the code digit by digit) slowly, in the
/// user's language, twice. The call's `uuid` is the message id; call events come back to
/// ``VonageCallbacks`` at the `event_url`.
public struct VonageVoiceProvider: ChannelProvider {
    public struct Options: Sendable {
        public var applicationID: String
        public var privateKey: VonageJWT.ApplicationKey
        /// The Vonage number calls come from (E.164, with or without `+`).
        public var from: String
        /// Where Vonage sends call events (nil: the application's event URL).
        public var eventURL: String?
        /// Premium (neural) voices for the talk action.
        public var premium: Bool
        /// The API's root (tests point it at a fake).
        public var apiBase: String
        public var timeoutMs: Int
        public var name: String

        public init(applicationID: String, privateKey: VonageJWT.ApplicationKey, from: String, eventURL: String? = nil, premium: Bool = false,
                    apiBase: String = "https://api.nexmo.com", timeoutMs: Int = 4000, name: String = "vonage") {
            self.applicationID = applicationID
            self.privateKey = privateKey
            self.from = from
            self.eventURL = eventURL
            self.premium = premium
            self.apiBase = apiBase
            self.timeoutMs = timeoutMs
            self.name = name
        }
    }

    public let options: Options
    public var name: String { options.name }
    public let channels: Set<SandiCore.Channel> = [.voice]
    let clock: any TimeSource
    let client: HTTPClient

    public init(options: Options, clock: any TimeSource = SystemTimeSource(), client: HTTPClient = .shared) {
        self.options = options
        self.clock = clock
        self.client = client
    }

    /// The body of the call that reads `message`.
    public func call(_ message: OutboundMessage) -> [String: JSONValue] {
        var talk: [String: JSONValue] = [
            "action": "talk", "text": .string(Self.speech(message.text)), "language": .string(VoiceLanguages.bcp47(message.locale)), "loop": 2,
        ]
        if options.premium { talk["premium"] = true }
        var body: [String: JSONValue] = [
            "to": .array([.object(["type": "phone", "number": .string(Self.digits(message.to))])]),
            "from": .object(["type": "phone", "number": .string(Self.digits(options.from))]),
            "ncco": .array([.object(talk)]),
            "ringing_timer": 45, "length_timer": 180,
        ]
        if let eventURL = options.eventURL {
            body["event_url"] = .array([.string(eventURL)])
            body["event_method"] = "POST"
        }
        return body
    }

    /// The talk text: the script as SSML, slowly, with a pause before it is said again (the
    /// action loops twice). Vonage takes at most 1500 characters; a longer script goes plain.
    public static func speech(_ script: String) -> String {
        let ssml = "<speak><prosody rate='slow'>\(xmlEscaped(script))</prosody><break time='1s'/></speak>"
        return ssml.count <= 1500 ? ssml : String(script.prefix(1500))
    }

    static func xmlEscaped(_ text: String) -> String { XMLText.escaped(text) }

    static func digits(_ number: String) -> String { number.hasPrefix("+") ? String(number.dropFirst()) : number }

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        guard message.channel == .voice else { throw .undeliverable("vonage: \(message.channel.rawValue) not supported") }
        let token: String
        let payload: Data
        do {
            token = try VonageJWT.applicationToken(applicationID: options.applicationID, key: options.privateKey, now: clock.now)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            payload = try encoder.encode(JSONValue.object(call(message)))
        } catch {
            throw .failed("vonage: could not sign the request")
        }
        var request = HTTPClientRequest(url: "\(options.apiBase)/v1/calls")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.body = .bytes(ByteBuffer(data: payload))
        // No answer counts as failed: the call may have been placed; another could ring twice.
        let reply = try await ProviderCall.send(request, client: client, timeoutMs: options.timeoutMs, provider: "vonage")
        let (status, json) = (reply.status, reply.json)
        if (200...299).contains(status), let uuid = json["uuid"]?.stringValue, !uuid.isEmpty {
            return ProviderAcceptance(providerMessageID: uuid)
        }
        throw Self.outcome(status: status, title: json["title"]?.stringValue ?? json["error_title"]?.stringValue)
    }

    /// What a refused call means (problem details `{type, title, detail}`): rate limits and
    /// Vonage's own faults are tried again; the rest (credentials, parameters) fail the step.
    public static func outcome(status: Int, title: String?) -> ProviderError {
        let reason = "vonage: http \(status)" + (title.map { " \($0)" } ?? "")
        switch status {
        case 429: return .transient(reason)
        case 500...: return .transient(reason)
        default: return .failed(reason)
        }
    }

    /// A call event's `status` as a delivery status (nil: not news). An answered call heard the
    /// code; `completed` after no talk at all (duration 0) is not taken as heard.
    public static func status(ofCall status: String, duration: String? = nil) -> DeliveryStatus? {
        switch status {
        case "started", "ringing": return .sent
        case "answered": return .delivered
        case "completed": return duration.flatMap(Int.init) == 0 ? nil : .delivered
        case "busy", "failed", "rejected", "timeout", "unanswered", "cancelled": return .failed
        default: return nil
        }
    }
}
