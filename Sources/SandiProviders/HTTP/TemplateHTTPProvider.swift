public import AsyncHTTPClient
import Crypto
public import Foundation
import Mustache
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import SandiCore
import SandiSMPP

/// A ``ChannelProvider`` described by an ``HTTPProviderDefinition``: renders the request from
/// the definition's templates, sends it, and reads the message id and outcome from the answer.
public struct TemplateHTTPProvider: ChannelProvider {
    public let definition: HTTPProviderDefinition
    public var name: String { definition.name }
    public let channels: Set<SandiCore.Channel>
    let templates: HTTPProviderTemplates
    let callbackURL: String?
    let client: HTTPClient

    /// Fails when a template does not parse (configuration checks this first).
    public init(definition: HTTPProviderDefinition, callbackURL: String?, client: HTTPClient = .shared) throws {
        self.definition = definition
        self.channels = Set(definition.channels)
        self.templates = try HTTPProviderTemplates(definition)
        self.callbackURL = callbackURL
        self.client = client
    }

    /// The values templates see for `message`.
    func variables(_ message: OutboundMessage) -> [String: Any] {
        let ttl = max(1, message.ttlSeconds)
        return [
            "to": message.to, "to_digits": String(message.to.drop { $0 == "+" }), "sender": definition.sender ?? "",
            "text": message.text, "code": message.code, "reference": message.deliveryID, "ttl_seconds": String(ttl),
            "ttl_minutes": String((ttl + 59) / 60), "locale": message.locale, "country": message.country ?? "",
            "operator": message.operator ?? "", "channel": message.channel.rawValue,
            "unicode": SMSEncoding.choose(for: message.text) != .gsm7, "callback_url": callbackURL ?? "",
            "secrets": definition.secrets,
        ]
    }

    /// The request for `message` (exposed for tests of templates).
    public func request(for message: OutboundMessage) -> HTTPClientRequest {
        let values = variables(message)
        var request = HTTPClientRequest(url: templates.url.render(values))
        request.method = HTTPMethod(rawValue: definition.method)
        for (name, template) in templates.headers { request.headers.replaceOrAdd(name: name, value: template.render(values)) }
        if let body = templates.body, definition.method != "GET" {
            if !request.headers.contains(name: "Content-Type") {
                let type = switch definition.bodyFormat {
                case .json: "application/json"
                case .form: "application/x-www-form-urlencoded"
                default: "text/plain; charset=utf-8"
                }
                request.headers.add(name: "Content-Type", value: type)
            }
            request.body = .bytes(ByteBuffer(string: body.render(values)))
        }
        return request
    }

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        let reply = try await ProviderCall.send(request(for: message), client: client, timeoutMs: definition.timeoutMs, provider: name)
        return try Self.read(status: reply.status, body: reply.body, response: definition.response, provider: name)
    }

    /// The outcome of an answer: the message id on success, else what the plan should do.
    public static func read(status: Int, body: Data, response: HTTPProviderDefinition.Response, provider: String) throws(ProviderError) -> ProviderAcceptance {
        let json = JSONValue.parse(body)
        let errorCode = json.flatMap { json in response.errorCodePath.flatMap { JSONPath.text($0, in: json) } }
        var succeeded = (200..<300).contains(status)
        if succeeded, let path = response.successPath {
            let value = json.flatMap { JSONPath.text(path, in: $0) }
            succeeded = value.map { (response.successValues ?? []).contains($0) } ?? false
        }
        if succeeded {
            let id: String? = response.messageID == "$body"
                ? String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                : json.flatMap { JSONPath.text(response.messageID, in: $0) }
            guard let id, !id.isEmpty, id.count <= 200 else { throw .failed("\(provider): answer without a message id") }
            return ProviderAcceptance(providerMessageID: id)
        }
        let detail = "\(provider): http \(status)" + (errorCode.map { " code \($0)" } ?? "")
        if let errorCode, response.undeliverableCodes?.contains(errorCode) == true { throw .undeliverable(detail) }
        if let errorCode, response.transientCodes?.contains(errorCode) == true { throw .transient(detail) }
        if (response.transientStatuses ?? [429, 503]).contains(status) { throw .transient(detail) }
        throw .failed(detail)
    }
}

/// Receipts of configured HTTP providers at `/v1/callbacks/http/<name>`, authenticated by the
/// definition's shared token or body HMAC (compared in constant time).
public struct HTTPProviderCallbacks: CallbackHandler {
    public let route = "http"
    let receipts: [String: HTTPProviderDefinition.Receipt]
    let recorder: ReceiptRecorder

    public init(definitions: [HTTPProviderDefinition], recorder: ReceiptRecorder) {
        self.receipts = Dictionary(definitions.compactMap { d in d.receipt.map { (d.name, $0) } }, uniquingKeysWith: { first, _ in first })
        self.recorder = recorder
    }

    public func handle(_ request: InboundCallback) async throws -> CallbackAnswer {
        guard let name = request.action, let receipt = receipts[name] else { throw CallbackRejection.notFound }
        guard Self.authentic(request, receipt) else { throw CallbackRejection.forbidden("receipt not authenticated") }
        let fields = request.parameters
        var json: JSONValue?
        if request.header("content-type")?.hasPrefix("application/json") == true {
            guard let parsed = JSONValue.parse(request.body) else { throw CallbackRejection.invalid("body is not JSON") }
            json = parsed
        }
        func field(_ path: String) -> String? { json.flatMap { JSONPath.text(path, in: $0) } ?? fields[path] }
        guard let messageID = field(receipt.messageID), !messageID.isEmpty else { throw CallbackRejection.invalid("no \(receipt.messageID)") }
        if let raw = field(receipt.status), let mapped = receipt.statuses[raw].flatMap(DeliveryStatus.init(rawValue:)) {
            let error = mapped.isFailure ? "\(name): \(raw)" + (receipt.errorCode.flatMap(field).map { " err \($0)" } ?? "") : nil
            try await recorder.record(provider: name, messageIDs: [messageID], status: mapped, error: error)
        }
        return CallbackAnswer(body: receipt.answer ?? "")
    }

    static func authentic(_ request: InboundCallback, _ receipt: HTTPProviderDefinition.Receipt) -> Bool {
        if let secret = receipt.hmacSecret, !secret.isEmpty, let header = receipt.hmacHeader {
            guard let given = request.header(header)?.lowercased() else { return false }
            let mac = HMAC<SHA256>.authenticationCode(for: request.body, using: SymmetricKey(data: Data(secret.utf8)))
            let expected = mac.map { String(format: "%02x", $0) }.joined()
            let hex = given.hasPrefix("sha256=") ? String(given.dropFirst(7)) : given
            return constantTimeEqual(Array(hex.utf8), Array(expected.utf8))
        }
        if let token = receipt.token, !token.isEmpty {
            let given = receipt.tokenHeader.flatMap { request.header($0) } ?? receipt.tokenParameter.flatMap { request.parameters[$0] }
            guard let given else { return false }
            return constantTimeEqual(Array(given.utf8), Array(token.utf8))
        }
        return false
    }
}

/// Compares secrets without leaking where they differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
