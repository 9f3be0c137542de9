public import Configuration
import Logging
import SandiCore
import SandiProviders
import ServiceLifecycle

/// Settings of the real channel providers, read once at start. Each provider has its own keys
/// (`sandi.twilio.*`, …; see the README) and is on when its account is configured.
/// `sandi.public_url` (SANDI_PUBLIC_URL) is Sandi's root as providers reach it
/// (`https://otp.example.com`): status callbacks go to `<public_url>/v1/callbacks/<provider>/…`.
public struct ProviderSettings: Sendable {
    public var publicURL: String?
    public var twilio: TwilioSettings?
    public var http: HTTPProviderSettings?
    public var whatsapp: WhatsAppSettings?
    public var vonage: VonageSettings?

    /// Environment variables that hold secrets (never echoed by configuration diagnostics).
    public static let secretVariables = ["SANDI_TWILIO_AUTH_TOKEN", "SANDI_VONAGE_API_SECRET", "SANDI_VONAGE_SIGNATURE_SECRET"] + WhatsAppSettings.secretVariables

    public init(reader: ConfigReader) {
        publicURL = reader.string(forKey: "sandi.public_url").flatMap { $0.isEmpty ? nil : $0 }
        twilio = TwilioSettings(reader: reader)
        http = HTTPProviderSettings(reader: reader)
        whatsapp = WhatsAppSettings(reader: reader)
        vonage = VonageSettings(reader: reader)
    }

    /// Why these settings cannot be used (startup problems).
    public var problems: [String] {
        var problems: [String] = []
        if let publicURL, !(publicURL.hasPrefix("https://") || publicURL.hasPrefix("http://")) || publicURL.contains("?") {
            problems.append("sandi.public_url must be an http(s) URL without a query, e.g. https://otp.example.com")
        }
        problems += twilio?.problems ?? []
        problems += http?.problems ?? []
        problems += whatsapp?.problems ?? []
        problems += vonage?.problems(dlrURL: callbackURL("vonage/dlr")) ?? []
        return problems
    }

    /// The callback URL of `path` (`twilio/status`) under Sandi's public URL (nil without one).
    func callbackURL(_ path: String) -> String? {
        guard let publicURL else { return nil }
        return (publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL) + "/v1/callbacks/" + path
    }
}

/// What callback handlers are made with, once the engine exists: the recorder that moves
/// deliveries by receipts, and the support assistant that answers users' messages.
struct CallbackContext: Sendable {
    let recorder: ReceiptRecorder
    let assistant: AssistantService
}

/// The real providers built from settings: channel providers in priority order (before the
/// simulator), the services that keep sessions up, and the callback handlers that take their
/// receipts (made once the engine exists, since receipts move deliveries through it).
struct ProviderAssembly {
    var channelProviders: [any ChannelProvider] = []
    var services: [any Service] = []
    var receiptSources: [any ReceiptSource] = []
    var callbacks: [@Sendable (CallbackContext) -> any CallbackHandler] = []

