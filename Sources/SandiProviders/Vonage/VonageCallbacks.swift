import Foundation
public import SandiCore

/// Vonage's callbacks at `/v1/callbacks/vonage/dlr` (SMS delivery receipts: a GET query, or a
/// POST form or JSON body, as the account is set) and `/v1/callbacks/vonage/voice` (Voice API
/// call events, JSON).
///
/// With a signature secret configured, a receipt must carry a `sig` over its parameters (see
/// ``VonageSignature``) and a `timestamp` within five minutes of now, and a call event must carry
/// `Authorization: Bearer <JWT>` signed HS256 with the secret, recent, binding the body by its
/// `payload_hash` (see ``VonageJWT``); anything else is refused with 403 and changes nothing.
/// Without a secret, callbacks are taken unsigned. A callback for a message Sandi does not know
/// is acknowledged and ignored.
public struct VonageCallbacks: CallbackHandler {
    public let route = "vonage"
    let signatureSecret: String?
    let signatureMethod: VonageSignature.Method
    let provider: String
    let clock: any TimeSource
    let recorder: ReceiptRecorder
    /// How far a signed request's time may be from now, in seconds.
    static let window: TimeInterval = 300

    public init(signatureSecret: String?, signatureMethod: VonageSignature.Method = .sha256, provider: String = "vonage",
                clock: any TimeSource, recorder: ReceiptRecorder) {
        self.signatureSecret = signatureSecret.flatMap { $0.isEmpty ? nil : $0 }
        self.signatureMethod = signatureMethod
        self.provider = provider
        self.clock = clock
        self.recorder = recorder
    }

    public func handle(_ request: InboundCallback) async throws -> CallbackAnswer {
        switch request.action {
        case "dlr": try await receipt(request)
        case "voice": try await callEvent(request)
        default: throw CallbackRejection.notFound
        }
    }

    /// An SMS delivery receipt.
    func receipt(_ request: InboundCallback) async throws -> CallbackAnswer {
        let fields = try Self.fields(of: request)
        if let secret = signatureSecret {
            guard VonageSignature.isValid(fields, secret: secret, method: signatureMethod) else {
                throw CallbackRejection.forbidden("missing or invalid sig")
            }
            let now = clock.now.timeIntervalSince1970
            guard let timestamp = fields["timestamp"].flatMap(Double.init), abs(timestamp - now) <= Self.window else {
                throw CallbackRejection.forbidden("stale or missing timestamp")
            }
        }
        guard let messageID = fields["messageId"] ?? fields["message-id"] ?? fields["messageID"], !messageID.isEmpty else {
            throw CallbackRejection.invalid("no messageId")
        }
        let code = fields["err-code"]
        guard let status = fields["status"].flatMap({ VonageSMSProvider.status(ofReceipt: $0, errorCode: code) }) else {
            return .received
        }
        let error = status.isFailure ? "vonage: \(fields["status"] ?? "failed")" + (code.map { $0 == "0" ? "" : " err-code \($0)" } ?? "") : nil
        // A long text has one id per part: a receipt for a later part finds the delivery by the
        // client-ref Sandi set (its delivery id).
        if try await recorder.record(provider: provider, messageIDs: [messageID], status: status, error: error) == nil,
           let reference = fields["client-ref"], !reference.isEmpty {
            try await recorder.record(provider: provider, deliveryID: reference, status: status, error: error)
        }
        return .received
    }

    /// A Voice API call event.
    func callEvent(_ request: InboundCallback) async throws -> CallbackAnswer {
        if let secret = signatureSecret {
            guard let authorization = request.header("authorization"), authorization.lowercased().hasPrefix("bearer ") else {
                throw CallbackRejection.forbidden("missing bearer token")
            }
            let token = authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
            do {
                try VonageJWT.verifyWebhookToken(token, secret: secret, body: request.body, now: clock.now, window: Self.window)
            } catch {
                throw CallbackRejection.forbidden("token refused: \(error)")
            }
        }
        let fields = try Self.fields(of: request)
        guard let uuid = fields["uuid"], !uuid.isEmpty else { throw CallbackRejection.invalid("no uuid") }
        guard let status = fields["status"].flatMap({ VonageVoiceProvider.status(ofCall: $0, duration: fields["duration"]) }) else {
            return .received
        }
        try await recorder.record(provider: provider, messageIDs: [uuid], status: status,
                                  error: status.isFailure ? "vonage: call \(fields["status"] ?? "failed")" : nil)
        return .received
    }

    /// The callback's flat fields: a JSON object's top-level strings and numbers, a form, or the
    /// query (decoded as a form: `+` is a space, as Vonage signs it).
    static func fields(of request: InboundCallback) throws -> [String: String] {
        var fields: [String: String] = [:]
        if let query = request.url.split(separator: "?", maxSplits: 1).dropFirst().first {
            for (name, value) in FormBody.parse(String(query)) { fields[name] = value }
        }
        guard request.method == "POST", !request.body.isEmpty else { return fields }
        let type = request.header("content-type")?.lowercased() ?? ""
        if type.hasPrefix("application/json") {
            guard let object = JSONValue.parseObject(request.body) else {
                throw CallbackRejection.invalid("the body is not a JSON object")
            }
            for (name, value) in object {
                switch value {
                case .string(let s): fields[name] = s
                case .number(let n): fields[name] = n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
                case .bool(let b): fields[name] = String(b)
                default: break
                }
            }
        } else if type.hasPrefix("application/x-www-form-urlencoded") {
            for (name, value) in request.form { fields[name] = value }
        }
        return fields
    }
}
