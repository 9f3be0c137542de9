import Foundation
public import Hummingbird
import Logging
import NIOCore
public import SandiCore

/// An RFC 9457 problem with Sandi's stable machine code.
public struct APIProblem: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    public var retryAfter: Int?
    public var extra: [String: String]

    public init(status: HTTPResponse.Status, code: String, title: String, detail: String, errors: [FieldError] = [], retryAfter: Int? = nil, extra: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.retryAfter = retryAfter
        self.extra = extra
    }

    public static let unauthorized = APIProblem(
        status: .unauthorized, code: "unauthorized", title: "Unauthorized",
        detail: "send a valid API key as `Authorization: Bearer <key>`")

    public static func notFound(_ detail: String = "no such resource") -> APIProblem {
        APIProblem(status: .notFound, code: "not_found", title: "Not found", detail: detail)
    }

    public static func invalid(_ detail: String, status: HTTPResponse.Status = .unprocessableContent, errors: [FieldError] = []) -> APIProblem {
        APIProblem(status: status, code: "invalid_request", title: "Invalid request", detail: detail, errors: errors)
    }

    /// The problem for a domain error: the one place where domain errors become HTTP.
    public init(_ error: VerificationError) {
        switch error {
        case .invalidRequest(let errors):
            self.init(status: .unprocessableContent, code: error.code, title: "Invalid request",
                      detail: errors.map { "\($0.field): \($0.reason)" }.joined(separator: "; "), errors: errors)
        case .invalidPhoneNumber(let reason):
            self.init(status: .unprocessableContent, code: error.code, title: "Invalid phone number", detail: reason,
                      errors: [FieldError(field: "to", reason: reason)])
        case .unsupportedPurpose:
            self.init(status: .unprocessableContent, code: error.code, title: "Unsupported purpose",
                      detail: "purpose must be one of: " + Purpose.allCases.map(\.rawValue).joined(separator: ", "),
                      errors: [FieldError(field: "purpose", reason: "unsupported")])
        case .notFound:
            self = .notFound("no such verification")
        case .notPending(let status):
            self.init(status: .conflict, code: error.code, title: "Verification not pending",
                      detail: "the verification is \(status.rawValue)", extra: ["verification_status": status.rawValue])
        case .channelUnavailable(let channel):
            self.init(status: .unprocessableContent, code: error.code, title: "Channel unavailable",
                      detail: "\(channel.rawValue) cannot be used for this destination or is not configured",
                      errors: [FieldError(field: "channel", reason: "unavailable")])
        case .maxSendsReached:
            self.init(status: .conflict, code: error.code, title: "No sends left", detail: "this verification used all its sends")
        case .resendTooSoon(let wait):
            self.init(status: .tooManyRequests, code: error.code, title: "Resend too soon",
                      detail: "wait \(wait) s before sending again", retryAfter: wait)
        case .rateLimited(let limit, let wait):
            self.init(status: .tooManyRequests, code: error.code, title: "Rate limited",
                      detail: "limit \(limit) reached; retry in \(wait) s", retryAfter: wait, extra: ["limit": limit])
        case .destinationNotAllowed(let reason):
            self.init(status: .forbidden, code: error.code, title: "Destination not allowed", detail: reason)
        case .grantNotFound:
            self.init(status: .notFound, code: error.code, title: "Grant not found", detail: "no such grant token")
        case .grantExpired:
            self.init(status: .gone, code: error.code, title: "Grant expired", detail: "the grant token expired")
        case .grantAlreadyRedeemed:
            self.init(status: .conflict, code: error.code, title: "Grant already redeemed", detail: "the grant token was already used")
        }
    }

    /// The problem+json response.
    public func response() -> Response {
        var object: [String: JSONValue] = [
            "type": .string("urn:sandi:problem:\(code)"), "title": .string(title), "status": .number(Double(status.code)),
            "detail": .string(detail), "code": .string(code),
        ]
        if !errors.isEmpty {
            object["errors"] = .array(errors.map { .object(["field": .string($0.field), "reason": .string($0.reason)]) })
        }
        if let retryAfter { object["retry_after_s"] = .number(Double(retryAfter)) }
        for (key, value) in extra { object[key] = .string(value) }
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body = (try? JSONCoding.encoder.encode(JSONValue.object(object))) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error into problem+json: domain errors by their code, framework errors by status;
/// anything unexpected is a 500 without internals.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.problem(for: error, logger: context.logger).response()
        }
    }

    static func problem(for error: any Error, logger: Logger) -> APIProblem {
        switch error {
        case let problem as APIProblem: return problem
        case let error as VerificationError: return APIProblem(error)
        case let error as AccountError:
            switch error {
            case .notFound(let detail): return .notFound(detail)
            case .conflict(let code, let detail): return APIProblem(status: .conflict, code: code, title: "Conflict", detail: detail)
            case .forbidden(let code, let detail): return APIProblem(status: .forbidden, code: code, title: "Forbidden", detail: detail)
            }
        case is NIOTooManyBytesError:
            return APIProblem(status: .contentTooLarge, code: "payload_too_large", title: "Payload too large",
                              detail: "request bodies are limited to \(HTTPLimits.maxBody) bytes")
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return .notFound("no such route")
            case .contentTooLarge:
                return APIProblem(status: .contentTooLarge, code: "payload_too_large", title: "Payload too large",
                                  detail: "request bodies are limited to \(HTTPLimits.maxBody) bytes")
            case .methodNotAllowed:
                return APIProblem(status: .methodNotAllowed, code: "method_not_allowed", title: "Method not allowed", detail: "this route does not take that method")
            case let status where status.code < 500:
                return APIProblem(status: status, code: "invalid_request", title: status.reasonPhrase, detail: status.reasonPhrase)
            default:
                break
            }
        default:
            break
        }
        logger.error("request failed", metadata: ["error_type": .string(String(describing: type(of: error)))])
        return APIProblem(status: .internalServerError, code: "internal_error", title: "Internal error", detail: "something went wrong on our side")
    }
}
