import SandiSMPP
import Testing

@Suite("SMPPClient against a fake SMSC over loopback TCP")
struct ClientTests {
    @Test func bindsAndSubmits() async throws {
        try await withFakeSMSC { fake, client in
            let id = try await client.submit(otp)
            #expect(id == "1")
            let binds = try await fake.waitForReceived { $0.isBind }
            #expect(binds.first?.body == .bindTransceiver(SMPPBind(systemID: "smppclient1", password: "password")))
            let submit = try await fake.waitForReceived { $0.isSubmit }
            #expect(submit.first?.submitted == otp)
            #expect(await client.state == .bound)
        }
    }

    @Test func wrongPasswordFailsTheBindClearly() async throws {
        let fake = try await FakeSMSC.start()
        let client = SMPPClient(configuration: testConfiguration(port: fake.port, password: "wrong"), logger: quietLogger)
        let error = await #expect(throws: SMPPClientError.bindRejected(.bindFailed)) {
            try await withTimeout(.seconds(5)) { try await client.run() }
        }
        #expect(error?.description == "SMSC refused bind_transceiver: ESME_RBINDFAIL (0x0000000D)")
        await #expect(throws: SMPPClientError.bindRejected(.bindFailed)) { try await client.submit(otp) }
        #expect(fake.received.filter(\.isBind).count == 1)  // no reconnect storm
        await fake.stop()
    }

    @Test func throttledSubmitIsRetriedAfterBackoff() async throws {
        var script = FakeSMSC.Script()
        script.throttleNextSubmits = 2
        try await withFakeSMSC(script: script) { fake, client in
            let id = try await client.submit(otp)
            #expect(id == "1")
            let submits = try await fake.waitForReceived(3) { $0.isSubmit }
            #expect(submits.count == 3)
            #expect(Set(submits.map(\.sequenceNumber)).count == 3)
        }
    }

    @Test func receiptsArriveInTextAndTLVForms() async throws {
        try await withFakeSMSC { fake, client in
            let first = try await client.submit(otp)
            let second = try await client.submit(otp)
            fake.sendTextReceipt(messageID: first, stat: "DELIVRD")
            fake.sendTLVReceipt(messageID: second, state: .undeliverable, networkError: 0x0B)
            let got = try await receipts(2, from: client)
            #expect(got.map(\.messageID) == [first, second])
            #expect(got.map(\.state) == [.delivered, .undeliverable])
            #expect(got[0].errorCode == "000")
            #expect(got[1].networkError == SMPPNetworkError(networkType: 3, code: 0x0B))
            let responses = try await fake.waitForReceived(2) { $0.commandID == .deliverSMResp }
            #expect(responses.allSatisfy { $0.commandStatus == .ok })
        }
    }

    @Test func duplicateReceiptsAreDeliveredTwice() async throws {
        try await withFakeSMSC { fake, client in
            let id = try await client.submit(otp)
            fake.sendTextReceipt(messageID: id, stat: "DELIVRD", times: 2)
            let got = try await receipts(2, from: client)
            #expect(got.count == 2)
            #expect(got[0] == got[1])  // de-duplication is the consumer's job
            #expect(got[0].state == .delivered)
        }
    }

    @Test func reconnectsAndRebindsAfterTheSMSCDropsTheConnection() async throws {
        try await withFakeSMSC { fake, client in
            #expect(try await client.submit(otp) == "1")
            fake.dropConnections()
            let binds = try await fake.waitForReceived(2) { $0.isBind }
            #expect(binds.count == 2)
            #expect(try await client.submit(otp) == "2")
        }
    }

    @Test func shutdownUnbindsAndGetsUnbindResp() async throws {
        let fake = try await FakeSMSC.start()
        let client = SMPPClient(configuration: testConfiguration(port: fake.port), logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            _ = try await client.submit(otp)
            let acknowledged = try await withTimeout(.seconds(5)) { await client.shutdown() }
            #expect(acknowledged)
            try await group.waitForAll()  // run() has returned once shutdown() did
        }
        #expect(fake.received.last?.body == .unbind)
        #expect(await client.state == .closed)
        await #expect(throws: SMPPClientError.shutDown) { try await client.submit(otp) }
        await fake.stop()
    }

    @Test func keepsTheLinkAliveWithEnquireLink() async throws {
        try await withFakeSMSC(configure: { $0.session.enquireLinkInterval = .milliseconds(30) }) { fake, _ in
            let pings = try await fake.waitForReceived(2) { $0.commandID == .enquireLink }
            #expect(pings.count == 2)
        }
    }

    @Test func unansweredSubmitTimesOut() async throws {
        var script = FakeSMSC.Script()
        script.ignoreSubmits = true
        try await withFakeSMSC(script: script, configure: { $0.session.responseTimeout = .milliseconds(100) }) { _, client in
            await #expect(throws: SMPPClientError.responseTimedOut) { try await client.submit(otp) }
        }
    }

    @Test func delayedResponsesStillComplete() async throws {
        var script = FakeSMSC.Script()
        script.responseDelay = .milliseconds(50)
        try await withFakeSMSC(script: script) { _, client in
            async let a = client.submit(otp)
            async let b = client.submit(otp)
            let ids = try await [a, b]
            #expect(Set(ids) == ["1", "2"])
        }
    }

    @Test func textSubmitPicksUCS2AndSplitsLongText() async throws {
        try await withFakeSMSC { fake, client in
            let thai = try await client.submit(text: "รหัสของคุณคือ 123456", from: .sender("SANDI"), to: .international("+6281234567890"))
            #expect(thai.count == 1)
            let long = try await client.submit(
                text: String(repeating: "a", count: 161), from: .sender("SANDI"), to: .international("+6281234567890"))
            #expect(long.count == 2)
            let submits = try await fake.waitForReceived(3) { $0.isSubmit }.compactMap(\.submitted)
            #expect(submits[0].dataCoding == 0x08)
            #expect(submits[0].shortMessage == UCS2.encode("รหัสของคุณคือ 123456"))
            #expect(submits[0].source == SMPPAddress(ton: 5, npi: 0, address: "SANDI"))
            #expect(submits[1].esmClass == 0x40 && submits[2].esmClass == 0x40)
            #expect(submits[1].shortMessage.prefix(3) == [0x05, 0x00, 0x03])
        }
    }

    @Test func oversizedMessageIsRefusedBeforeSending() async throws {
        try await withFakeSMSC { fake, client in
            var bad = otp
            bad.shortMessage = Array(repeating: 0x41, count: 255)
            await #expect(throws: SMPPClientError.invalidMessage(.shortMessageTooLong(255))) { try await client.submit(bad) }
            #expect(fake.received.filter(\.isSubmit).isEmpty)
        }
    }
}
