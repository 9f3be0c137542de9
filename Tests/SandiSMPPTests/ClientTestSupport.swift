import Logging
import SandiSMPP

/// A logger that drops everything, to keep test output readable.
let quietLogger = Logger(label: "test.smpp") { _ in SwiftLogNoOpLogHandler() }

/// Client settings scaled down so the loopback tests finish in milliseconds.
func testConfiguration(port: Int, password: String = "password") -> SMPPClientConfiguration {
    SMPPClientConfiguration(
        host: "127.0.0.1",
        port: port,
        bind: SMPPBind(systemID: "smppclient1", password: password),
        session: SMPPSession.Configuration(
            windowSize: 10,
            enquireLinkInterval: .seconds(30),
            responseTimeout: .seconds(2),
            throttleBackoff: SMPPBackoff(initial: .milliseconds(20), maximum: .milliseconds(200)),
            reconnectBackoff: SMPPBackoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        ),
        connectTimeout: .seconds(2),
        // Generous: the full suite runs every suite side by side on two cores, and a bind can wait.
        submitTimeout: .seconds(15),
        tickInterval: .milliseconds(10)
    )
}

/// Starts a fake SMSC and a running client against it, runs `body`, then shuts both down and
/// checks that `run()` returned without error.
func withFakeSMSC(
    script: FakeSMSC.Script = FakeSMSC.Script(),
    configure: @Sendable (inout SMPPClientConfiguration) -> Void = { _ in },
    _ body: @Sendable (FakeSMSC, SMPPClient) async throws -> Void
) async throws {
    let fake = try await FakeSMSC.start(script: script)
    var configuration = testConfiguration(port: fake.port)
    configure(&configuration)
    let client = SMPPClient(configuration: configuration, logger: quietLogger)
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            try await body(fake, client)
            try await withTimeout(.seconds(5)) { _ = await client.shutdown() }
            try await group.waitForAll()  // run() has returned once shutdown() did
        }
    } catch {
        await client.shutdown()
        await fake.stop()
        throw error
    }
    await fake.stop()
}

/// The first `count` receipts from the client's stream.
func receipts(_ count: Int, from client: SMPPClient) async throws -> [SMPPDeliveryReceipt] {
    try await withTimeout(.seconds(5)) {
        var collected: [SMPPDeliveryReceipt] = []
        for await receipt in client.receipts {
            collected.append(receipt)
            if collected.count == count { break }
        }
        return collected
    }
}

let otp = SMPPShortMessage(
    source: .alphanumeric("SANDI"),
    destination: .international("6281234567890"),
    registeredDelivery: 1,
    shortMessage: GSM7.encode("Kode Anda 123456") ?? []
)

extension SMPPPDU {
    var isBind: Bool {
        if case .bindTransceiver = body { true } else { false }
    }

    var isSubmit: Bool {
        if case .submitSM = body { true } else { false }
    }

    var submitted: SMPPShortMessage? {
        if case .submitSM(let message) = body { message } else { nil }
    }
}
