import Crypto
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A local Twilio REST API on loopback, speaking its wire format: `POST
/// /2010-04-01/Accounts/{AccountSid}/Messages.json` and `/Calls.json`, form encoded, HTTP Basic
/// auth whose user is the account in the path; `201` with the resource (`sid` `SM…`/`CA…` + 32
/// hex); Twilio's legacy error body (`code`, `message`, `more_info`, `status`) for refusals. It
/// also signs status callbacks the way Twilio does (its own HMAC-SHA1, independent of Sandi's).
final class FakeTwilio: Sendable {
    struct Received: Sendable {
        let resource: String
        let form: [(String, String)]
        func value(_ name: String) -> String? { form.first { $0.0 == name }?.1 }
        func values(_ name: String) -> [String] { form.filter { $0.0 == name }.map(\.1) }
    }

    let accountSID: String
    let authToken: String
    /// Numbers the fake refuses, with Twilio's error code and HTTP status.
    let refusals: [String: (code: Int, status: Int)]
    let received = Mutex<[Received]>([])

    init(accountSID: String = "AC" + String(repeating: "0123456789abcdef", count: 2), authToken: String = "fake-twilio-auth-token",
         refusals: [String: (code: Int, status: Int)] = [:]) {
        self.accountSID = accountSID
        self.authToken = authToken
        self.refusals = refusals
    }

    var requests: [Received] { received.withLock { $0 } }

    func twilioError(_ status: Int, _ code: Int, _ message: String) -> Response {
        let body = #"{"code":\#(code),"message":"\#(message)","more_info":"https://www.twilio.com/docs/errors/\#(code)","status":\#(status),"details":{}}"#
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func decodeForm(_ body: String) -> [(String, String)] {
        body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    func handle(_ request: Request, context: BasicRequestContext, resource: String) async throws -> Response {
        let expected = "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        guard request.headers[.authorization] == expected, context.parameters.get("account") == accountSID else {
            return twilioError(401, 20003, "Authenticate")
        }
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true else {
            return twilioError(400, 21609, "Invalid content type")
        }
        let form = Self.decodeForm(String(buffer: try await request.body.collect(upTo: 64 * 1024)))
        let record = Received(resource: resource, form: form)
        received.withLock { $0.append(record) }
        guard let to = record.value("To"), let from = record.value("From") else { return twilioError(400, 21604, "A 'To' phone number is required.") }
        if let refusal = refusals[to] { return twilioError(refusal.status, refusal.code, "refused") }
        let hex = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let body: String
        if resource == "Messages" {
            guard let text = record.value("Body"), !text.isEmpty else { return twilioError(400, 21602, "Message body is required.") }
            if let validity = record.value("ValidityPeriod"), !(Int(validity).map { (1...36_000).contains($0) } ?? false) {
                return twilioError(400, 21623, "ValidityPeriod out of range")
            }
            body = #"{"sid":"SM\#(hex)","account_sid":"\#(accountSID)","to":"\#(to)","from":"\#(from)","status":"queued","num_segments":"1","direction":"outbound-api","api_version":"2010-04-01"}"#
        } else {
            guard let twiml = record.value("Twiml"), twiml.contains("<Response>"), twiml.contains("<Say") else {
                return twilioError(400, 21205, "Url or Twiml required")
            }
            guard (try? XMLDocument(xmlString: twiml)) != nil else { return twilioError(400, 12100, "Document parse failure") }
            body = #"{"sid":"CA\#(hex)","account_sid":"\#(accountSID)","to":"\#(to)","from":"\#(from)","status":"queued","direction":"outbound-api","api_version":"2010-04-01"}"#
        }
        return Response(status: .created, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// `X-Twilio-Signature` of a callback as Twilio computes it: Base64 HMAC-SHA1 with the auth
    /// token over the URL and each parameter's name and value in sorted order.
    func sign(url: String, params: [(String, String)]) -> String {
        let text = url + params.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { $0.0 + $0.1 }.joined()
        return Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(authToken.utf8)))).base64EncodedString()
    }

    static func encodeForm(_ params: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return params.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
    }

    /// Serves on a free loopback port until `body` returns; passes the API root.
    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("2010-04-01/Accounts/:account/Messages.json") { request, context in try await self.handle(request, context: context, resource: "Messages") }
        router.post("2010-04-01/Accounts/:account/Calls.json") { request, context in try await self.handle(request, context: context, resource: "Calls") }
        return try await Loopback.serve(router, body)
    }
}
