public import AsyncHTTPClient
import Foundation
public import NIOCore
public import SandiCore

/// Posts webhook bodies with async-http-client: JSON, the `Sandi-Signature` header, a timeout;
/// only a 2xx answer counts as delivered.
public struct HTTPWebhookSender: WebhookSender {
    let client: HTTPClient
    let timeout: TimeAmount

    public init(client: HTTPClient = .shared, timeout: TimeAmount = .seconds(5)) {
        self.client = client
        self.timeout = timeout
    }

    public func post(url: String, body: String, signature: String) async -> (ok: Bool, result: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Sandi-Webhooks/1")
        request.headers.add(name: "Sandi-Signature", value: signature)
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return ((200..<300).contains(Int(response.status.code)), "http_\(response.status.code)")
        } catch {
            return (false, "unreachable")
        }
    }
}
