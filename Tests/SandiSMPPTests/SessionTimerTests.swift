import SandiSMPP
import Testing

@Suite("Session state machine: keep-alive, timeouts, back-off")
struct SessionTimerTests: SessionFixture {
    let t0 = ContinuousClock.now

    @Test func enquireLinkDueAfterIdleInterval() throws {
        var session = try boundSession()
        #expect(session.tick(now: t0 + .seconds(29)) == [])
        #expect(session.nextDeadline == t0 + .seconds(30))
        let actions = session.tick(now: t0 + .seconds(30))
        let enquire = SMPPPDU(sequenceNumber: 2, body: .enquireLink)
        #expect(actions == [.send(enquire)])
        #expect(session.tick(now: t0 + .seconds(31)) == [])  // one in flight at a time
        _ = session.receive(SMPPPDU(sequenceNumber: 2, body: .enquireLinkResp), now: t0 + .seconds(32))
        #expect(session.pendingRequests.isEmpty)
        #expect(session.tick(now: t0 + .seconds(61)) == [])
        #expect(session.tick(now: t0 + .seconds(62)) == [.send(SMPPPDU(sequenceNumber: 3, body: .enquireLink))])
    }

    @Test func inboundTrafficDefersEnquireLink() throws {
        var session = try boundSession()
        _ = session.receive(SMPPPDU(sequenceNumber: 50, body: .enquireLink), now: t0 + .seconds(20))
        #expect(session.tick(now: t0 + .seconds(30)) == [])
        #expect(session.tick(now: t0 + .seconds(50)).count == 1)
    }

    @Test func unansweredEnquireLinkClosesTheLink() throws {
        var session = try boundSession()
        _ = session.tick(now: t0 + .seconds(30))
        #expect(session.tick(now: t0 + .seconds(39)) == [])
        #expect(session.tick(now: t0 + .seconds(40)) == [.close])
    }

    @Test func unansweredBindClosesTheLink() throws {
        var session = SMPPSession(configuration: config())
        _ = try session.bind(credentials, now: t0)
        #expect(session.tick(now: t0 + .seconds(10)) == [.close])
        #expect(session.connectionClosed(now: t0 + .seconds(10)).reconnectDelay == .seconds(1))
        #expect(session.state == .unbound)
    }

    @Test func submitResponseTimeout() throws {
        var session = try boundSession()
        let pdu = try session.submit(message, now: t0 + .seconds(1))
        #expect(session.tick(now: t0 + .seconds(10)) == [])
        #expect(session.tick(now: t0 + .seconds(11)) == [.submitCompleted(sequenceNumber: pdu.sequenceNumber, outcome: .timedOut)])
        #expect(session.outstandingSubmits == 0)
        #expect(session.receive(submitResp(pdu.sequenceNumber), now: t0 + .seconds(12)) == [])  // late response ignored
    }

    @Test func reconnectBackoffSchedule() throws {
        var session = SMPPSession(configuration: config())
        var delays: [Duration?] = []
        for _ in 0..<8 {
            delays.append(session.connectionClosed(now: t0).reconnectDelay)
        }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
        // A successful bind starts the schedule again.
        _ = try session.bind(credentials, now: t0)
        _ = session.receive(SMPPPDU(sequenceNumber: 1, body: .bindTransceiverResp(SMPPBindResponse(systemID: "S"))), now: t0)
        #expect(session.connectionClosed(now: t0).reconnectDelay == .seconds(1))
    }

    @Test func lostConnectionFailsPendingSubmits() throws {
        var session = try boundSession()
        let a = try session.submit(message, now: t0)
        let b = try session.submit(message, now: t0)
        let closure = session.connectionClosed(now: t0)
        #expect(closure.failedSubmits == [a.sequenceNumber, b.sequenceNumber])
        #expect(session.state == .unbound)
        #expect(session.outstandingSubmits == 0)
        #expect(session.admission(now: t0) == .notBound)
    }

    @Test func backoffPolicy() {
        let policy = SMPPBackoff(initial: .milliseconds(250), maximum: .seconds(5))
        #expect((0..<7).map(policy.delay(attempt:)) == [250, 500, 1000, 2000, 4000, 5000, 5000].map { Duration.milliseconds($0) })
        #expect(policy.delay(attempt: 10_000) == .seconds(5))
        #expect(SMPPBackoff(initial: .seconds(1), maximum: .seconds(100), multiplier: 3).delay(attempt: 2) == .seconds(9))
    }
}
