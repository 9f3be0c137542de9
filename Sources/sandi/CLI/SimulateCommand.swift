import ArgumentParser
import Foundation
import SandiApp

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a peak-evening scenario in-process on a virtual clock and report delivery figures.",
        discussion: """
            Password resets arrive over a simulated window with a peak in the middle; WhatsApp goes down for \
            10 minutes and the primary SMS route degrades (40 % failed receipts, slow receipts). The real engine \
            routes them (plan whatsapp → sms → voice, two SMS routes, circuit breakers, receipts) and the same \
            arrivals run again through a single SMS route with no fallback, as the baseline. Deterministic under --seed.
            """)

    @Option(help: "Verifications to start.") var verifications = 100_000
    @Option(help: "Simulated seconds over which they arrive.") var seconds = 3600
    @Option(help: "Seed of the scenario.") var seed: UInt64 = 2026
    @Flag(help: "Print the report as one JSON object.") var json = false

    func validate() throws {
        guard (1...1_000_000).contains(verifications) else { throw ValidationError("--verifications must be 1–1000000") }
        guard (600...86_400).contains(seconds) else { throw ValidationError("--seconds must be 600–86400") }
    }

    func run() async throws {
        var options = Simulation.Options()
        options.verifications = verifications
        options.durationSeconds = seconds
        // The outage (10 min) and the degraded route keep their place relative to the window.
        options.outageStart = seconds * 25 / 60
        options.outageSeconds = min(600, seconds / 6)
        options.degradedStart = seconds / 3
        options.degradedSeconds = seconds / 2
        options.seed = seed
        let report = try await Simulation(options: options).run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(SimulationText.render(report))
    }
}
