import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SandiApp
import SandiCore
import SandiProviders
import SandiSMPP
import ServiceLifecycle
import Testing

/// Sandi with an SMSC configured, against the fake SMSC over loopback TCP: the public API in,
/// `submit_sm` out, `deliver_sm` receipts back.
@Suite("SMS over SMPP, end to end")
struct SMPPProviderTests {
    @Test("a verification started over the API goes out as submit_sm from the branded sender; its receipt marks it delivered, once; the code checks")
    func endToEnd() async throws {
        let smsc = try await FakeSMSC.start(script: .init(systemID: "sandi", password: "s3cret"))
        let directory = NSTemporaryDirectory() + "sandi-smpp-" + Identifier.randomBase32(bytes: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try await SandiConfiguration.load(overrides: [
            "sandi.data.dir": directory, "sandi.simulator.enabled": "false", "sandi.plan": "sms:30",
            "sandi.smpp.host": "127.0.0.1", "sandi.smpp.port": String(smsc.port), "sandi.smpp.system_id": "sandi",
            "sandi.smpp.password": "s3cret", "sandi.smpp.source": "ACME",
        ], environment: [:])
        #expect(configuration.startupProblems.isEmpty, "\(configuration.startupProblems)")
        let system = try await SandiSystem.open(configuration, logger: Logger(label: "smpp-test"))
        let smpp = try #require(system.smpp)
        let group = ServiceGroup(services: [smpp], logger: Logger(label: "smpp-test"))
        let running = Task { try await group.run() }
        let (key, _) = try await TenantAdmin(store: system.store).createKey(tenantName: "acme")
        do {
            try await system.application().test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> [String: JSONValue] {
                    var headers: HTTPFields = [.authorization: "Bearer \(key)"]
                    if body != nil { headers[.contentType] = "application/json" }
                    return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                        (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)))?.objectValue ?? [:]
                    }
                }
                let started = try await call(.post, "/v1/verifications", #"{"to":"+6281234567890","purpose":"login","locale":"id"}"#)
                let id = try #require(started["id"]?.stringValue)
                #expect(try await system.worker.runOnce() == 1)

                let submits = try await smsc.waitForReceived { $0.isSubmit }.compactMap(\.submitted)
                let submit = try #require(submits.first)
                #expect(submit.source == .alphanumeric("ACME") && submit.destination == .international("+6281234567890"))
                #expect(submit.registeredDelivery == 1 && submit.dataCoding == 0, "a receipt asked for; GSM 7-bit")
                let text = GSM7.decode(submit.shortMessage)
                let code = try #require(text.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init), "\(text)")
                #expect(text.count <= 160, "one segment: \(text)")

                var read = try await call(.get, "/v1/verifications/\(id)")
                let delivery = try #require(read["deliveries"]?.arrayValue?.first?.objectValue)
                #expect(delivery["provider"] == "smpp" && delivery["status"] == "sent")

                // The SMSC reports the message delivered, twice: the second changes nothing.
                let deliveryID = try #require(delivery["id"]?.stringValue)
                let messageID = try #require(try await system.store.delivery(id: deliveryID)?.providerMessageID)
                smsc.sendTextReceipt(messageID: messageID, stat: "DELIVRD", times: 2)
                _ = try await smsc.waitForReceived(2) { $0.commandID == .deliverSMResp }
                for _ in 0..<200 where try await system.worker.runOnce() == 0 { try await Task.sleep(for: .milliseconds(10)) }
                while try await system.worker.runOnce() > 0 {}
                read = try await call(.get, "/v1/verifications/\(id)?include=events")
                #expect(read["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "delivered")
                let delivered = read["events"]?.arrayValue?.filter { $0.objectValue?["type"] == "delivery.delivered" }.count
                #expect(delivered == 1, "one delivered event for two receipts")

                let checked = try await call(.post, "/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)
                #expect(checked["valid"] == .bool(true))
            }
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            await smsc.stop()
            try? await system.close()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(smsc.received.contains { $0.commandID == .unbind }, "unbound on shutdown")
        await smsc.stop()
        try await system.close()
    }

    @Test("submit failures: surely unsent waits and retries, refused or possibly sent moves the plan on; final receipt states map, others wait")
    func outcomes() {
        #expect(SMPPProvider.outcome(of: .unavailable) == .transient("smpp: not bound or window full"))
        #expect(SMPPProvider.outcome(of: .submitRejected(.throttled)) == .transient("smpp: \(SMPPCommandStatus.throttled)"))
        #expect(SMPPProvider.outcome(of: .submitRejected(.messageQueueFull)) == .transient("smpp: \(SMPPCommandStatus.messageQueueFull)"))
        for error: SMPPClientError in [.submitRejected(.invalidDestinationAddress), .responseTimedOut, .connectionLost] {
            guard case .failed = SMPPProvider.outcome(of: error) else { Issue.record("\(error) should move the plan on"); continue }
        }
        #expect(SMPPProvider.status(of: .delivered) == .delivered)
        #expect([SMPPDeliveryState.undeliverable, .rejected, .expired, .deleted].allSatisfy { SMPPProvider.status(of: $0) == .failed })
        #expect([SMPPDeliveryState.enroute, .accepted, .unknown].allSatisfy { SMPPProvider.status(of: $0) == nil })
    }
}
