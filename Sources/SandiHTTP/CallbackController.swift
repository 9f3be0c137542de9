import Foundation
public import Hummingbird
import HTTPTypes
import Logging
import NIOCore
public import SandiProviders

/// Providers' callbacks (status callbacks, delivery receipts, webhook handshakes) at
/// `/v1/callbacks/<provider>[/<action>]`. They carry no API key: each handler authenticates its
/// provider by the provider's own signature, and refusals are problem+json like everything else.
public struct CallbackController: Sendable {
    /// Callback bodies may be batches (WhatsApp); still bounded.
    public static let maxBody = 64 * 1024
    public let handlers: [String: any CallbackHandler]
    /// Sandi's public root (`https://otp.example.com`) as providers call it; nil: taken from the
    /// request's `Host` and `X-Forwarded-Proto`.
    public let publicURL: String?

    public init(handlers: [any CallbackHandler], publicURL: String?) {
        self.handlers = Dictionary(handlers.map { ($0.route, $0) }, uniquingKeysWith: { first, _ in first })
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    public func register(on router: Router<SandiRequestContext>) {
        for path in ["v1/callbacks/:provider", "v1/callbacks/:provider/:action"] {
            router.get(RouterPath(path), use: handle)
            router.post(RouterPath(path), use: handle)
        }
    }

    @Sendable func handle(_ request: Request, context: SandiRequestContext) async throws -> Response {
        guard let route = context.parameters.get("provider"), let handler = handlers[route] else {
            throw APIProblem.notFound("no provider callbacks here")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maxBody {
            throw APIProblem(status: .contentTooLarge, code: "payload_too_large", title: "Payload too large",
                             detail: "callback bodies are limited to \(Self.maxBody) bytes")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBody)
        } catch is NIOTooManyBytesError {
            throw APIProblem(status: .contentTooLarge, code: "payload_too_large", title: "Payload too large",
                             detail: "callback bodies are limited to \(Self.maxBody) bytes")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let inbound = InboundCallback(
            method: request.method.rawValue, url: publicURL(of: request), action: context.parameters.get("action"),
            query: query, headers: headers, body: Data(buffer: body))
        let answer: CallbackAnswer
        do {
            answer = try await handler.handle(inbound)
        } catch let rejection as CallbackRejection {
            context.logger.notice("provider callback refused", metadata: ["provider": .string(route), "reason": .string("\(rejection)")])
            switch rejection {
            case .forbidden(let reason):
                throw APIProblem(status: .forbidden, code: "invalid_signature", title: "Forbidden", detail: reason)
            case .invalid(let reason):
                throw APIProblem.invalid(reason, status: .badRequest)
            case .notFound:
                throw APIProblem.notFound("no such callback")
            }
        } catch {
            context.logger.error("provider callback not recorded", metadata: ["provider": .string(route), "error_type": .string("\(type(of: error))")])
            throw APIProblem(status: .serviceUnavailable, code: "unavailable", title: "Try again", detail: "the callback could not be recorded now")
        }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: [.contentType: answer.contentType],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }

    /// The URL the provider requested, as the provider saw it.
    func publicURL(of request: Request) -> String {
        let pathAndQuery = request.uri.description
        if let publicURL { return publicURL + pathAndQuery }
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "http"
        let host = request.head.authority ?? request.headers[HTTPField.Name("Host")!] ?? "localhost"
        return "\(scheme)://\(host)\(pathAndQuery)"
    }
}
