import SandiSMPP
import Testing

@Suite("Session state machine: bind, window, throttling, requests")
struct SessionStateMachineTests: SessionFixture {
    let t0 = ContinuousClock.now

    @Test func bindsThroughBindingToBound() throws {
        var session = SMPPSession(configuration: config())
        #expect(session.state == .unbound)
        let bind = try session.bind(credentials, now: t0)
        #expect(bind == SMPPPDU(sequenceNumber: 1, body: .bindTransceiver(credentials)))
        #expect(session.state == .binding)
        #expect(session.admission(now: t0) == .notBound)
        let actions = session.receive(SMPPPDU(sequenceNumber: 1, body: .bindTransceiverResp(SMPPBindResponse(systemID: "SMSC"))), now: t0)
        #expect(actions == [.bound(systemID: "SMSC")])
        #expect(session.state == .bound)
        #expect(session.admission(now: t0) == .ready)
        #expect(throws: SMPPSessionError.invalidState(.bound)) { try session.bind(credentials, now: t0) }
    }

    @Test func refusedBindClosesForGood() throws {
        var session = SMPPSession(configuration: config())
        _ = try session.bind(credentials, now: t0)
        let actions = session.receive(SMPPPDU(sequenceNumber: 1, commandStatus: .bindFailed, body: .bindTransceiverResp(SMPPBindResponse(systemID: ""))), now: t0)
        #expect(actions == [.bindRejected(.bindFailed), .close])
        #expect(session.connectionClosed(now: t0).reconnectDelay == nil)
        #expect(session.state == .closed)
    }

    @Test func windowFullBlocksFurtherSubmits() throws {
        var session = try boundSession(window: 2)
        let first = try session.submit(message, now: t0)
        let second = try session.submit(message, now: t0)
        #expect([first.sequenceNumber, second.sequenceNumber] == [2, 3])
        #expect(session.outstandingSubmits == 2)
        #expect(session.admission(now: t0) == .windowFull)
        #expect(throws: SMPPSessionError.notAdmitted(.windowFull)) { try session.submit(message, now: t0) }
        let actions = session.receive(submitResp(first.sequenceNumber, id: "abc"), now: t0)
        #expect(actions == [.submitCompleted(sequenceNumber: 2, outcome: .accepted(messageID: "abc"))])
        #expect(session.admission(now: t0) == .ready)
    }

    @Test func throttlingPausesSubmitsWithDoublingBackoff() throws {
        var session = try boundSession()
        var now = t0
        var pauses: [Duration] = []
        for _ in 0..<5 {
            let pdu = try session.submit(message, now: now)
            let actions = session.receive(submitResp(pdu.sequenceNumber, .throttled), now: now)
            #expect(actions == [.submitCompleted(sequenceNumber: pdu.sequenceNumber, outcome: .rejected(.throttled))])
            guard case .throttled(let until) = session.admission(now: now) else {
                Issue.record("expected a throttling pause")
                return
            }
            pauses.append(until - now)
            #expect(session.admission(now: until - .milliseconds(1)) == .throttled(until: until))
            #expect(session.nextDeadline == until)
            now = until
            #expect(session.admission(now: now) == .ready)
        }
        #expect(pauses == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8)])
        // A success resets the back-off; queue-full throttles like RTHROTTLED.
        let ok = try session.submit(message, now: now)
        _ = session.receive(submitResp(ok.sequenceNumber), now: now)
        let full = try session.submit(message, now: now)
        _ = session.receive(submitResp(full.sequenceNumber, .messageQueueFull), now: now)
        #expect(session.admission(now: now) == .throttled(until: now + .seconds(1)))
    }

    @Test func otherRejectionsDoNotPause() throws {
        var session = try boundSession()
        let pdu = try session.submit(message, now: t0)
        let actions = session.receive(submitResp(pdu.sequenceNumber, .invalidDestinationAddress), now: t0)
        #expect(actions == [.submitCompleted(sequenceNumber: pdu.sequenceNumber, outcome: .rejected(.invalidDestinationAddress))])
        #expect(session.admission(now: t0) == .ready)
    }

