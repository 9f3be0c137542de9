/// Everything an ``SMPPClient`` needs to reach and use one SMSC bind.
public struct SMPPClientConfiguration: Sendable {
    /// SMSC host name or address.
    public var host: String
    /// SMSC TCP port (2775 by convention).
    public var port: Int
    /// Credentials and address range sent in `bind_transceiver`.
    public var bind: SMPPBind
    /// Window, keep-alive, timeouts and back-offs of the session.
    public var session: SMPPSession.Configuration
    /// Limit on establishing the TCP connection.
    public var connectTimeout: Duration
    /// Limit on one ``SMPPClient/submit(_:)`` as a whole: waiting to be bound, for room in the
    /// window, throttling pauses and retries, and the response.
    public var submitTimeout: Duration
    /// How often timers are checked (response timeouts, keep-alive, waiting submits).
    public var tickInterval: Duration
    /// Largest PDU accepted from the SMSC.
    public var maximumPDULength: Int

    /// Creates a configuration with the usual defaults.
    public init(
        host: String,
        port: Int = 2775,
        bind: SMPPBind,
        session: SMPPSession.Configuration = SMPPSession.Configuration(),
        connectTimeout: Duration = .seconds(10),
        submitTimeout: Duration = .seconds(30),
        tickInterval: Duration = .milliseconds(100),
        maximumPDULength: Int = SMPPFrameDecoder.defaultMaximumLength
    ) {
        self.host = host
        self.port = port
        self.bind = bind
        self.session = session
        self.connectTimeout = connectTimeout
        self.submitTimeout = submitTimeout
        self.tickInterval = tickInterval
        self.maximumPDULength = maximumPDULength
    }
}

/// Why an ``SMPPClient`` call failed.
public enum SMPPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The SMSC refused `bind_transceiver` (wrong credentials, too many binds, …). Final:
    /// the client stops and does not reconnect.
    case bindRejected(SMPPCommandStatus)
    /// The SMSC refused the message with this status; see ``SMPPCommandStatus/isRetryable``.
    case submitRejected(SMPPCommandStatus)
    /// The message could not be sent within the submit timeout (not bound, window full); it was
    /// not sent.
    case unavailable
    /// The message was sent but no response came in time: it may or may not have gone.
    case responseTimedOut
    /// The connection closed before the response: the message may or may not have gone.
    case connectionLost
    /// The response could not be decoded: the message may or may not have gone.
    case malformedResponse(SMPPDecodingError)
    /// The message breaks SMPP size limits.
    case invalidMessage(SMPPEncodingError)
    /// The text cannot be split into SMS parts.
    case invalidText(SMSSegmentationError)
    /// The client was shut down (or its task cancelled).
    case shutDown

    /// A sentence fit for logs.
    public var description: String {
        switch self {
        case .bindRejected(let status): "SMSC refused bind_transceiver: \(status)"
        case .submitRejected(let status): "SMSC refused submit_sm: \(status)"
        case .unavailable: "SMPP session not ready within the submit timeout; message not sent"
        case .responseTimedOut: "no submit_sm_resp within the response timeout; outcome unknown"
        case .connectionLost: "connection lost before submit_sm_resp; outcome unknown"
        case .malformedResponse(let error): "malformed submit_sm_resp (\(error)); outcome unknown"
        case .invalidMessage(let error): "message breaks SMPP limits: \(error)"
        case .invalidText(let error): "text cannot be segmented: \(error)"
        case .shutDown: "SMPP client shut down"
        }
    }
}
