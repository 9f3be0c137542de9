public import Foundation
public import SandiCore

/// A provider's request to Sandi (a status callback, a delivery receipt, a webhook handshake),
/// independent of the HTTP server: what a ``CallbackHandler`` needs to authenticate and read it.
public struct InboundCallback: Sendable {
    public var method: String
    /// The URL the provider requested as the public sees it (scheme, host, path and query):
    /// signatures such as Twilio's cover it.
    public var url: String
    /// The segment after the handler's own (`/v1/callbacks/twilio/status` → `status`), if any.
    public var action: String?
    public var query: [(String, String)]
    /// Header values by lowercased name (the last one when repeated).
    public var headers: [String: String]
    /// The raw body bytes, as signed.
    public var body: Data

    public init(method: String, url: String, action: String?, query: [(String, String)], headers: [String: String], body: Data) {
        self.method = method
        self.url = url
        self.action = action
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The first query parameter called `name`.
    public func queryValue(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    /// The body as form fields (`application/x-www-form-urlencoded`).
    public var form: [(String, String)] { FormBody.parse(String(decoding: body, as: UTF8.self)) }

    /// The parameters of a callback that may come as a query (GET) or a form (POST).
    public var parameters: [String: String] {
        var all: [String: String] = [:]
        for (name, value) in query + (method == "POST" && header("content-type")?.hasPrefix("application/x-www-form-urlencoded") == true ? form : []) {
            all[name] = value
        }
        return all
    }
}

/// What Sandi answers a provider.
public struct CallbackAnswer: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String

    public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String = "") {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// 200 with an empty body: received.
    public static let received = CallbackAnswer()
    /// 204: received, nothing to say (providers that want no body).
    public static let noContent = CallbackAnswer(status: 204)
}

/// Why a callback was refused (answered as problem+json; nothing is recorded).
public enum CallbackRejection: Error, Sendable, Equatable {
    /// Not signed by the provider, a wrong verification token, or replayed: 403.
    case forbidden(String)
    /// Signed but unreadable, or an unknown action: 400.
    case invalid(String)
    /// No such action for this handler: 404.
    case notFound
}

/// Receives one provider's requests at `/v1/callbacks/<route>[/<action>]` (outside API-key
/// authentication: each handler authenticates its provider by the provider's own signature).
public protocol CallbackHandler: Sendable {
    /// The path segment it answers under `/v1/callbacks/` (`twilio`, `whatsapp`, …).
    var route: String { get }
    /// Authenticates the request, records what it reports, and says what to answer. Throws
    /// ``CallbackRejection`` for requests to refuse; other errors (storage) answer 503 so that
    /// the provider tries again later.
    func handle(_ request: InboundCallback) async throws -> CallbackAnswer
}

/// Applies receipts that providers push to Sandi: finds the delivery by the provider's message id
/// and moves it on through the engine, before Sandi answers (so a receipt the provider saw
/// acknowledged is stored; a duplicate or late one changes nothing: statuses only move forward).
public struct ReceiptRecorder: Sendable {
    let lookup: any DeliveryQueue
    let processor: DeliveryProcessor

    public init(lookup: any DeliveryQueue, processor: DeliveryProcessor) {
        self.lookup = lookup
        self.processor = processor
    }

    /// Records `status` for the message `provider` knows as one of `messageIDs` (alternative
    /// spellings of one id). Returns the delivery, or nil when no delivery has that id.
    @discardableResult
    public func record(provider: String, messageIDs: [String], status: DeliveryStatus, error: String? = nil) async throws -> Delivery? {
        for id in messageIDs where !id.isEmpty {
            guard let delivery = try await lookup.delivery(provider: provider, providerMessageID: id) else { continue }
            return try await processor.receipt(deliveryID: delivery.id, status: status, at: processor.clock.now, error: error) ?? delivery
        }
        return nil
    }

    /// Records `status` for the delivery Sandi sent as `deliveryID` (providers that echo a
    /// reference of ours), checking that it went out through `provider`.
    @discardableResult
    public func record(provider: String, deliveryID: String, status: DeliveryStatus, error: String? = nil) async throws -> Delivery? {
        guard let delivery = try await lookup.delivery(id: deliveryID), delivery.provider == provider else { return nil }
        return try await processor.receipt(deliveryID: delivery.id, status: status, at: processor.clock.now, error: error) ?? delivery
    }
}
