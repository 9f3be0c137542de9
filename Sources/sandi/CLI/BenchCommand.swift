import ArgumentParser
import Foundation
import Logging
import SandiApp
import SandiCore

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a running Sandi: start and check against the trivial endpoint, same run.",
        discussion: "Needs a server with the simulator on. Prints throughput and p50/p99 per phase, the ratios to the trivial endpoint and the servers' CPU time per request (read from /metrics; each phase waits for the servers to fall idle after it); medians over --rounds.")

    @Option(help: "Base URL of a node; repeat for several nodes on one database (load spread evenly).") var url: [String] = ["http://127.0.0.1:8080"]
    @Option(help: "API key (default: the data directory's demo-api-key).") var apiKey: String?
    @Option(help: "Data directory holding demo-api-key.") var dataDir = "./sandi-data"
    @Option(help: "Connections / concurrent requests.") var concurrency = 64
    @Option(help: "Seconds per phase.") var seconds = 5.0
    @Option(help: "Rounds (each: trivial, start, check).") var rounds = 3
    @Option(help: "Bearer token of /metrics when the server has one (for the server CPU per request).") var metricsToken: String?
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        let key = try resolveAPIKey(apiKey, dataDir: dataDir)
        let bench = LoadBenchmark(options: .init(baseURLs: url, apiKey: key, concurrency: concurrency, seconds: seconds, rounds: rounds,
                                                           metricsToken: metricsToken))
        let results = try await bench.run { line in if !json { print(line) } }
        print(BenchReport.render(results, concurrency: concurrency, json: json))
    }
}

/// The key given with --api-key, else the data directory's demo key.
func resolveAPIKey(_ apiKey: String?, dataDir: String) throws -> String {
    if let apiKey { return apiKey }
    guard let text = try? String(contentsOfFile: dataDir + "/demo-api-key", encoding: .utf8) else {
        throw ValidationError("no --api-key and no \(dataDir)/demo-api-key")
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}
