import AsyncHTTPClient
import Foundation
import NIOCore

/// Changes the simulator of a running server through its API (`POST /v1/dev/simulator`), so that
/// outages and degradations can start and end on command from a shell.
public enum SimulatorControl {
    public enum ControlError: Error, CustomStringConvertible {
        case refused(UInt, String)
        public var description: String {
            switch self { case .refused(let status, let body): "the server answered \(status): \(body.prefix(400))" }
        }
    }

    /// Posts `change` (the endpoint's JSON) and returns the settings the server answered.
    public static func apply(baseURL: String, apiKey: String, change: [String: Any]) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: change, options: [.sortedKeys])
        var request = HTTPClientRequest(url: baseURL + "/v1/dev/simulator")
        request.method = change.isEmpty ? .GET : .POST
        request.headers.add(name: "Authorization", value: "Bearer " + apiKey)
        if !change.isEmpty {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 200 else { throw ControlError.refused(response.status.code, text) }
        return text
    }
}
