import Foundation
import SandiCore
import Testing

@Suite("HTTP API: orchestration")
struct OrchestrationAPITests {
    @Test("GET /v1/providers shows each route and its breaker per channel and operator; an outage opens it")
    func providerHealth() async throws {
        try await APIHarness.make().run { api in
            _ = try await api.start("+6281234569500")
            try await api.deliver()
            let health = try await api.get("/v1/providers")
            let simulator = try #require(health["providers"]?.arrayValue?.first?.objectValue)
            #expect(simulator["name"] == "simulator" && simulator["channels"] == .array(["sms", "voice", "whatsapp"]))
            let whatsapp = (simulator["breakers"]?.arrayValue ?? []).compactMap(\.objectValue).first { $0["channel"] == "whatsapp" }
            #expect(whatsapp?["operator"] == "Telkomsel" && whatsapp?["state"] == "closed" && whatsapp?["samples"] == 1)
            // Ten failed WhatsApp sends to Telkomsel numbers open its breaker.
            _ = try await api.post("/v1/dev/simulator", #"{"channel":"whatsapp","outage":true}"#)
            for i in 0..<10 {
                _ = try await api.start("+62812345696\(String(format: "%02d", i))")
                try await api.deliver()
            }
            let after = try await api.get("/v1/providers")
            let breaker = (after["providers"]?.arrayValue?.first?.objectValue?["breakers"]?.arrayValue ?? []).compactMap(\.objectValue)
                .first { $0["channel"] == "whatsapp" && $0["operator"] == "Telkomsel" }
            #expect(breaker?["state"] == "open" && breaker?["opened_at"]?.stringValue?.isContractTimestamp == true, "\(String(describing: breaker))")
            #expect(try await api.get("/metrics").text.contains(#"sandi_provider_breaker_state{provider="simulator",channel="whatsapp",operator="Telkomsel"} 2"#))
        }
    }
}
