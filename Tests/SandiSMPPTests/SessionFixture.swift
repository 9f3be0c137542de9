import SandiSMPP

/// Shared setup for the session state machine tests: a fixed start instant, a message,
/// credentials, and a way to get a bound session without I/O.
protocol SessionFixture {
    /// The instant every test starts from.
    var t0: ContinuousClock.Instant { get }
}

extension SessionFixture {
    var message: SMPPShortMessage {
        SMPPShortMessage(source: .alphanumeric("SANDI"), destination: .international("6281234567890"))
    }

    var credentials: SMPPBind {
        SMPPBind(systemID: "smppclient1", password: "password")
    }

    func config(window: Int = 10) -> SMPPSession.Configuration {
        SMPPSession.Configuration(
            windowSize: window,
            enquireLinkInterval: .seconds(30),
            responseTimeout: .seconds(10),
            throttleBackoff: SMPPBackoff(initial: .seconds(1), maximum: .seconds(8)),
            reconnectBackoff: SMPPBackoff(initial: .seconds(1), maximum: .seconds(60))
        )
    }

    func boundSession(window: Int = 10) throws -> SMPPSession {
        var session = SMPPSession(configuration: config(window: window))
        let bind = try session.bind(credentials, now: t0)
        _ = session.receive(SMPPPDU(sequenceNumber: bind.sequenceNumber, body: .bindTransceiverResp(SMPPBindResponse(systemID: "SMSC"))), now: t0)
        return session
    }

    func submitResp(_ sequence: UInt32, _ status: SMPPCommandStatus = .ok, id: String = "m1") -> SMPPPDU {
        SMPPPDU(sequenceNumber: sequence, commandStatus: status, body: .submitSMResp(messageID: status == .ok ? id : ""))
    }
}
