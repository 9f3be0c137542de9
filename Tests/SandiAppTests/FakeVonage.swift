import Crypto
import _CryptoExtras
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SandiCore
import Synchronization

/// A local Vonage on loopback, speaking the wire formats Sandi uses: the SMS API (`POST
/// /sms/json`, form or JSON, `api_key`/`api_secret`, HTTP 200 with a string `status` per part,
/// one part per 153 GSM septets or 67 UCS-2 units once the text is long) and the Voice API
/// (`POST /v1/calls`, a bearer token verified RS256 against the application's public key, one
/// of `ncco`/`answer_url`, 201 with the call's `uuid`; problem details otherwise). It also writes
/// what Vonage sends back: delivery receipts signed with `sig`, and call events with an HS256
/// token carrying the body's `payload_hash`.
final class FakeVonage: Sendable {
    let apiKey: String
    let apiSecret: String
    let applicationID: String
    let publicKey: _RSA.Signing.PublicKey
    let signatureSecret: String
    /// The SMS `status` to answer per destination (digits, no `+`); absent: 0.
    let smsStatuses: [String: Int]
    /// An HTTP status to refuse calls with per destination.
    let callRefusals: [String: Int]
    let now: @Sendable () -> Date

    /// Every `/sms/json` request's fields (and its content type), and every accepted call body.
    let sms = Mutex<[(fields: [String: String], contentType: String, ids: [String])]>([])
    let calls = Mutex<[(body: [String: JSONValue], claims: [String: JSONValue], uuid: String)]>([])
    /// Why requests were refused (wrong credentials, a bad token, a bad NCCO…).
    let refusals = Mutex<[String]>([])

    init(apiKey: String = "a1b2c3d4", apiSecret: String = "Sup3rS3cretValue", applicationID: String = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
         publicKey: _RSA.Signing.PublicKey, signatureSecret: String, smsStatuses: [String: Int] = [:], callRefusals: [String: Int] = [:],
         now: @escaping @Sendable () -> Date) {
        self.apiKey = apiKey
        self.apiSecret = apiSecret
        self.applicationID = applicationID
        self.publicKey = publicKey
        self.signatureSecret = signatureSecret
        self.smsStatuses = smsStatuses
        self.callRefusals = callRefusals
        self.now = now
    }

    // MARK: SMS API

