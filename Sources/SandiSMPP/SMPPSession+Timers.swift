extension SMPPSession {
    /// Time passed: expires requests past their deadline and sends `enquire_link` when the
    /// link has been idle for ``Configuration/enquireLinkInterval``. A bind, `enquire_link` or
    /// `unbind` without response means the link is dead: the connection is to be closed.
    public mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        var linkDead = false
        for sequence in pending.keys.sorted() {
            guard let entry = pending[sequence], entry.deadline <= now else { continue }
            pending[sequence] = nil
            if entry.request == .submit {
                actions.append(.submitCompleted(sequenceNumber: sequence, outcome: .timedOut))
            } else {
                linkDead = true
            }
        }
        if let until = throttledUntil, until <= now {
            throttledUntil = nil
        }
        if linkDead {
            actions.append(.close)
        } else if let due = enquireLinkDue, due <= now {
            actions.append(.send(request(.enquireLink, body: .enquireLink, now: now)))
        }
        return actions
    }

    /// The earliest instant at which ``tick(now:)`` or ``admission(now:)`` may answer
    /// differently: a response deadline, the next `enquire_link`, or the end of a throttle pause.
    public var nextDeadline: ContinuousClock.Instant? {
        let candidates = pending.values.map(\.deadline) + [enquireLinkDue, throttledUntil].compactMap { $0 }
        return candidates.min()
    }

    /// When the next `enquire_link` is due: bound, none in flight, idle since the last inbound PDU.
    var enquireLinkDue: ContinuousClock.Instant? {
        guard state == .bound, let lastInbound, !pending.values.contains(where: { $0.request == .enquireLink }) else {
            return nil
        }
        return lastInbound + configuration.enquireLinkInterval
    }

    /// The connection closed (or a connect attempt failed). Pending submits end as
    /// ``SubmitOutcome/connectionLost``; unless the session was closed on purpose or the bind
    /// was refused, it returns to ``State/unbound`` with the delay before reconnecting, which
    /// grows with each connection lost without a successful bind in between.
    public mutating func connectionClosed(now: ContinuousClock.Instant) -> Closure {
        let failed = pending.filter { $0.value.request == .submit }.keys.sorted()
        pending = [:]
        lastInbound = nil
        if closeRequested || state == .closed {
            state = .closed
            return Closure(failedSubmits: failed, reconnectDelay: nil)
        }
        state = .unbound
        let delay = configuration.reconnectBackoff.delay(attempt: failedConnections)
        failedConnections += 1
        return Closure(failedSubmits: failed, reconnectDelay: delay)
    }
}
