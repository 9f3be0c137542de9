import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A local CAMARA SIM Swap v2 server on loopback, speaking the API's wire format: `POST
/// /sim-swap/v2/check` and `/retrieve-date` with a bearer token, per-number canned answers, the
/// spec's error bodies (`{"status","code","message"}`), the phone number pattern, the maxAge
/// range, 2- and 3-legged identifier rules, quota errors, and the echoed `x-correlator`.
final class FakeCamara: Sendable {
    enum Canned: Sendable {
        /// The SIM changed this many hours ago (nil: never within the monitored period).
        case lastSwap(hoursAgo: Int?)
        /// The operator does not offer the service for this number.
        case notApplicable
        case tooManyRequests
    }

    let token: String
    /// With a 3-legged token the number comes from the token and must not be in the body.
    let threeLegged: Bool
    let answers: [String: Canned]
    let requests = Mutex<[(path: String, body: String, correlator: String?)]>([])

    init(token: String = "camara-test-token", threeLegged: Bool = false, answers: [String: Canned]) {
        self.token = token
        self.threeLegged = threeLegged
        self.answers = answers
    }

    func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, correlator: String?) -> Response {
        let body = #"{"status":\#(status.code),"code":"\#(code)","message":"\#(message)"}"#
        var headers: HTTPFields = [.contentType: "application/json"]
        if let correlator { headers[HTTPField.Name("x-correlator")!] = correlator }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func handle(_ request: Request, path: String) async throws -> Response {
        let correlator = request.headers[HTTPField.Name("x-correlator")!]
        let raw = String(buffer: try await request.body.collect(upTo: 16_384))
        requests.withLock { $0.append((path, raw, correlator)) }
        guard request.headers[.authorization] == "Bearer " + token else {
            return error(.unauthorized, "UNAUTHENTICATED", "Request not authenticated due to missing, invalid, or expired credentials.", correlator: correlator)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] else {
            return error(.badRequest, "INVALID_ARGUMENT", "Client specified an invalid argument, request body or query param.", correlator: correlator)
        }
        let phone = object["phoneNumber"] as? String
        if threeLegged, phone != nil { return error(.unprocessableContent, "UNNECESSARY_IDENTIFIER", "The device is already identified by the access token.", correlator: correlator) }
        guard let phone else { return error(.unprocessableContent, "MISSING_IDENTIFIER", "The device cannot be identified.", correlator: correlator) }
        guard phone.wholeMatch(of: /\+[1-9][0-9]{4,14}/) != nil else {
            return error(.badRequest, "INVALID_ARGUMENT", "Client specified an invalid argument, request body or query param.", correlator: correlator)
        }
        let maxAge = object["maxAge"] as? Int ?? 240
        if path == "check", !(1...2400).contains(maxAge) {
            return error(.badRequest, "OUT_OF_RANGE", "Client specified an invalid range.", correlator: correlator)
        }
        var headers: HTTPFields = [.contentType: "application/json"]
        if let correlator { headers[HTTPField.Name("x-correlator")!] = correlator }
        switch answers[phone] {
        case nil:
            return error(.notFound, "IDENTIFIER_NOT_FOUND", "Device identifier not found.", correlator: correlator)
        case .notApplicable?:
            return error(.unprocessableContent, "SERVICE_NOT_APPLICABLE", "The service is not available for the provided identifier.", correlator: correlator)
        case .tooManyRequests?:
            return error(.tooManyRequests, "TOO_MANY_REQUESTS", "Rate limit reached.", correlator: correlator)
        case .lastSwap(let hours)?:
            let body: String
            if path == "check" {
                body = #"{"swapped":\#(hours.map { $0 <= maxAge } ?? false)}"#
            } else {
                let date = hours.map { Date().addingTimeInterval(Double(-$0) * 3600).ISO8601Format() }
                body = #"{"latestSimChange":\#(date.map { "\"\($0)\"" } ?? "null"),"monitoredPeriod":120}"#
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    /// Serves on a free loopback port until `body` returns; passes the API root.
    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("sim-swap/v2/check") { request, _ in try await self.handle(request, path: "check") }
        router.post("sim-swap/v2/retrieve-date") { request, _ in try await self.handle(request, path: "retrieve-date") }
        return try await Loopback.serve(router, body)
    }
}
