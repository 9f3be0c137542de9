import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SandiCore
import Synchronization

/// `sandi bench`: drives a running Sandi at a fixed concurrency and reports throughput and
/// latency of start and check next to the same server's trivial endpoint (`GET /health/live`),
/// measured in the same run, so the figures read as ratios on a noisy machine.
public struct LoadBenchmark: Sendable {
    public struct Options: Sendable {
        /// Base URLs of the nodes under test; each client loop keeps to one (round robin), so
        /// several nodes on one database share the load evenly.
        public var baseURLs: [String]
        /// The first node (settings, the simulator's outbox).
        public var baseURL: String { baseURLs[0] }
        public var apiKey: String
        public var concurrency: Int
        public var seconds: Double
        public var warmupSeconds: Double
        public var rounds: Int
        /// The bearer token of `/metrics` when the server wants one (`metrics_token`); without
        /// one the API key is sent, which an open `/metrics` ignores.
        public var metricsToken: String?

        public init(baseURLs: [String], apiKey: String, concurrency: Int = 64, seconds: Double = 5, warmupSeconds: Double = 1, rounds: Int = 3,
                    metricsToken: String? = nil) {
            self.baseURLs = baseURLs.isEmpty ? ["http://127.0.0.1:8080"] : baseURLs
            self.apiKey = apiKey
            self.metricsToken = metricsToken
            self.concurrency = concurrency
            self.seconds = seconds
            self.warmupSeconds = warmupSeconds
            self.rounds = rounds
        }
    }

    /// One phase's figures.
    public struct Figures: Sendable, Codable {
        public var requests: Int
        public var errors: Int
        public var throughput: Double
        public var p50Ms: Double
        public var p99Ms: Double
        /// The servers' CPU time per answered request (`process_cpu_seconds_total` of every node),
        /// from the phase's start until the servers fell idle after it, so a start's includes its
        /// delivery and audit sealing in the background; nil when `/metrics` could not be read.
        public var serverCPUMicros: Double?
    }

    /// One round: the three phases measured back to back.
    public struct Round: Sendable, Codable {
        public var trivial: Figures
        public var start: Figures
        public var check: Figures
        public var startRatio: Double { trivial.throughput > 0 ? start.throughput / trivial.throughput : 0 }
        public var checkRatio: Double { trivial.throughput > 0 ? check.throughput / trivial.throughput : 0 }
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// Runs `rounds` rounds and returns them.
    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> [Round] {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: options.concurrency)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let restoreSettings = Locked<(@Sendable () async throws -> Void)?>(nil)
        do {
            let counter = Atomic<Int>(0)
            let runID = UInt64.random(in: 0..<100_000)
            var rounds: [Round] = []
            // Every rule still runs and counts, in record-only mode, so the figures include the
            // risk step's full cost while thousands of starts from one client are not refused.
            let restore = try await recordOnlyRisk(client)
            restoreSettings.withLock { $0 = restore }
            _ = try await phase(client, seconds: options.warmupSeconds) { worker in try await self.trivial(client, worker) }
            for round in 1...max(1, options.rounds) {
                let trivial = try await phase(client, seconds: options.seconds) { worker in try await self.trivial(client, worker) }
                progress("round \(round): trivial \(Int(trivial.figures.throughput)) req/s")
                let started = Locked<[(String, String)]>([])
                let start = try await phase(client, seconds: options.seconds) { worker in
                    let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
                    let to = "+62812" + String(format: "%03d%05d", Int(runID % 1000), n % 100_000)
                    let id = try await self.start(client, worker, to: to)
                    started.withLock { $0.append((id, to)) }
                }
                progress("round \(round): start \(Int(start.figures.throughput)) req/s")
                let created = started.withLock { $0 }
                let codes = try await fetchCodes(client, created)
                let queue = Locked(codes[...])
                let check = try await phase(client, seconds: options.seconds) { worker in
                    guard let next = queue.withLock({ $0.popFirst() }) else { throw BenchError.exhausted }
                    try await self.check(client, worker, id: next.0, code: next.1)
                }
                progress("round \(round): check \(Int(check.figures.throughput)) req/s (\(codes.count) codes available)")
                rounds.append(Round(trivial: trivial.figures, start: start.figures, check: check.figures))
            }
            try await restore()
            try await client.shutdown()
            return rounds
        } catch {
            if let restore = restoreSettings.withLock({ $0 }) { try? await restore() }
            try? await client.shutdown()
            throw error
        }
    }

