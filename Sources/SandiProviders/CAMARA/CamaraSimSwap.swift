public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOFoundationCompat
public import SandiCore

/// The SIM swap signal from a CAMARA SIM Swap API (v2, GSMA Open Gateway): `POST
/// {apiRoot}/sim-swap/v2/check` with `{"phoneNumber", "maxAge"}` answers `{"swapped": bool}`.
/// Uses a 2-legged bearer token (the number goes in the body). Any failure — an operator that does
/// not support it (404/422), quota (429), a timeout — is "signal unavailable", never a risk by itself.
public struct CamaraSimSwap: SimSwapSignal {
    public struct Options: Sendable {
        /// The API root, e.g. `https://api.operator.example` (`/sim-swap/v2/check` is appended).
        public var apiRoot: String
        /// A 2-legged access token with scope `sim-swap:check`.
        public var token: String
        public var timeout: Duration

        public init(apiRoot: String, token: String, timeout: Duration = .milliseconds(1500)) {
            self.apiRoot = apiRoot
            self.token = token
            self.timeout = timeout
        }
    }

    public let options: Options
    let client: HTTPClient
    let logger: Logger

    public init(options: Options, client: HTTPClient = .shared, logger: Logger = Logger(label: "sandi.simswap")) {
        self.options = options
        self.client = client
        self.logger = logger
    }

    struct CheckBody: Encodable {
        let phoneNumber: String
        let maxAge: Int
    }

    struct CheckAnswer: Decodable {
        let swapped: Bool
    }

    struct ErrorAnswer: Decodable {
        let status: Int?
        let code: String?
    }

    public func check(e164: String, maxAgeHours: Int) async -> SimSwapAnswer {
        let root = options.apiRoot.hasSuffix("/") ? String(options.apiRoot.dropLast()) : options.apiRoot
        var request = HTTPClientRequest(url: root + "/sim-swap/v2/check")
        request.method = .POST
        let correlator = Identifier.randomBase32(bytes: 10)
        request.headers.add(name: "Authorization", value: "Bearer " + options.token)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "x-correlator", value: correlator)
        do {
            let body = try JSONEncoder().encode(CheckBody(phoneNumber: e164, maxAge: min(2400, max(1, maxAgeHours))))
            request.body = .bytes(ByteBuffer(data: body))
            let response = try await client.execute(request, timeout: .init(options.timeout))
            let bytes = try await response.body.collect(upTo: 64 * 1024)
            if response.status.code == 200 {
                let answer = try JSONDecoder().decode(CheckAnswer.self, from: bytes)
                return .swapped(answer.swapped)
            }
            let code = (try? JSONDecoder().decode(ErrorAnswer.self, from: bytes))?.code ?? "none"
            logger.info("sim swap check unavailable", metadata: [
                "status": "\(response.status.code)", "code": "\(code.prefix(40))", "correlator": "\(correlator)"])
            return .unavailable("http_\(response.status.code)_\(code.prefix(40))")
        } catch {
            logger.info("sim swap check failed", metadata: ["error": "\(type(of: error))", "correlator": "\(correlator)"])
            return .unavailable("unreachable")
        }
    }
}
