import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import SandiApp
import SandiCore
import SandiPostgres
import SandiSQLite
import SandiTesting
import Synchronization

/// One parsed HTTP answer.
struct Answer: Sendable {
    /// Response headers, looked up case-insensitively.
    struct Headers: Sendable {
        let fields: [String: String]
        subscript(_ name: String) -> String? { fields[name.lowercased()] }
    }

    let status: Int
    let headers: Headers
    let text: String

    var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
    var object: [String: JSONValue] { json?.objectValue ?? [:] }
    subscript(_ key: String) -> JSONValue? { object[key] }
    var code: String? { object["code"]?.stringValue }
}

/// Records every log line (message and metadata) so tests can prove what never gets logged.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])

    func handler(label: String) -> CapturingLogHandler { CapturingLogHandler(capture: self) }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = self.metadata.merging(extra ?? [:]) { $1 }
        capture.lines.withLock { $0.append("\(level) \(message) \(all)") }
    }

    func log(event: LogEvent) {
        log(level: event.level, message: event.message, metadata: event.metadata, source: event.source, file: event.file, function: event.function, line: event.line)
    }
}

/// Sandi in-process over a real SQLite file, with a manual clock, two tenants and their keys.
struct APIHarness: Sendable {
    let system: SandiSystem
    let clock: ManualClock
    let key: String
    let otherKey: String
    let directory: String
    let logs: LogCapture
    /// Removes what the storage left outside the directory (a PostgreSQL schema).
    let drop: @Sendable () async -> Void

    static func make(simulator: Bool = true, directory existing: String? = nil, clock: ManualClock = ManualClock(), overrides: [String: String] = [:]) async throws -> APIHarness {
        let directory = existing ?? NSTemporaryDirectory() + "sandi-api-" + Identifier.randomBase32(bytes: 6)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configuration = try await SandiConfiguration.load(
            overrides: ["sandi.data.dir": directory, "sandi.simulator.enabled": simulator ? "true" : "false"].merging(overrides) { $1 }, environment: [:])
        let logs = LogCapture()
        let logger = Logger(label: "sandi-test") { logs.handler(label: $0) }
        let (store, close, drop) = try await TestStorage.open(directory: directory, logger: logger)
        let system = SandiSystem.build(configuration: configuration, store: store, keyring: Fixtures.keyring, clock: clock, logger: logger, close: close)
        let admin = TenantAdmin(store: store, clock: clock)
        let key = try await admin.createKey(tenantName: "acme-\(Identifier.randomBase32(bytes: 3))").key
        let otherKey = try await admin.createKey(tenantName: "other-\(Identifier.randomBase32(bytes: 3))").key
        return APIHarness(system: system, clock: clock, key: key, otherKey: otherKey, directory: directory, logs: logs, drop: drop)
    }

    /// Runs `body` against the router in-process, then closes storage and removes the files.
    func run(keepFiles: Bool = false, _ body: @Sendable (APIClient) async throws -> Void) async throws {
        let app = system.application()
        do {
            try await app.test(.router) { client in try await body(APIClient(client: client, key: key, harness: self)) }
        } catch {
            try? await system.close()
            if !keepFiles { await remove() }
            throw error
        }
        try await system.close()
        if !keepFiles { await remove() }
    }

    /// Removes the files and the database schema.
    func remove() async {
        await drop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The storage of API tests: a real SQLite file in the test's directory, or, with
/// `SANDI_TEST_STORAGE=postgres` (scripts/test.sh runs the API suites a second time so), a schema
/// of its own on the test PostgreSQL server, named in the directory so a reopen finds it again.
enum TestStorage {
    static var postgres: Bool { ProcessInfo.processInfo.environment["SANDI_TEST_STORAGE"] == "postgres" }

    static func open(directory: String, logger: Logger) async throws -> (any SandiStore, @Sendable () async throws -> Void, @Sendable () async -> Void) {
        guard postgres else {
            let store = try await SQLiteStore.open(path: directory + "/sandi.sqlite", logger: logger)
            return (store, { try await store.close() }, {})
        }
        guard let url = ProcessInfo.processInfo.environment["SANDI_TEST_DATABASE_URL"] else {
            throw TestFailure("SANDI_TEST_STORAGE=postgres needs SANDI_TEST_DATABASE_URL (scripts/test.sh sets both)")
        }
        let nameFile = directory + "/pg-schema"
        var options = try PostgresStoreOptions(url: url).withFreshSchema()
        if let existing = try? String(contentsOfFile: nameFile, encoding: .utf8) { options.schema = existing } else {
            try Data((options.schema ?? "").utf8).write(to: URL(fileURLWithPath: nameFile))
        }
        options.maxConnections = 6
        options.minConnections = 0
        let store = try await PostgresStore.open(options, migrate: true, logger: logger)
        let dropper = options
        return (store, { try await store.close() }, {
            guard let admin = try? await PostgresStore.open(dropper, migrate: false) else { return }
            try? await admin.dropOwnSchema()
            try? await admin.close()
        })
    }
}

/// A small client for the API under test.
struct APIClient: Sendable {
    let client: any TestClientProtocol
    let key: String
    let harness: APIHarness

    func request(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, key: String? = nil, headers extra: [String: String] = [:]) async throws -> Answer {
        var headers: HTTPFields = [:]
        if let key = key ?? Optional(self.key), !key.isEmpty { headers[.authorization] = "Bearer " + key }
        if body != nil { headers[.contentType] = "application/json" }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            var map: [String: String] = [:]
            for field in response.headers { map[field.name.canonicalName.lowercased()] = field.value }
            return Answer(status: Int(response.status.code), headers: .init(fields: map), text: String(buffer: response.body))
        }
    }

    func post(_ path: String, _ body: String? = "{}", key: String? = nil, headers: [String: String] = [:]) async throws -> Answer {
        try await request(.post, path, body: body, key: key, headers: headers)
    }

    func get(_ path: String, key: String? = nil) async throws -> Answer {
        try await request(.get, path, key: key)
    }

    /// Starts a verification and returns its id.
    func start(_ to: String = "+6281234567890", purpose: String = "password_reset", extra: String = "") async throws -> String {
        let answer = try await post("/v1/verifications", #"{"to":"\#(to)","purpose":"\#(purpose)"\#(extra)}"#)
        guard answer.status == 201, let id = answer["id"]?.stringValue else {
            throw TestFailure("start failed: \(answer.status) \(answer.text)")
        }
        return id
    }

    /// Runs the delivery worker until no due job is left (the test drives it instead of waiting).
    func deliver() async throws {
        for _ in 0..<10 where try await harness.system.worker.runOnce() > 0 {}
    }

    /// The newest code the simulated phone received.
    func code(to: String = "+6281234567890") async throws -> String {
        try await deliver()
        let outbox = try await get("/v1/dev/outbox?to=" + to.replacingOccurrences(of: "+", with: "%2B"))
        guard case .array(let messages)? = outbox["messages"], case .object(let first)? = messages.first, let code = first["code"]?.stringValue else {
            throw TestFailure("no message for \(to): \(outbox.text)")
        }
        return code
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