    enum BenchError: Error { case status(UInt, String), exhausted, malformed }

    /// Puts the tenant's risk rules in record-only mode; returns what puts its settings back.
    private func recordOnlyRisk(_ client: HTTPClient) async throws -> @Sendable () async throws -> Void {
        let current = try await send(client, request("/v1/settings/risk"), expect: 200)
        guard let fields = JSONValue.parseObject(Array(buffer: current)),
              case .object(var settings)? = fields["settings"] else { throw BenchError.malformed }
        let own = fields["source"] == .string("tenant")
        let original = settings
        if case .array(let limits)? = settings["limits"] {
            settings["limits"] = .array(limits.map { rule in
                guard case .object(var r) = rule else { return rule }
                r["mode"] = "record"
                return .object(r)
            })
        }
        for part in ["risk", "pumping"] {
            if case .object(var section)? = settings[part] { section["mode"] = "record"; settings[part] = .object(section) }
        }
        let body = String(decoding: try JSONEncoder().encode(JSONValue.object(settings)), as: UTF8.self)
        _ = try await send(client, request("/v1/settings/risk", method: .PUT, body: body), expect: 200)
        return {
            if own {
                let text = String(decoding: try JSONEncoder().encode(JSONValue.object(original)), as: UTF8.self)
                _ = try await send(client, request("/v1/settings/risk", method: .PUT, body: text), expect: 200)
            } else {
                _ = try await send(client, request("/v1/settings/risk", method: .DELETE), expect: 204)
            }
        }
    }

    private struct PhaseResult { var figures: Figures }

    /// The CPU seconds the servers used so far (the sum of `process_cpu_seconds_total` over the
    /// nodes); nil when a node's `/metrics` cannot be read.
    private func serverCPU(_ client: HTTPClient) async -> Double? {
        var total = 0.0
        for node in options.baseURLs.indices {
            var request = HTTPClientRequest(url: options.baseURLs[node] + "/metrics")
            request.headers.add(name: "Authorization", value: "Bearer " + (options.metricsToken ?? options.apiKey))
            guard let body = try? await send(client, request, expect: 200),
                  let line = String(buffer: body).split(separator: "\n").first(where: { $0.hasPrefix("process_cpu_seconds_total ") }),
                  let seconds = Double(line.dropFirst("process_cpu_seconds_total ".count)) else { return nil }
            total += seconds
        }
        return total
    }

    /// Waits (at most 30 s) until the servers are idle: under 5 % of a core for two seconds, longer
    /// than the worker's sweep (audit sealing runs once a second), so the work a phase left behind
    /// (deliveries, sealing, notices) counts for it and not for the next phase. Returns the CPU
    /// seconds at the start of that quiet stretch.
    private func settled(_ client: HTTPClient) async -> Double? {
        guard let first = await serverCPU(client) else { return nil }
        var samples = [(at: ContinuousClock.now, cpu: first)]
        let give = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < give {
            try? await Task.sleep(for: .milliseconds(250))
            guard let cpu = await serverCPU(client) else { return nil }
            let now = ContinuousClock.now
            samples.append((now, cpu))
            // The latest sample at least two seconds old starts the stretch to judge.
            guard let start = samples.last(where: { now - $0.at >= .seconds(2) }) else { continue }
            if cpu - start.cpu < 0.1 { return start.cpu }
            samples.removeAll { $0.at < start.at }
        }
        return samples.last?.cpu
    }

