import Crypto
import HTTPTypes
import Logging
import Foundation
public import Hummingbird
import NIOCore
public import SandiCore

/// `Idempotency-Key` for state-changing POSTs: the same key and body within 24 h replays the first
/// response (with `Idempotent-Replayed: true`) and does nothing again; another body is 422.
public struct IdempotencyGuard: Sendable {
    public let store: any IdempotencyStore
    public let clock: any TimeSource

    public init(store: any IdempotencyStore, clock: any TimeSource) {
        self.store = store
        self.clock = clock
    }

    static let header = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    /// Runs `operation` once per key; without a key it simply runs it.
    public func run(_ request: Request, tenantID: String, body: [UInt8], _ operation: () async throws -> Response) async throws -> Response {
        guard let key = request.headers[Self.header] else { return try await operation() }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw APIProblem.invalid("Idempotency-Key must be 1–255 visible ASCII characters", status: .badRequest,
                                     errors: [FieldError(field: "Idempotency-Key", reason: "invalid")])
        }
        let scope = "\(request.method.rawValue) \(request.uri.path)"
        let hash = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        switch try await store.beginIdempotent(tenantID: tenantID, scope: scope, key: key, requestHash: hash, now: clock.now) {
        case .replay(let stored):
            var headers: HTTPFields = [.contentType: stored.contentType, Self.replayed: "true"]
            if let retry = Self.retryAfter(stored) { headers[.retryAfter] = retry }
            return Response(status: .init(code: stored.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: stored.body)))
        case .mismatch:
            throw APIProblem(status: .unprocessableContent, code: "idempotency_key_reused", title: "Idempotency key reused",
                             detail: "this Idempotency-Key was used with a different request body")
        case .inProgress:
            throw APIProblem(status: .conflict, code: "idempotency_in_progress", title: "Request in progress",
                             detail: "the first request with this Idempotency-Key has not finished", retryAfter: 1)
        case .proceed:
            break
        }
        let response: Response
        do {
            response = try await operation()
        } catch {
            let problem = ProblemMiddleware<SandiRequestContext>.problem(for: error, logger: Logger(label: "sandi.idempotency"))
            guard problem.status.code < 500 else {
                try? await store.abandonIdempotent(tenantID: tenantID, scope: scope, key: key)
                throw error
            }
            return try await remember(problem.response(), tenantID: tenantID, scope: scope, key: key)
        }
        return try await remember(response, tenantID: tenantID, scope: scope, key: key)
    }

    /// Reads the body once and runs `handle` with it parsed as a JSON object, under the request's
    /// Idempotency-Key (so validation errors are replayed like any answer below 500).
    public func runParsed(_ request: Request, tenantID: String, emptyIsObject: Bool = false,
                          _ handle: (inout JSONBody) async throws -> Response) async throws -> Response {
        let raw = try await JSONBody.readRaw(request)
        return try await run(request, tenantID: tenantID, body: raw) {
            var body = try JSONBody.parse(raw, emptyIsObject: emptyIsObject)
            return try await handle(&body)
        }
    }

    private func remember(_ response: Response, tenantID: String, scope: String, key: String) async throws -> Response {
        var response = response
        let box = CollectingWriter.Box()
        try await response.body.write(CollectingWriter(box: box))
        let collected = box.buffer
        let bytes = Array(buffer: collected)
        if response.status.code < 500 {
            try await store.finishIdempotent(
                tenantID: tenantID, scope: scope, key: key,
                response: StoredResponse(status: response.status.code, body: bytes, contentType: response.headers[.contentType] ?? "application/json"),
                now: clock.now)
        } else {
            try? await store.abandonIdempotent(tenantID: tenantID, scope: scope, key: key)
        }
        response.body = ResponseBody(byteBuffer: collected)
        return response
    }

    private static func retryAfter(_ stored: StoredResponse) -> String? {
        guard stored.status == 429,
              let fields = JSONValue.parseObject(stored.body),
              case .number(let seconds)? = fields["retry_after_s"]
        else { return nil }
        return String(Int(seconds))
    }
}

/// Collects a response body into one buffer.
struct CollectingWriter: ResponseBodyWriter {
    final class Box { var buffer = ByteBuffer() }
    let box: Box

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        box.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
