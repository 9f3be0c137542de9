import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A local Meta Graph API for WhatsApp on loopback, speaking the Cloud API's wire format:
/// `POST /v{n}.{m}/{phone_number_id}/messages` with a bearer token, an authentication template
/// checked field by field (the code twice: body and URL button), answers with a `wamid.`, Graph
/// error envelopes on demand, free-form text replies (checked, and awaitable by tests), and
/// webhooks posted to Sandi signed with `X-Hub-Signature-256` over exactly the bytes sent.
final class FakeGraphAPI: Sendable {
    /// One template message the fake accepted.
    struct Sent: Sendable, Equatable {
        let version: String
        let phoneNumberID: String
        let token: String
        let to: String
        let template: String
        let language: String
        let code: String
        let callbackData: String?
        let wamid: String
    }

    /// A Graph error envelope to answer instead of sending.
    enum Failure: Sendable {
        /// 131026: message undeliverable (not on WhatsApp), answered synchronously.
        case notOnWhatsApp
        /// 130429: throughput exceeded (HTTP 429).
        case throttled
        /// 131056: pair rate limit (HTTP 400).
        case pairLimit
        /// 190: the access token expired (HTTP 401).
        case expiredToken
    }

    /// One free-form text message the fake accepted (a reply within the 24-hour window).
    struct Text: Sendable, Equatable {
        let phoneNumberID: String
        let token: String
        let to: String
        let body: String
        let wamid: String
    }

    /// Accepted bearer tokens by phone number id.
    let tokens: [String: String]
    let appSecret: String
    let sent = Mutex<[Sent]>([])
    /// Requests that broke the wire format (each answered 400 code 100).
    let problems = Mutex<[String]>([])
    /// Canned failures by recipient (`to` as sent).
    let failures = Mutex<[String: Failure]>([:])

    let texts = Mutex<[Text]>([])
    /// Text requests received, answered or not.
    let textAttempts = Mutex(0)
    /// While true, text requests are held unanswered until ``releaseTexts()`` (a Graph API that hangs).
    let holdTexts = Mutex(false)
    private let held = Mutex<[CheckedContinuation<Void, Never>]>([])
    /// Tests waiting for a number of texts, by a key of their own.
    private let waiters = Mutex<[UUID: (count: Int, continuation: CheckedContinuation<Void, Never>)]>([:])

    init(tokens: [String: String], appSecret: String) {
        self.tokens = tokens
        self.appSecret = appSecret
    }

    func fail(_ to: String, with failure: Failure?) { failures.withLock { $0[to] = failure } }