    func json(_ status: HTTPResponse.Status, _ object: [String: JSONValue]) -> Response {
        let data = (try? JSONEncoder().encode(JSONValue.object(object))) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func smsAnswer(_ parts: [[String: JSONValue]]) -> Response {
        json(.ok, ["message-count": .string(String(parts.count)), "messages": .array(parts.map(JSONValue.object))])
    }

    func smsError(_ status: Int, _ text: String) -> Response {
        refusals.withLock { $0.append("sms status \(status): \(text)") }
        return smsAnswer([["status": .string(String(status)), "error-text": .string(text)]])
    }

    func handleSMS(_ request: Request) async throws -> Response {
        let contentType = request.headers[.contentType] ?? ""
        let raw = try await request.body.collect(upTo: 65_536)
        var fields: [String: String] = [:]
        if contentType.hasPrefix("application/json") {
            for (name, value) in (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: raw)))?.objectValue ?? [:] {
                if let s = value.stringValue { fields[name] = s } else if let n = value.intValue { fields[name] = String(n) }
            }
        } else {
            for pair in String(buffer: raw).split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
                fields[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
            }
        }
        var ids: [String] = []
        defer { sms.withLock { $0.append((fields, contentType, ids)) } }
        guard fields["api_key"] == apiKey, fields["api_secret"] == apiSecret else { return smsError(4, "Bad Credentials") }
        guard let from = fields["from"], let to = fields["to"], let text = fields["text"], !from.isEmpty, !text.isEmpty else {
            return smsError(2, "Missing from, to or text")
        }
        guard to.allSatisfy(\.isNumber), (7...15).contains(to.count) else { return smsError(3, "Invalid to address") }
        let unicode = fields["type"] == "unicode"
        guard fields["type"] == nil || fields["type"] == "text" || unicode else { return smsError(3, "Invalid type") }
        guard unicode || Self.isGSM(text) else { return smsError(3, "Text outside GSM 03.38 needs type=unicode") }
        if let ttl = fields["ttl"] {
            guard let ms = Int(ttl), (20_000...604_800_000).contains(ms) else { return smsError(3, "Invalid ttl") }
        }
        if let callback = fields["callback"], callback.count > 100 || !callback.hasPrefix("http") { return smsError(23, "Invalid callback") }
        if let status = smsStatuses[to], status != 0 {
            return smsError(status, status == 1 ? "Throughput Rate Exceeded - please wait [ 1000 ] and retry" : status == 6 ? "Unroutable message - rejected" : "Refused")
        }
        let units = unicode ? text.utf16.count : text.count
        let single = unicode ? 70 : 160, part = unicode ? 67 : 153
        let count = units <= single ? 1 : (units + part - 1) / part
        ids = (0..<count).map { _ in Identifier.randomBase32(bytes: 8).uppercased() }
        return smsAnswer(ids.map { id in
            var entry: [String: JSONValue] = ["to": .string(to), "message-id": .string(id), "status": "0", "remaining-balance": "38.07",
                                              "message-price": "0.0412", "network": "51010"]
            if let reference = fields["client-ref"] { entry["client-ref"] = .string(reference) }
            return entry
        })
    }

    /// GSM 03.38 basic and extension characters (the fake's own table).
    static func isGSM(_ text: String) -> Bool {
        let basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        let extended = "^{}\\[~]|€\u{0C}"
        return text.unicodeScalars.allSatisfy { basic.unicodeScalars.contains($0) || extended.unicodeScalars.contains($0) }
    }

    // MARK: Voice API

    func problem(_ status: HTTPResponse.Status, _ slug: String, _ title: String, _ detail: String) -> Response {
        refusals.withLock { $0.append("call \(status.code): \(detail)") }
        return json(status, ["type": .string("https://developer.nexmo.com/api-errors#\(slug)"), "title": .string(title), "detail": .string(detail),
                             "instance": .string(UUID().uuidString.lowercased())])
    }

    /// The claims of a valid application token, or why it is not one.
    func verifyApplicationToken(_ authorization: String?) -> Result<[String: JSONValue], FakeRefusal> {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return .failure(FakeRefusal("no bearer token")) }
        let parts = authorization.dropFirst("Bearer ".count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.base64URL(parts[0]).flatMap(Self.object), let claims = Self.base64URL(parts[1]).flatMap(Self.object),
              let signature = Self.base64URL(parts[2])
        else { return .failure(FakeRefusal("malformed token")) }
        guard header["alg"] == "RS256", header["typ"] == "JWT" else { return .failure(FakeRefusal("not RS256")) }
        guard publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: Data("\(parts[0]).\(parts[1])".utf8),
                                         padding: .insecurePKCS1v1_5)
        else { return .failure(FakeRefusal("bad signature")) }
        guard claims["application_id"]?.stringValue == applicationID else { return .failure(FakeRefusal("wrong application_id")) }
        let now = Int(self.now().timeIntervalSince1970)
        guard let iat = claims["iat"]?.intValue, let exp = claims["exp"]?.intValue, iat <= now + 5, exp > now, exp > iat else {
            return .failure(FakeRefusal("expired or not yet valid"))
        }
        guard let jti = claims["jti"]?.stringValue, !jti.isEmpty else { return .failure(FakeRefusal("no jti")) }
        return .success(claims)
    }

    func handleCall(_ request: Request) async throws -> Response {
        let raw = try await request.body.collect(upTo: 65_536)
        let claims: [String: JSONValue]
        switch verifyApplicationToken(request.headers[.authorization]) {
        case .success(let c): claims = c
        case .failure(let refusal): return problem(.unauthorized, "unauthorized", "Unauthorized", refusal.reason)
        }
        guard (request.headers[.contentType] ?? "").hasPrefix("application/json"), let body = Self.object(Data(buffer: raw)) else {
            return problem(.badRequest, "bad-request", "Bad Request", "the body is not JSON")
        }
        guard let to = body["to"]?.arrayValue, to.count == 1, let callee = to[0].objectValue, callee["type"] == "phone",
              let number = callee["number"]?.stringValue, number.allSatisfy(\.isNumber), (7...15).contains(number.count)
        else { return problem(.badRequest, "bad-request", "Bad Request", "to must be one phone endpoint with a number without +") }
        guard let from = body["from"]?.objectValue, from["type"] == "phone", let caller = from["number"]?.stringValue, caller.allSatisfy(\.isNumber) else {
            return problem(.badRequest, "bad-request", "Bad Request", "from must be a phone endpoint")
        }
        _ = caller
        guard (body["ncco"] == nil) != (body["answer_url"] == nil) else {
            return problem(.badRequest, "bad-request", "Bad Request", "exactly one of ncco and answer_url")
        }
        if let ncco = body["ncco"] {
            guard let actions = ncco.arrayValue, !actions.isEmpty else { return problem(.badRequest, "bad-request", "Bad Request", "ncco must be a non-empty array") }
            for action in actions {
                guard let talk = action.objectValue, talk["action"] == "talk", let text = talk["text"]?.stringValue, !text.isEmpty, text.count <= 1500 else {
                    return problem(.badRequest, "bad-request", "Bad Request", "only talk actions with 1–1500 characters of text")
                }
                if let language = talk["language"]?.stringValue, language.wholeMatch(of: /[a-z]{2,3}-[A-Z]{2}/) == nil {
                    return problem(.badRequest, "bad-request", "Bad Request", "language must be a BCP 47 tag such as id-ID")
                }
                if let loop = talk["loop"], !(loop.intValue.map { (0...100).contains($0) } ?? false) {
                    return problem(.badRequest, "bad-request", "Bad Request", "loop must be 0–100")
                }
                if text.hasPrefix("<speak>") && !text.hasSuffix("</speak>") { return problem(.badRequest, "bad-request", "Bad Request", "unclosed <speak>") }
            }
        }
        if let events = body["event_url"] {
            guard let urls = events.arrayValue, urls.count == 1, urls[0].stringValue?.hasPrefix("http") == true else {
                return problem(.badRequest, "bad-request", "Bad Request", "event_url must be an array of one URL")
            }
        }
        if let status = callRefusals[number] {
            return problem(HTTPResponse.Status(code: status), status == 429 ? "throttled" : "invalid", status == 429 ? "Too Many Requests" : "Refused", "scripted")
        }
        let uuid = UUID().uuidString.lowercased()
        calls.withLock { $0.append((body, claims, uuid)) }
        return json(.created, ["uuid": .string(uuid), "status": "started", "direction": "outbound", "conversation_uuid": .string("CON-" + UUID().uuidString.lowercased())])
    }

    // MARK: What Vonage sends back

    /// A delivery receipt's parameters, signed with `sig` (SHA-256 HMAC of the sorted parameters)
    /// unless `forge` names another secret; `timestamp` is `at`.
    func receipt(messageID: String, to: String, status: String, errCode: String = "0", clientRef: String? = nil, at: Date? = nil,
                 secret: String? = nil) -> [(String, String)] {
        let when = at ?? now()
        var params: [String: String] = [
            "msisdn": to, "to": "ACME", "network-code": "51010", "messageId": messageID, "price": "0.03330000", "status": status,
            "scts": "2611201200", "err-code": errCode, "api-key": apiKey, "message-timestamp": "2026-11-20 12:00:00",
            "timestamp": String(Int(when.timeIntervalSince1970)), "nonce": UUID().uuidString.lowercased(),
        ]
        if let clientRef { params["client-ref"] = clientRef }
        params["sig"] = Self.sign(params, secret: secret ?? signatureSecret)
        return params.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func sign(_ params: [String: String], secret: String) -> String {
        var text = ""
        for key in params.keys.sorted() where key != "sig" {
            text += "&" + key + "=" + params[key]!.replacingOccurrences(of: "&", with: "_").replacingOccurrences(of: "=", with: "_")
        }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// A call event's JSON body and its `Authorization` value: an HS256 token over `iat`, `jti`,
    /// `iss`, `payload_hash`, `api_key`, `application_id`, signed with `secret` (default: the
    /// account's), issued at `at`; `hashOf` puts another body's hash in the token.
    func callEvent(uuid: String, status: String, duration: String? = nil, at: Date? = nil, secret: String? = nil, hashOf: String? = nil) -> (body: String, authorization: String) {
        let when = at ?? now()
        var event: [String: JSONValue] = [
            "uuid": .string(uuid), "conversation_uuid": .string("CON-" + uuid), "status": .string(status), "direction": "outbound",
            "from": "6221500500", "to": "6281234567890", "timestamp": .string(ISO8601DateFormatter().string(from: when)),
        ]
        if let duration { event["duration"] = .string(duration) }
        let body = String(decoding: (try? JSONEncoder().encode(JSONValue.object(event))) ?? Data(), as: UTF8.self)
        let hash = SHA256.hash(data: Data((hashOf ?? body).utf8)).map { String(format: "%02x", $0) }.joined()
        let claims: [String: JSONValue] = [
            "iat": .number(Double(Int(when.timeIntervalSince1970))), "jti": .string(UUID().uuidString.lowercased()), "iss": "Vonage",
            "payload_hash": .string(hash), "api_key": .string(apiKey), "application_id": .string(applicationID),
        ]
        func part(_ object: [String: JSONValue]) -> String { Self.base64URL((try? JSONEncoder().encode(JSONValue.object(object))) ?? Data()) }
        let input = part(["alg": "HS256", "typ": "JWT"]) + "." + part(claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data((secret ?? signatureSecret).utf8)))
        return (body, "Bearer " + input + "." + Self.base64URL(Data(mac)))
    }

    // MARK: Serving

    /// Serves on a free loopback port until `body` returns; passes the root URL.
    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("sms/json") { request, _ in try await self.handleSMS(request) }
        router.post("v1/calls") { request, _ in try await self.handleCall(request) }
        return try await Loopback.serve(router, body)
    }

    static func object(_ data: Data) -> [String: JSONValue]? { (try? JSONDecoder().decode(JSONValue.self, from: data))?.objectValue }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func base64URL(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

struct FakeRefusal: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
