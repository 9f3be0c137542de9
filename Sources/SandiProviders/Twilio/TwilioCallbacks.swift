import SandiCore

/// Twilio's status callbacks at `/v1/callbacks/twilio/status` (messages) and
/// `/v1/callbacks/twilio/call` (calls): form posts signed with `X-Twilio-Signature` over the URL
/// Twilio requested and every parameter (see ``TwilioSignature``). Unsigned or forged callbacks
/// are refused with 403; a callback for a message Sandi does not know is acknowledged and ignored.
public struct TwilioCallbacks: CallbackHandler {
    public let route = "twilio"
    let authToken: String
    let provider: String
    let recorder: ReceiptRecorder

    public init(authToken: String, provider: String = "twilio", recorder: ReceiptRecorder) {
        self.authToken = authToken
        self.provider = provider
        self.recorder = recorder
    }

    public func handle(_ request: InboundCallback) async throws -> CallbackAnswer {
        guard request.method == "POST" else { throw CallbackRejection.notFound }
        let form = request.form
        guard let signature = request.header("X-Twilio-Signature"),
              TwilioSignature.isValid(signature, url: request.url, params: form, authToken: authToken)
        else { throw CallbackRejection.forbidden("missing or invalid X-Twilio-Signature") }
        let fields = Dictionary(form, uniquingKeysWith: { first, _ in first })
        let sid: String?
        let status: DeliveryStatus?
        switch request.action {
        case "status":
            sid = fields["MessageSid"] ?? fields["SmsSid"]
            status = (fields["MessageStatus"] ?? fields["SmsStatus"]).flatMap(TwilioProvider.status(ofMessage:))
        case "call":
            sid = fields["CallSid"]
            status = fields["CallStatus"].flatMap(TwilioProvider.status(ofCall:))
        default:
            throw CallbackRejection.notFound
        }
        guard let sid, !sid.isEmpty else { throw CallbackRejection.invalid("no MessageSid or CallSid") }
        // Unknown or inactive destination, a landline: SMS cannot reach this number.
        if status == .failed, request.action == "status", let code = fields["ErrorCode"], ["30005", "30006", "21614"].contains(code) {
            try await recorder.record(provider: provider, messageIDs: [sid], status: .undeliverable, error: "twilio: error \(code)")
            return .noContent
        }
        if let status {
            let error = status.isFailure ? "twilio: " + (fields["ErrorCode"].map { "error \($0)" } ?? fields["CallStatus"] ?? fields["MessageStatus"] ?? "failed") : nil
            try await recorder.record(provider: provider, messageIDs: [sid], status: status, error: error)
        }
        return .noContent
    }
}
