import AsyncHTTPClient
import Foundation
import NIOFoundationCompat
import SandiCore

/// A provider API's answer to a send.
struct ProviderReply: Sendable {
    let status: Int
    let body: Data

    /// The body as a JSON object (empty when it is not one).
    var json: [String: JSONValue] { JSONValue.parseObject(body) ?? [:] }
}

enum ProviderCall {
    /// Sends one request to a provider's API and reads its answer (at most 256 KiB). No answer
    /// (timeout, connection lost) is `.failed`, never retried: the message may have gone, and a
    /// retry could put a second copy on the phone.
    static func send(_ request: HTTPClientRequest, client: HTTPClient, timeoutMs: Int, provider: String) async throws(ProviderError) -> ProviderReply {
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeoutMs)))
            let body = try await response.body.collect(upTo: 256 * 1024)
            return ProviderReply(status: Int(response.status.code), body: Data(buffer: body))
        } catch {
            throw .failed("\(provider): no answer")
        }
    }
}