    /// Runs `operation` from `concurrency` loops for `seconds`, timing each call, then waits for
    /// the servers to settle to count their CPU time per request.
    private func phase(_ client: HTTPClient, seconds: Double, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> PhaseResult {
        let cpuBefore = await serverCPU(client)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let begin = ContinuousClock.now
        let results = await withTaskGroup(of: ([Double], Int, ContinuousClock.Instant).self) { group in
            for worker in 0..<options.concurrency {
                group.addTask {
                    var latencies: [Double] = []
                    var errors = 0
                    var last = ContinuousClock.now
                    while ContinuousClock.now < deadline {
                        let t0 = ContinuousClock.now
                        do {
                            try await operation(worker)
                        } catch BenchError.exhausted {
                            break
                        } catch {
                            errors += 1
                        }
                        last = ContinuousClock.now
                        let d = last - t0
                        latencies.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                    }
                    return (latencies, errors, last)
                }
            }
            var all: [Double] = []
            var errors = 0
            var end = begin
            for await (latencies, e, last) in group {
                all += latencies
                errors += e
                end = max(end, last)
            }
            return (all, errors, end)
        }
        var latencies = results.0
        latencies.sort()
        let elapsed = results.2 - begin
        let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)]
        }
        let ok = latencies.count - results.1
        var cpu: Double?
        if let cpuBefore, let cpuAfter = await settled(client), ok > 0 { cpu = (cpuAfter - cpuBefore) * 1_000_000 / Double(ok) }
        return PhaseResult(figures: Figures(
            requests: latencies.count, errors: results.1, throughput: secondsElapsed > 0 ? Double(ok) / secondsElapsed : 0,
            p50Ms: percentile(0.5), p99Ms: percentile(0.99), serverCPUMicros: cpu))
    }

    private func request(_ path: String, method: HTTPMethod = .GET, body: String? = nil, node: Int = 0) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: options.baseURLs[node % options.baseURLs.count] + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer " + options.apiKey)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        return request
    }

    private func send(_ client: HTTPClient, _ request: HTTPClientRequest, expect: UInt) async throws -> ByteBuffer {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == expect else { throw BenchError.status(response.status.code, String(buffer: body)) }
        return body
    }

    private func trivial(_ client: HTTPClient, _ node: Int) async throws {
        _ = try await send(client, request("/health/live", node: node), expect: 200)
    }

    private func start(_ client: HTTPClient, _ node: Int, to: String) async throws -> String {
        let body = try await send(client, request("/v1/verifications", method: .POST, body: #"{"to":"\#(to)","purpose":"password_reset","channel":"sms"}"#, node: node), expect: 201)
        // Only the id is read: decoding the whole answer into a generic JSON tree took half of
        // this client's CPU, which the server under test shares.
        guard let created = try? JSONDecoder().decode(Created.self, from: Data(buffer: body)) else { throw BenchError.malformed }
        return created.id
    }

    private struct Created: Decodable { var id: String }

    private struct Outbox: Decodable {
        struct Message: Decodable { var code: String? }
        var messages: [Message]
    }

    private func check(_ client: HTTPClient, _ node: Int, id: String, code: String) async throws {
        let body = try await send(client, request("/v1/verifications/\(id)/check", method: .POST, body: #"{"code":"\#(code)"}"#, node: node), expect: 200)
        guard String(buffer: body).contains("\"valid\":true") else { throw BenchError.malformed }
    }

    /// Reads each new verification's code from the simulator's outbox (not timed).
    private func fetchCodes(_ client: HTTPClient, _ created: [(String, String)]) async throws -> [(String, String)] {
        let codes = Locked<[(String, String)]>([])
        let work = Locked(created[...])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<options.concurrency {
                group.addTask {
                    while let (id, to) = work.withLock({ $0.popFirst() }) {
                        for _ in 0..<50 {
                            if let body = try? await send(client, request("/v1/dev/outbox?to=" + to.replacingOccurrences(of: "+", with: "%2B")), expect: 200),
                               let outbox = try? JSONDecoder().decode(Outbox.self, from: Data(buffer: body)),
                               let code = outbox.messages.first?.code {
                                codes.withLock { $0.append((id, code)) }
                                break
                            }
                            try? await Task.sleep(for: .milliseconds(100))
                        }
                    }
                }
            }
        }
        return codes.withLock { $0 }
    }
}

/// A value behind a lock that closures can share.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) -> sending R) -> R { mutex.withLock(body) }
}
