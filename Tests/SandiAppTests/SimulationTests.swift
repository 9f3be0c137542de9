import Foundation
import SandiApp
import Testing

@Suite("sandi simulate")
struct SimulationTests {
    @Test("a small peak with a WhatsApp outage and a degraded SMS route: orchestration beats the SMS-only baseline, deterministically")
    func scenario() async throws {
        var options = Simulation.Options()
        options.verifications = 1500
        options.durationSeconds = 600
        options.outageStart = 250
        options.outageSeconds = 100
        options.degradedStart = 200
        options.degradedSeconds = 300
        let report = try await Simulation(options: options).run()
        let f = report.figures, b = report.baseline
        #expect(f.verifications == 1500 && b.verifications == 1500)
        #expect(f.deliveredWithin90sRatio >= 0.995, "Sandi delivered \(f.deliveredWithin90sRatio) within 90 s")
        #expect(b.deliveredRatio < 0.9, "the degraded single route loses codes: \(b.deliveredRatio)")
        #expect(f.fallbackByStep["whatsapp->sms", default: 0] > 0.05, "the outage moved codes to SMS")
        #expect(f.sendsPerVerification > 1 && b.sendsPerVerification == 1)
        #expect(f.timeToDeliveryS.p50 <= f.timeToDeliveryS.p95 && f.timeToDeliveryS.p95 <= f.timeToDeliveryS.p99)
        #expect(f.costPerSuccess > 0 && f.costPerSuccess < b.costPerSuccess, "WhatsApp first is cheaper per delivered code")
        let again = try await Simulation(options: options).run()
        #expect(again == report, "the same seed gives the same report")
        let json = try JSONEncoder().encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        for key in ["verifications", "delivered_ratio", "time_to_delivery_s", "fallback_ratio", "sends_per_verification", "cost_per_success", "baseline"] {
            #expect(object[key] != nil, "the contract's --json key \(key)")
        }
    }
}
