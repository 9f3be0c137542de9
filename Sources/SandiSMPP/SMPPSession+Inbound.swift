extension SMPPSession {
    /// A PDU arrived: answers requests from the SMSC and settles our pending requests.
    public mutating func receive(_ pdu: SMPPPDU, now: ContinuousClock.Instant) -> [Action] {
        lastInbound = now
        guard pdu.commandID.isResponse else {
            return answer(pdu)
        }
        guard let request = pending.removeValue(forKey: pdu.sequenceNumber)?.request else {
            return []
        }
        switch request {
        case .bind:
            return settleBind(pdu)
        case .submit:
            return [.submitCompleted(sequenceNumber: pdu.sequenceNumber, outcome: settleSubmit(pdu, now: now))]
        case .enquireLink:
            return []
        case .unbind:
            state = .closed
            return [.close]
        }
    }

    /// A well-framed PDU could not be decoded: a request is answered with `generic_nack`;
    /// a response settles its pending request as failed.
    public mutating func receiveMalformed(
        header: SMPPHeader,
        error: SMPPDecodingError,
        now: ContinuousClock.Instant
    ) -> [Action] {
        lastInbound = now
        guard header.commandID.isResponse else {
            let nack = SMPPPDU(sequenceNumber: header.sequenceNumber, commandStatus: error.commandStatus, body: .genericNack)
            return [.send(nack)]
        }
        guard let request = pending.removeValue(forKey: header.sequenceNumber)?.request else {
            return []
        }
        switch request {
        case .submit:
            return [.submitCompleted(sequenceNumber: header.sequenceNumber, outcome: .malformedResponse(error))]
        case .bind, .unbind:
            return [.close]
        case .enquireLink:
            return []
        }
    }

    /// Answers a request sent by the SMSC.
    private mutating func answer(_ pdu: SMPPPDU) -> [Action] {
        let sequence = pdu.sequenceNumber
        switch pdu.body {
        case .enquireLink:
            return [.send(SMPPPDU(sequenceNumber: sequence, body: .enquireLinkResp))]
        case .deliverSM(let message) where state == .bound || state == .unbinding:
            return [.send(SMPPPDU(sequenceNumber: sequence, body: .deliverSMResp(messageID: ""))), .deliver(message)]
        case .deliverSM:
            return [.send(SMPPPDU(sequenceNumber: sequence, commandStatus: .invalidBindStatus, body: .genericNack))]
        case .unbind:
            if state != .closed {
                state = .unbinding
            }
            return [.send(SMPPPDU(sequenceNumber: sequence, body: .unbindResp)), .close]
        default:
            return [.send(SMPPPDU(sequenceNumber: sequence, commandStatus: .invalidCommandID, body: .genericNack))]
        }
    }

    private mutating func settleBind(_ pdu: SMPPPDU) -> [Action] {
        if pdu.commandStatus == .ok, case .bindTransceiverResp(let response) = pdu.body {
            state = .bound
            failedConnections = 0
            return [.bound(systemID: response.systemID)]
        }
        let status = pdu.commandStatus == .ok ? SMPPCommandStatus.bindFailed : pdu.commandStatus
        state = .closed
        return [.bindRejected(status), .close]
    }

    private mutating func settleSubmit(_ pdu: SMPPPDU, now: ContinuousClock.Instant) -> SubmitOutcome {
        let status = pdu.commandStatus
        if status == .ok, case .submitSMResp(let messageID) = pdu.body {
            consecutiveThrottles = 0
            return .accepted(messageID: messageID)
        }
        if status.isThrottling {
            let pause = configuration.throttleBackoff.delay(attempt: consecutiveThrottles)
            consecutiveThrottles += 1
            throttledUntil = max(throttledUntil ?? now, now + pause)
        }
        return .rejected(status == .ok ? .systemError : status)
    }
}
