import Foundation
public import Hummingbird
import HTTPTypes
import NIOCore
public import Prometheus
public import SandiCore

/// Health, metrics and the API document. None needs a key (metrics can be put behind one).
public struct OpsController: Sendable {
    public let store: any StoreHealth
    public let registry: PrometheusCollectorRegistry
    /// When set, `/metrics` wants `Authorization: Bearer <this>`.
    public let metricsToken: String?

    public init(store: any StoreHealth, registry: PrometheusCollectorRegistry, metricsToken: String?) {
        self.store = store
        self.registry = registry
        self.metricsToken = metricsToken
    }

    /// The OpenAPI document shipped with the server.
    public static let openAPIDocument: ByteBuffer = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
              let data = try? Data(contentsOf: url)
        else { return ByteBuffer(string: "openapi: 3.1.0\n") }
        return ByteBuffer(bytes: data)
    }()

    public func register(on router: Router<SandiRequestContext>) {
        router.get("health/live") { _, _ in try JSONResponse.make(.ok, ["status": "ok"]) }
        router.get("health/ready") { _, _ in
            do {
                try await store.ping()
                return try JSONResponse.make(.ok, ["status": "ok"])
            } catch {
                throw APIProblem(status: .serviceUnavailable, code: "not_ready", title: "Not ready", detail: "storage is not reachable")
            }
        }
        router.get("metrics") { request, _ in
            if let metricsToken {
                let expected = "Bearer " + metricsToken
                guard let given = request.headers[.authorization],
                      given.utf8.count == expected.utf8.count, zip(given.utf8, expected.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0
                else { throw APIProblem.unauthorized }
            }
            var buffer = Array(ProcessMetrics.text().utf8)
            buffer.reserveCapacity(8192)
            registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: Self.openAPIDocument))
        }
    }
}
