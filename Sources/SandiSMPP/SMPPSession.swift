/// The pure SMPP session state machine of a transceiver ESME: no I/O and no clock of its own.
///
/// Feed it what happened (a PDU arrived, the connection closed, time passed, the caller wants
/// to send) with the current instant; it answers with PDUs to send and events to act on. It
/// keeps the bind state, sequence numbers, requests awaiting responses and their deadlines,
/// the submit window, the throttling pause and the reconnect back-off.
public struct SMPPSession: Sendable {
    /// Timing and window settings.
    public struct Configuration: Sendable, Equatable {
        /// Most `submit_sm` awaiting a response at once.
        public var windowSize: Int
        /// Idle time without inbound PDUs after which an `enquire_link` is sent.
        public var enquireLinkInterval: Duration
        /// How long any request may wait for its response.
        public var responseTimeout: Duration
        /// Submit pause after ESME_RTHROTTLED / ESME_RMSGQFUL, doubling while they continue.
        public var throttleBackoff: SMPPBackoff
        /// Wait before reconnecting after a lost connection, growing with each failure.
        public var reconnectBackoff: SMPPBackoff

        /// Creates a configuration; the defaults suit a typical SMSC.
        public init(
            windowSize: Int = 10,
            enquireLinkInterval: Duration = .seconds(30),
            responseTimeout: Duration = .seconds(10),
            throttleBackoff: SMPPBackoff = SMPPBackoff(initial: .seconds(1), maximum: .seconds(30)),
            reconnectBackoff: SMPPBackoff = SMPPBackoff(initial: .seconds(1), maximum: .seconds(60))
        ) {
            self.windowSize = windowSize
            self.enquireLinkInterval = enquireLinkInterval
            self.responseTimeout = responseTimeout
            self.throttleBackoff = throttleBackoff
            self.reconnectBackoff = reconnectBackoff
        }
    }

    /// Where the session stands.
    public enum State: Sendable, Equatable {
        /// No bind on the current connection (or no connection).
        case unbound
        /// `bind_transceiver` sent, awaiting its response.
        case binding
        /// Bound: submits may flow.
        case bound
        /// `unbind` sent or received; the connection is about to close.
        case unbinding
        /// Finished: shut down, or the bind was refused. No reconnect.
        case closed
    }

    /// The kind of a request awaiting its response.
    public enum Request: Sendable, Equatable {
        /// `bind_transceiver`.
        case bind
        /// `submit_sm`.
        case submit
        /// `enquire_link`.
        case enquireLink
        /// `unbind`.
        case unbind
    }

    /// Whether a `submit_sm` may be sent now.
    public enum Admission: Sendable, Equatable {
        /// Yes.
        case ready
        /// No: not bound.
        case notBound
        /// No: `windowSize` submits already await responses.
        case windowFull
        /// No: paused after throttling until the given instant.
        case throttled(until: ContinuousClock.Instant)
    }

    /// How one `submit_sm` ended.
    public enum SubmitOutcome: Sendable, Equatable {
        /// The SMSC took it and named it.
        case accepted(messageID: String)
        /// The SMSC refused it with this status (throttling statuses included).
        case rejected(SMPPCommandStatus)
        /// No response within the response timeout; the message may or may not have gone.
        case timedOut
        /// The connection closed before the response; the message may or may not have gone.
        case connectionLost
        /// The response could not be decoded; the message may or may not have gone.
        case malformedResponse(SMPPDecodingError)
    }

    /// What the I/O layer must do.
    public enum Action: Sendable, Equatable {
        /// Write this PDU.
        case send(SMPPPDU)
        /// The bind succeeded.
        case bound(systemID: String)
        /// The SMSC refused the bind; the session is closed and will not reconnect.
        case bindRejected(SMPPCommandStatus)
        /// A submit finished.
        case submitCompleted(sequenceNumber: UInt32, outcome: SubmitOutcome)
        /// A `deliver_sm` arrived (already answered by a `.send`).
        case deliver(SMPPShortMessage)
        /// Close the connection.
        case close
    }

    /// What follows a closed connection.
    public struct Closure: Sendable, Equatable {
        /// Submits that were awaiting responses, now ended with ``SubmitOutcome/connectionLost``.
        public var failedSubmits: [UInt32]
        /// How long to wait before reconnecting; `nil` when the session is finished.
        public var reconnectDelay: Duration?

        /// Creates a closure result.
        public init(failedSubmits: [UInt32], reconnectDelay: Duration?) {
            self.failedSubmits = failedSubmits
            self.reconnectDelay = reconnectDelay
        }
    }

    struct Pending: Sendable, Equatable {
        var request: Request
        var deadline: ContinuousClock.Instant
    }

    /// The settings in force.
    public let configuration: Configuration
    /// The current state.
    public internal(set) var state: State = .unbound
    var nextSequence: UInt32 = 1
    var pending: [UInt32: Pending] = [:]
    var lastInbound: ContinuousClock.Instant?
    var throttledUntil: ContinuousClock.Instant?
    var consecutiveThrottles = 0
    var failedConnections = 0
    var closeRequested = false

    /// Creates a session in ``State/unbound``.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Number of `submit_sm` awaiting responses.
    public var outstandingSubmits: Int {
        pending.values.count(where: { $0.request == .submit })
    }

    /// The requests awaiting responses, by sequence number.
    public var pendingRequests: [UInt32: Request] {
        pending.mapValues(\.request)
    }

    /// Takes the next sequence number (1…0x7FFFFFFF, wrapping).
    mutating func allocateSequence() -> UInt32 {
        let sequence = nextSequence
        nextSequence = nextSequence >= 0x7FFF_FFFF ? 1 : nextSequence + 1
        return sequence
    }
}
