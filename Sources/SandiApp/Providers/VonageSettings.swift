import Configuration
import Foundation
import SandiProviders

/// A Vonage (Nexmo) account. SMS through the SMS API is on with `sandi.vonage.api_key` and
/// `.api_secret` (secret), from `.from` (an alphanumeric sender or a number; default the brand).
/// Voice through the Voice API is on with `.application_id`, `.private_key_file` (the
/// application's PEM key) and `.voice_from` (a Vonage number); `.voice_premium` picks premium
/// voices. `.signature_secret` (secret) and `.signature_method` (md5hash | md5 | sha1 | sha256 |
/// sha512; default sha256) authenticate delivery receipts and call events. `.rest_base`
/// (https://rest.nexmo.com) and `.api_base` (https://api.nexmo.com) for tests, `.timeout_ms` (4000).
public struct VonageSettings: Sendable, Equatable {
    public var apiKey: String?
    public var apiSecret: String?
    public var signatureSecret: String?
    public var signatureMethod: String
    public var from: String
    public var applicationID: String?
    public var privateKeyFile: String?
    /// The private key file's text (nil: unreadable or not set).
    public var privateKeyPEM: String?
    public var voiceFrom: String?
    public var voicePremium: Bool
    public var restBase: String
    public var apiBase: String
    public var timeoutMs: Int

    /// Nil when no `sandi.vonage.*` account setting is given (Vonage unused).
    init?(reader: ConfigReader) {
        // Keys, numbers and senders may be all digits: a JSON file or a flag may give them as numbers.
        func value(_ key: String, secret: Bool = false) -> String? {
            let configKey = ConfigKey("sandi.vonage." + key)
            let text = reader.string(forKey: configKey, isSecret: secret) ?? reader.int(forKey: configKey, isSecret: secret).map(String.init)
            return text.flatMap { $0.isEmpty ? nil : $0 }
        }
        apiKey = value("api_key")
        apiSecret = value("api_secret", secret: true)
        signatureSecret = value("signature_secret", secret: true)
        applicationID = value("application_id")
        privateKeyFile = value("private_key_file")
        voiceFrom = value("voice_from")
        guard apiKey != nil || apiSecret != nil || signatureSecret != nil || applicationID != nil || privateKeyFile != nil || voiceFrom != nil else {
            return nil
        }
        signatureMethod = value("signature_method")?.lowercased() ?? VonageSignature.Method.sha256.rawValue
        from = value("from") ?? reader.string(forKey: "sandi.brand", default: "Sandi")
        privateKeyPEM = privateKeyFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
        voicePremium = reader.bool(forKey: "sandi.vonage.voice_premium", default: false)
        restBase = reader.string(forKey: "sandi.vonage.rest_base", default: "https://rest.nexmo.com")
        apiBase = reader.string(forKey: "sandi.vonage.api_base", default: "https://api.nexmo.com")
        timeoutMs = reader.int(forKey: "sandi.vonage.timeout_ms", default: 4000)
    }

    /// Whether SMS is configured (an API key and secret).
    public var smsEnabled: Bool { apiKey != nil && apiSecret != nil }
    /// Whether voice is configured (an application, its key and a number to call from).
    public var voiceEnabled: Bool { applicationID != nil && privateKeyFile != nil && voiceFrom != nil }

    /// Why these settings cannot be used; `dlrURL` is where receipts would be sent.
    func problems(dlrURL: String?) -> [String] {
        var problems: [String] = []
        if (apiKey == nil) != (apiSecret == nil) {
            problems.append("Vonage SMS needs both sandi.vonage.api_key and sandi.vonage.api_secret (SANDI_VONAGE_API_KEY, SANDI_VONAGE_API_SECRET)")
        }
        let voiceKeys = [applicationID, privateKeyFile, voiceFrom].filter { $0 != nil }.count
        if voiceKeys > 0 && voiceKeys < 3 {
            problems.append("Vonage voice needs all of sandi.vonage.application_id, sandi.vonage.private_key_file and sandi.vonage.voice_from")
        }
        if !smsEnabled && !voiceEnabled && problems.isEmpty {
            problems.append("sandi.vonage.* is set but neither SMS (api_key, api_secret) nor voice (application_id, private_key_file, voice_from) is configured")
        }
        if smsEnabled, !VonageSMSProvider.isValidSender(from) {
            problems.append("sandi.vonage.from must be a number (digits only, no +) or an alphanumeric sender of 1–11 letters, digits or spaces with at least one letter")
        }
        if let dlrURL, smsEnabled, dlrURL.count > 100 {
            problems.append("Vonage takes callback URLs of at most 100 characters: \(dlrURL) is longer; shorten sandi.public_url")
        }
        if let applicationID, UUID(uuidString: applicationID) == nil {
            problems.append("sandi.vonage.application_id must be the application's UUID")
        }
        if let privateKeyFile {
            if let pem = privateKeyPEM {
                if (try? VonageJWT.ApplicationKey(pem: pem)) == nil {
                    problems.append("sandi.vonage.private_key_file \(privateKeyFile) is not an RSA private key (PEM, at least 2048 bits)")
                }
            } else {
                problems.append("sandi.vonage.private_key_file \(privateKeyFile) cannot be read")
            }
        }
        if let voiceFrom, !Self.isNumber(voiceFrom) {
            problems.append("sandi.vonage.voice_from must be an E.164 number (your Vonage number)")
        }
        if VonageSignature.Method(rawValue: signatureMethod) == nil {
            problems.append("sandi.vonage.signature_method must be one of md5hash, md5, sha1, sha256, sha512 (as set in the Vonage dashboard)")
        }
        for (key, url) in [("rest_base", restBase), ("api_base", apiBase)] where !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            problems.append("sandi.vonage.\(key) must be an http(s) URL")
        }
        if !(200...30_000).contains(timeoutMs) { problems.append("sandi.vonage.timeout_ms must be 200–30000") }
        return problems
    }

    /// The SMS provider's options (nil: SMS not configured).
    func smsOptions(callbackURL: String?) -> VonageSMSProvider.Options? {
        guard let apiKey, let apiSecret else { return nil }
        return VonageSMSProvider.Options(apiKey: apiKey, apiSecret: apiSecret, from: from, callbackURL: callbackURL, restBase: restBase, timeoutMs: timeoutMs)
    }

    /// The voice provider's options (nil: voice not configured or its key unusable).
    func voiceOptions(eventURL: String?) -> VonageVoiceProvider.Options? {
        guard let applicationID, let voiceFrom, let pem = privateKeyPEM, let key = try? VonageJWT.ApplicationKey(pem: pem) else { return nil }
        return VonageVoiceProvider.Options(applicationID: applicationID, privateKey: key, from: voiceFrom, eventURL: eventURL,
                                           premium: voicePremium, apiBase: apiBase, timeoutMs: timeoutMs)
    }

    /// E.164 with or without its `+`: 7–15 digits.
    static func isNumber(_ text: String) -> Bool {
        let digits = text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        return (7...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The method receipts are signed with.
    var method: VonageSignature.Method { VonageSignature.Method(rawValue: signatureMethod) ?? .sha256 }
}