    @Test func unbindHandshake() throws {
        var session = try boundSession()
        let unbind = session.unbind(now: t0)
        #expect(unbind == SMPPPDU(sequenceNumber: 2, body: .unbind))
        #expect(session.state == .unbinding)
        #expect(session.admission(now: t0) == .notBound)
        #expect(session.receive(SMPPPDU(sequenceNumber: 2, body: .unbindResp), now: t0) == [.close])
        #expect(session.state == .closed)
        #expect(session.connectionClosed(now: t0) == SMPPSession.Closure(failedSubmits: [], reconnectDelay: nil))
    }

    @Test func unbindWhenNotBoundJustCloses() {
        var session = SMPPSession(configuration: config())
        #expect(session.unbind(now: t0) == nil)
        #expect(session.state == .closed)
        #expect(throws: SMPPSessionError.invalidState(.closed)) { try session.bind(credentials, now: t0) }
    }

    @Test func peerUnbindIsAnsweredAndReconnects() throws {
        var session = try boundSession()
        let actions = session.receive(SMPPPDU(sequenceNumber: 9, body: .unbind), now: t0)
        #expect(actions == [.send(SMPPPDU(sequenceNumber: 9, body: .unbindResp)), .close])
        #expect(session.connectionClosed(now: t0).reconnectDelay == .seconds(1))
    }

    @Test func answersSMSCRequests() throws {
        var session = try boundSession()
        #expect(session.receive(SMPPPDU(sequenceNumber: 70, body: .enquireLink), now: t0) == [.send(SMPPPDU(sequenceNumber: 70, body: .enquireLinkResp))])
        let deliver = SMPPShortMessage(source: .international("62812"), destination: .alphanumeric("SANDI"), esmClass: 4)
        #expect(session.receive(SMPPPDU(sequenceNumber: 71, body: .deliverSM(deliver)), now: t0) == [
            .send(SMPPPDU(sequenceNumber: 71, body: .deliverSMResp(messageID: ""))), .deliver(deliver),
        ])
        #expect(session.receive(SMPPPDU(sequenceNumber: 72, body: .submitSM(deliver)), now: t0) == [
            .send(SMPPPDU(sequenceNumber: 72, commandStatus: .invalidCommandID, body: .genericNack))
        ])
    }

    @Test func malformedRequestsGetGenericNack() throws {
        var session = try boundSession()
        let header = SMPPHeader(commandLength: 16, commandID: SMPPCommandID(rawValue: 0x99), commandStatus: .ok, sequenceNumber: 5)
        let actions = session.receiveMalformed(header: header, error: .unknownCommandID(header.commandID), now: t0)
        #expect(actions == [.send(SMPPPDU(sequenceNumber: 5, commandStatus: .invalidCommandID, body: .genericNack))])
    }

    @Test func genericNackOrMalformedResponseSettlesSubmit() throws {
        var session = try boundSession()
        let a = try session.submit(message, now: t0)
        #expect(session.receive(SMPPPDU(sequenceNumber: a.sequenceNumber, commandStatus: .invalidCommandLength, body: .genericNack), now: t0) == [
            .submitCompleted(sequenceNumber: a.sequenceNumber, outcome: .rejected(.invalidCommandLength))
        ])
        let b = try session.submit(message, now: t0)
        let header = SMPPHeader(commandLength: 20, commandID: .submitSMResp, commandStatus: .ok, sequenceNumber: b.sequenceNumber)
        #expect(session.receiveMalformed(header: header, error: .missingNULTerminator(field: "message_id"), now: t0) == [
            .submitCompleted(sequenceNumber: b.sequenceNumber, outcome: .malformedResponse(.missingNULTerminator(field: "message_id")))
        ])
    }
}