    func graphError(_ status: HTTPResponse.Status, code: Int, type: String = "OAuthException", message: String) -> Response {
        let body = #"{"error":{"message":"(#\#(code)) \#(message)","type":"\#(type)","code":\#(code),"error_data":{"messaging_product":"whatsapp","details":"\#(message)"},"fbtrace_id":"AbCdEf123"}}"#
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func problem(_ text: String) -> Response {
        problems.withLock { $0.append(text) }
        return graphError(.badRequest, code: 100, message: "Invalid parameter: \(text)")
    }

    func handle(_ request: Request, version: String, phoneNumberID: String) async throws -> Response {
        let raw = try await request.body.collect(upTo: 65_536)
        guard version.wholeMatch(of: /v[0-9]+\.[0-9]+/) != nil else { return problem("version \(version) is not v<major>.<minor>") }
        guard let token = tokens[phoneNumberID] else {
            return graphError(.badRequest, code: 100, type: "GraphMethodException", message: "Unsupported post request. Object with ID '\(phoneNumberID)' does not exist")
        }
        guard request.headers[.authorization] == "Bearer " + token else {
            return graphError(.unauthorized, code: 190, message: "Invalid OAuth access token - Cannot parse access token")
        }
        guard request.headers[.contentType]?.hasPrefix("application/json") == true else { return problem("content type") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: raw)) as? [String: Any] else { return problem("body is not a JSON object") }
        if object["type"] as? String == "text" {
            textAttempts.withLock { $0 += 1 }
            if holdTexts.withLock({ $0 }) {
                await withCheckedContinuation { continuation in held.withLock { $0.append(continuation) } }
            }
            return text(object, raw: Data(buffer: raw), phoneNumberID: phoneNumberID, token: token)
        }
        let topKeys: Set<String> = ["messaging_product", "recipient_type", "to", "type", "template", "biz_opaque_callback_data"]
        guard Set(object.keys).isSubset(of: topKeys), Set(object.keys).isSuperset(of: topKeys.subtracting(["biz_opaque_callback_data"])) else {
            return problem("top-level keys \(object.keys.sorted())")
        }
        guard object["messaging_product"] as? String == "whatsapp", object["recipient_type"] as? String == "individual",
              object["type"] as? String == "template" else { return problem("messaging_product/recipient_type/type") }
        guard let to = object["to"] as? String, to.wholeMatch(of: /\+?[1-9][0-9]{6,14}/) != nil else { return problem("to") }
        guard let template = object["template"] as? [String: Any], Set(template.keys) == ["name", "language", "components"],
              let name = template["name"] as? String, !name.isEmpty,
              let language = template["language"] as? [String: Any], Set(language.keys).isSubset(of: ["code", "policy"]),
              let languageCode = language["code"] as? String, !languageCode.isEmpty,
              let components = template["components"] as? [[String: Any]], components.count == 2
        else { return problem("template shape") }
        let body = components[0], button = components[1]
        guard Set(body.keys) == ["type", "parameters"], body["type"] as? String == "body",
              let bodyParameters = body["parameters"] as? [[String: Any]], bodyParameters.count == 1,
              Set(bodyParameters[0].keys) == ["type", "text"], bodyParameters[0]["type"] as? String == "text",
              let bodyCode = bodyParameters[0]["text"] as? String
        else { return problem("body component") }
        let index = (button["index"] as? String) ?? (button["index"] as? Int).map(String.init)
        guard Set(button.keys) == ["type", "sub_type", "index", "parameters"], button["type"] as? String == "button",
              button["sub_type"] as? String == "url", index == "0",
              let buttonParameters = button["parameters"] as? [[String: Any]], buttonParameters.count == 1,
              Set(buttonParameters[0].keys) == ["type", "text"], buttonParameters[0]["type"] as? String == "text",
              let buttonCode = buttonParameters[0]["text"] as? String
        else { return problem("button component") }
        guard bodyCode == buttonCode, (1...15).contains(bodyCode.count) else { return problem("the code must be the same in body and button, ≤ 15 characters") }
        switch failures.withLock({ $0[to] }) {
        case .notOnWhatsApp?:
            return graphError(.badRequest, code: 131026, message: "Message undeliverable")
        case .throttled?:
            return graphError(.tooManyRequests, code: 130429, message: "Rate limit hit")
        case .pairLimit?:
            return graphError(.badRequest, code: 131056, message: "(Business Account, Consumer Account) pair rate limit hit")
        case .expiredToken?:
            return graphError(.unauthorized, code: 190, message: "Error validating access token: Session has expired")
        case nil:
            break
        }
        let wamid = "wamid.HBgN" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        sent.withLock {
            $0.append(Sent(version: version, phoneNumberID: phoneNumberID, token: token, to: to, template: name, language: languageCode,
                           code: bodyCode, callbackData: object["biz_opaque_callback_data"] as? String, wamid: wamid))
        }
        let digits = to.filter(\.isNumber)
        let answer = #"{"messaging_product":"whatsapp","contacts":[{"input":"\#(to)","wa_id":"\#(digits)"}],"messages":[{"id":"\#(wamid)","message_status":"accepted"}]}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
    }

