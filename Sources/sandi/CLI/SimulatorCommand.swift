import ArgumentParser
import Foundation
import SandiApp

struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulator",
        abstract: "Show or change the simulator of a running server (outages, failures, receipts, latency).",
        discussion: """
            Without changes it prints the current settings. Examples:
              sandi simulator --channel whatsapp --outage true      # WhatsApp down
              sandi simulator --channel whatsapp --outage false     # and back
              sandi simulator --channel sms --operator Telkomsel --receipt-failure-rate 0.4 --receipt-delay-ms 25000
            """)

    @Option(help: "Base URL of the server.") var url = "http://127.0.0.1:8080"
    @Option(help: "API key (default: the data directory's demo-api-key).") var apiKey: String?
    @Option(help: "Data directory holding demo-api-key.") var dataDir = "./sandi-data"
    @Option(help: "whatsapp, sms or voice (default: every channel).") var channel: String?
    @Option(name: .customLong("operator"), help: "Narrow the change to an operator (e.g. Telkomsel).") var op: String?
    @Option(help: "Narrow the change to a country (ISO 3166-1 alpha-2).") var country: String?
    @Option(help: "true or false: every send fails at once.") var outage: Bool?
    @Option(help: "true or false: delivery receipts come back.") var receipts: Bool?
    @Option(help: "Milliseconds a send takes.") var latencyMs: Int?
    @Option(help: "Share of sends that fail (0–1).") var failureRate: Double?
    @Option(help: "Median milliseconds from send to receipt.") var receiptDelayMs: Int?
    @Option(help: "Share of accepted messages whose receipt says failed (0–1).") var receiptFailureRate: Double?
    @Option(help: "Comma-separated E.164 numbers that cannot use the channel.") var unreachable: String?

    func run() async throws {
        let key = try resolveAPIKey(apiKey, dataDir: dataDir)
        var change: [String: Any] = [:]
        if let channel { change["channel"] = channel }
        if let op { change["operator"] = op }
        if let country { change["country"] = country }
        if let outage { change["outage"] = outage }
        if let receipts { change["receipts"] = receipts }
        if let latencyMs { change["latency_ms"] = latencyMs }
        if let failureRate { change["failure_rate"] = failureRate }
        if let receiptDelayMs { change["receipt_delay_ms"] = receiptDelayMs }
        if let receiptFailureRate { change["receipt_failure_rate"] = receiptFailureRate }
        if let unreachable { change["unreachable_numbers"] = unreachable.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        print(try await SimulatorControl.apply(baseURL: url, apiKey: key, change: change))
    }
}