    static func build(_ settings: ProviderSettings, store: any SandiStore, clock: any TimeSource, signal: any WorkSignal, logger: Logger) -> ProviderAssembly {
        var assembly = ProviderAssembly()
        // WhatsApp first: the cheapest channel, and the plan's usual first step.
        if let whatsapp = settings.whatsapp {
            let provider = WhatsAppCloudProvider(options: whatsapp.options(), logger: logger, tenantName: { id in try await store.tenant(id: id)?.name })
            assembly.channelProviders.append(provider)
            assembly.callbacks.append { context in
                let assistant = WhatsAppAssistant(assistant: context.assistant, provider: provider, options: whatsapp.assistantOptions(), logger: logger)
                return WhatsAppWebhook(appSecrets: whatsapp.appSecrets, verifyToken: whatsapp.verifyToken, provider: provider.name,
                                       recorder: context.recorder, logger: logger, onMessage: { await assistant.handle($0) })
            }
        }
        if let twilio = settings.twilio {
            let provider = TwilioProvider(options: twilio.options(
                statusCallbackURL: settings.callbackURL("twilio/status"), callCallbackURL: settings.callbackURL("twilio/call")))
            assembly.channelProviders.append(provider)
            assembly.callbacks.append { context in TwilioCallbacks(authToken: twilio.authToken, provider: provider.name, recorder: context.recorder) }
            if settings.publicURL == nil {
                logger.warning("twilio: no sandi.public_url, so no status callbacks: receipts come from timeouts only")
            }
        }
        if let vonage = settings.vonage {
            if let options = vonage.smsOptions(callbackURL: settings.callbackURL("vonage/dlr")) {
                assembly.channelProviders.append(VonageSMSProvider(options: options))
            }
            if let options = vonage.voiceOptions(eventURL: settings.callbackURL("vonage/voice")) {
                assembly.channelProviders.append(VonageVoiceProvider(options: options, clock: clock))
            }
            let secret = vonage.signatureSecret
            let method = vonage.method
            assembly.callbacks.append { context in VonageCallbacks(signatureSecret: secret, signatureMethod: method, clock: clock, recorder: context.recorder) }
            if settings.publicURL == nil {
                logger.warning("vonage: no sandi.public_url: receipts and call events go to the URLs set in the Vonage dashboard, if any")
            }
            if secret == nil {
                logger.warning("vonage: no sandi.vonage.signature_secret: delivery receipts and call events are taken unsigned")
            }
        }
        if let http = settings.http, http.problems.isEmpty {
            for definition in http.definitions {
                do {
                    let callback = definition.receipt == nil ? nil : settings.callbackURL("http/\(definition.name)")
                    assembly.channelProviders.append(try TemplateHTTPProvider(definition: definition, callbackURL: callback))
                } catch {
                    logger.error("http provider not usable", metadata: ["provider": "\(definition.name)"])
                }
            }
            let definitions = http.definitions
            assembly.callbacks.append { context in HTTPProviderCallbacks(definitions: definitions, recorder: context.recorder) }
        }
        return assembly
    }
}

/// A Twilio account for SMS (`sandi.twilio.account_sid`, `.auth_token` (secret), `.from`: a
/// number or an alphanumeric sender; default the brand) and voice calls (`.voice_from`: a Twilio
/// number; voice is off without one), `.api_base` (tests), `.timeout_ms` (4000).
public struct TwilioSettings: Sendable, Equatable {
    public var accountSID: String
    public var authToken: String
    public var from: String
    public var voiceFrom: String?
    public var apiBase: String
    public var timeoutMs: Int

    init?(reader: ConfigReader) {
        guard let sid = reader.string(forKey: "sandi.twilio.account_sid"), !sid.isEmpty else { return nil }
        accountSID = sid
        authToken = reader.string(forKey: "sandi.twilio.auth_token", isSecret: true) ?? ""
        from = reader.string(forKey: "sandi.twilio.from") ?? reader.string(forKey: "sandi.brand", default: "Sandi")
        voiceFrom = reader.string(forKey: "sandi.twilio.voice_from").flatMap { $0.isEmpty ? nil : $0 }
        apiBase = reader.string(forKey: "sandi.twilio.api_base", default: "https://api.twilio.com")
        timeoutMs = reader.int(forKey: "sandi.twilio.timeout_ms", default: 4000)
    }

    var problems: [String] {
        var problems: [String] = []
        if !accountSID.hasPrefix("AC") || accountSID.count != 34 { problems.append("sandi.twilio.account_sid must be AC followed by 32 hex digits") }
        if authToken.isEmpty { problems.append("sandi.twilio.auth_token is required (SANDI_TWILIO_AUTH_TOKEN)") }
        if !TwilioProvider.isValidSender(from) {
            problems.append("sandi.twilio.from must be an E.164 number or an alphanumeric sender of 1–11 letters, digits or spaces with at least one letter")
        }
        if let voiceFrom, !(voiceFrom.hasPrefix("+") && voiceFrom.dropFirst().allSatisfy(\.isNumber)) {
            problems.append("sandi.twilio.voice_from must be an E.164 number")
        }
        if !(apiBase.hasPrefix("https://") || apiBase.hasPrefix("http://")) { problems.append("sandi.twilio.api_base must be an http(s) URL") }
        if !(200...30_000).contains(timeoutMs) { problems.append("sandi.twilio.timeout_ms must be 200–30000") }
        return problems
    }

    func options(statusCallbackURL: String?, callCallbackURL: String?) -> TwilioProvider.Options {
        TwilioProvider.Options(accountSID: accountSID, authToken: authToken, from: from, voiceFrom: voiceFrom,
                               statusCallbackURL: statusCallbackURL, callStatusCallbackURL: callCallbackURL,
                               apiBase: apiBase, timeoutMs: timeoutMs)
    }
}