    /// A free-form text message, checked field by field: exactly the keys Meta documents, `to` a
    /// WhatsApp id (digits), `preview_url` false, a body of 1–4096 characters.
    func text(_ object: [String: Any], raw: Data, phoneNumberID: String, token: String) -> Response {
        struct Typed: Decodable {
            struct Text: Decodable {
                var preview_url: Bool
                var body: String
            }
            var text: Text
        }
        guard Set(object.keys) == ["messaging_product", "recipient_type", "to", "type", "text"],
              object["messaging_product"] as? String == "whatsapp", object["recipient_type"] as? String == "individual"
        else { return problem("text message keys \(object.keys.sorted())") }
        guard let to = object["to"] as? String, to.wholeMatch(of: /[1-9][0-9]{6,14}/) != nil else { return problem("to of a text") }
        guard let text = object["text"] as? [String: Any], Set(text.keys) == ["preview_url", "body"],
              let typed = try? JSONDecoder().decode(Typed.self, from: raw), !typed.text.preview_url, (1...4096).contains(typed.text.body.count)
        else { return problem("text object") }
        let body = typed.text.body
        let wamid = "wamid.HBgT" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let count = texts.withLock {
            $0.append(Text(phoneNumberID: phoneNumberID, token: token, to: to, body: body, wamid: wamid))
            return $0.count
        }
        let ready = waiters.withLock { waiters in
            let due = waiters.filter { $0.value.count <= count }
            for key in due.keys { waiters[key] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
        let answer = #"{"messaging_product":"whatsapp","contacts":[{"input":"\#(to)","wa_id":"\#(to)"}],"messages":[{"id":"\#(wamid)"}]}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
    }

    /// Answers the held text requests and stops holding new ones.
    func releaseTexts() {
        holdTexts.withLock { $0 = false }
        for continuation in held.withLock({ held in defer { held = [] }; return held }) { continuation.resume() }
    }

    /// The texts once there are at least `count`, waiting for them (up to `timeout`, then failing).
    func waitForTexts(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [Text] {
        let key = UUID()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let ready = self.waiters.withLock { waiters in
                            guard !Task.isCancelled, self.texts.withLock({ $0.count }) < count else { return true }
                            waiters[key] = (count, continuation)
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                } onCancel: {
                    self.waiters.withLock { $0.removeValue(forKey: key) }?.continuation.resume()
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TestFailure("no \(count) WhatsApp texts within \(timeout)")
            }
            try await group.next()
            group.cancelAll()
        }
        return texts.withLock { $0 }
    }

    /// Serves on a free loopback port until `body` returns; passes the API root.
    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post(":version/:phone/messages") { request, context in
            try await self.handle(request, version: context.parameters.get("version") ?? "", phoneNumberID: context.parameters.get("phone") ?? "")
        }
        return try await Loopback.serve(router, body)
    }

    // MARK: Webhooks to Sandi

    /// One status as Meta reports it.
    struct Status: Sendable {
        var wamid: String
        var status: String
        var errorCode: Int? = nil
        var callbackData: String? = nil
        var recipient = "6281234567890"
    }

    /// A status notification body as Meta sends it (one entry, one change, the statuses given).
    static func statusBody(_ statuses: [Status], phoneNumberID: String = "106540352242922") -> Data {
        let items = statuses.map { s in
            var item = #"{"id":"\#(s.wamid)","status":"\#(s.status)","timestamp":"1750857384","recipient_id":"\#(s.recipient)""#
            if let data = s.callbackData { item += #","biz_opaque_callback_data":"\#(data)""# }
            if s.status == "sent" {
                item += #","conversation":{"id":"c0ffee","expiration_timestamp":"1750943784","origin":{"type":"authentication"}}"#
            }
            item += #","pricing":{"billable":true,"pricing_model":"PMP","category":"authentication","type":"regular"}"#
            if let code = s.errorCode {
                item += #","errors":[{"code":\#(code),"title":"Message undeliverable","message":"Message undeliverable","error_data":{"details":"Message Undeliverable."},"href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]"#
            }
            return item + "}"
        }
        let text = #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"\#(phoneNumberID)"},"statuses":[\#(items.joined(separator: ","))]},"field":"messages"}]}]}"#
        return Data(text.utf8)
    }

    /// An inbound text message body as Meta sends it (non-ASCII escaped as `\uXXXX`, as Meta does).
    static func textMessageBody(from: String, name: String, wamid: String, text: String, phoneNumberID: String = "106540352242922") -> Data {
        let escaped = text.utf16.map { $0 < 0x80 ? String(UnicodeScalar(UInt8($0))) : String(format: "\\u%04x", $0) }.joined()
        let body = #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"\#(phoneNumberID)"},"contacts":[{"profile":{"name":"\#(name)"},"wa_id":"\#(from)"}],"messages":[{"from":"\#(from)","id":"\#(wamid)","timestamp":"1694427240","type":"text","text":{"body":"\#(escaped)"}}]},"field":"messages"}]}]}"#
        return Data(body.utf8)
    }

    /// An inbound message of any type as Meta sends it: `payload` is the JSON of the type's
    /// object (`{"mime_type":"image/jpeg",…}` for `image`).
    static func messageBody(from: String, wamid: String, type: String, payload: String, phoneNumberID: String = "106540352242922") -> Data {
        let body = #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"\#(phoneNumberID)"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"\#(from)"}],"messages":[{"from":"\#(from)","id":"\#(wamid)","timestamp":"1694427240","type":"\#(type)","\#(type)":\#(payload)}]},"field":"messages"}]}]}"#
        return Data(body.utf8)
    }

    /// The `X-Hub-Signature-256` of `body` (Meta's: hex HMAC-SHA256 with the app secret).
    static func signature(_ body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Posts `body` to Sandi's callback URL, signed with `secret` (the app secret when nil) or
    /// with the `signature` given; answers the status and body.
    func post(_ body: Data, to url: String, secret: String? = nil, signature: String? = nil) async throws -> (status: Int, contentType: String?, text: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "facebookexternalua")
        request.headers.add(name: "X-Hub-Signature-256", value: signature ?? Self.signature(body, secret: secret ?? appSecret))
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 65_536))
        return (Int(response.status.code), response.headers.first(name: "Content-Type"), text)
    }

    /// Meta's subscription handshake against Sandi's callback URL.
    func handshake(_ url: String, mode: String = "subscribe", verifyToken: String, challenge: String) async throws -> (status: Int, text: String) {
        let query = "hub.mode=\(mode)&hub.challenge=\(challenge)&hub.verify_token=" + (verifyToken.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url + "?" + query), timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 65_536)))
    }
}
