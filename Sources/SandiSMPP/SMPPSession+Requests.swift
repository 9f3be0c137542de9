/// Why the session refused a request.
public enum SMPPSessionError: Error, Equatable, Sendable {
    /// The request does not fit the current state (e.g. bind while bound).
    case invalidState(SMPPSession.State)
    /// A submit was asked for while ``SMPPSession/admission(now:)`` is not `ready`.
    case notAdmitted(SMPPSession.Admission)
}

extension SMPPSession {
    /// Starts binding on a fresh connection: returns the `bind_transceiver` to send.
    public mutating func bind(_ bind: SMPPBind, now: ContinuousClock.Instant) throws(SMPPSessionError) -> SMPPPDU {
        guard state == .unbound, !closeRequested else { throw .invalidState(state) }
        state = .binding
        return request(.bind, body: .bindTransceiver(bind), now: now)
    }

    /// Whether a submit may go now: bound, not paused by throttling, window not full.
    public func admission(now: ContinuousClock.Instant) -> Admission {
        guard state == .bound else { return .notBound }
        if let until = throttledUntil, until > now {
            return .throttled(until: until)
        }
        return outstandingSubmits >= configuration.windowSize ? .windowFull : .ready
    }

    /// Takes a submit into the window: returns the `submit_sm` to send.
    public mutating func submit(
        _ message: SMPPShortMessage,
        now: ContinuousClock.Instant
    ) throws(SMPPSessionError) -> SMPPPDU {
        let admission = admission(now: now)
        guard admission == .ready else { throw .notAdmitted(admission) }
        throttledUntil = nil
        return request(.submit, body: .submitSM(message), now: now)
    }

    /// Ends the session for good. Returns the `unbind` to send when bound; `nil` otherwise,
    /// in which case the connection (if any) should simply be closed.
    public mutating func unbind(now: ContinuousClock.Instant) -> SMPPPDU? {
        closeRequested = true
        switch state {
        case .bound:
            state = .unbinding
            return request(.unbind, body: .unbind, now: now)
        case .unbinding:
            return nil
        case .unbound, .binding, .closed:
            state = .closed
            return nil
        }
    }

    /// Records a request awaiting its response and builds its PDU.
    mutating func request(_ kind: Request, body: SMPPPDU.Body, now: ContinuousClock.Instant) -> SMPPPDU {
        let sequence = allocateSequence()
        pending[sequence] = Pending(request: kind, deadline: now + configuration.responseTimeout)
        return SMPPPDU(sequenceNumber: sequence, body: body)
    }
}
