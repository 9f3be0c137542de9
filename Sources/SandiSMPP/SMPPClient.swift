public import Logging
public import NIOCore
import NIOPosix

/// An SMPP 3.4 transceiver client for one SMSC bind.
///
/// Call ``run()`` from a long-lived task (e.g. a service group): it connects, binds, keeps the
/// link alive with `enquire_link`, answers every `deliver_sm`, and reconnects with back-off
/// when the connection is lost. ``submit(_:)`` may be called from any task at any time; it
/// waits for the bind, the window and throttling pauses, and retries throttled submits.
/// ``shutdown()`` unbinds and makes ``run()`` return. A client runs once.
///
/// Delivery receipts arrive on ``receipts`` as the SMSC sends them, duplicates included:
/// consumers must de-duplicate (e.g. by message id and state). The stream is unbounded and
/// ends when ``run()`` returns, so keep consuming it.
public actor SMPPClient {
    /// Delivery receipts, in arrival order, duplicates included.
    public nonisolated let receipts: AsyncStream<SMPPDeliveryReceipt>

    let configuration: SMPPClientConfiguration
    let group: any EventLoopGroup
    let logger: Logger
    let receiptsContinuation: AsyncStream<SMPPDeliveryReceipt>.Continuation
    var session: SMPPSession
    var channel: (any Channel)?
    var responseWaiters: [UInt32: CheckedContinuation<SMPPSession.SubmitOutcome, Never>] = [:]
    var slotWaiters: [CheckedContinuation<Void, Never>] = []
    var runFinishedWaiters: [CheckedContinuation<Void, Never>] = []
    var running = false
    var finished = false
    var shutdownRequested = false
    var unbindAcknowledged = false
    var terminalError: SMPPClientError?
    var nextReference: UInt16 = 1

    /// Creates a client; nothing happens until ``run()``. Without an event loop group it uses
    /// NIO's shared singleton group.
    public init(
        configuration: SMPPClientConfiguration,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "sandi.smpp")
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.logger = logger
        self.session = SMPPSession(configuration: configuration.session)
        (receipts, receiptsContinuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Connects, binds and serves the session until ``shutdown()`` or cancellation,
    /// reconnecting after lost connections. Throws ``SMPPClientError/bindRejected(_:)`` when
    /// the SMSC refuses the credentials; returns normally after a shutdown.
    public func run() async throws(SMPPClientError) {
        guard !running, !finished else { return }
        running = true
        defer { finish() }
        while !shutdownRequested, !Task.isCancelled {
            await serveOneConnection()
            let closure = session.connectionClosed(now: .now)
            for sequence in closure.failedSubmits {
                responseWaiters.removeValue(forKey: sequence)?.resume(returning: .connectionLost)
            }
            wakeSlotWaiters()
            if let terminalError {
                throw terminalError
            }
            guard let delay = closure.reconnectDelay else { return }
            logger.info("SMPP connection closed; reconnecting", metadata: ["delay": "\(delay)"])
            await pause(for: delay)
        }
    }

    /// Submits one `submit_sm` and returns the SMSC's message id. Retries by itself after
    /// ESME_RTHROTTLED / ESME_RMSGQFUL once the throttling pause ends, within the submit timeout.
    public func submit(_ message: SMPPShortMessage) async throws(SMPPClientError) -> String {
        do {
            try SMPPPDU(sequenceNumber: 1, body: .submitSM(message)).validate()
        } catch {
            throw .invalidMessage(error)
        }
        let deadline = ContinuousClock.now + configuration.submitTimeout
        var lastRejection: SMPPCommandStatus?
        while true {
            if let terminalError { throw terminalError }
            if shutdownRequested || finished || Task.isCancelled { throw .shutDown }
            let now = ContinuousClock.now
            guard now < deadline else { throw lastRejection.map(SMPPClientError.submitRejected) ?? .unavailable }
            switch session.admission(now: now) {
            case .ready:
                guard let channel, let pdu = try? session.submit(message, now: now) else {
                    await waitForSlot()
                    continue
                }
                channel.writeAndFlush(pdu, promise: nil)
                let outcome = await withCheckedContinuation { responseWaiters[pdu.sequenceNumber] = $0 }
                switch outcome {
                case .accepted(let messageID):
                    return messageID
                case .rejected(let status) where status.isThrottling:
                    logger.debug("SMPP submit throttled; will retry", metadata: ["status": "\(status)"])
                    lastRejection = status
                case .rejected(let status):
                    throw .submitRejected(status)
                case .timedOut:
                    throw .responseTimedOut
                case .connectionLost:
                    throw .connectionLost
                case .malformedResponse(let error):
                    throw .malformedResponse(error)
                }
            case .throttled(let until):
                try? await Task.sleep(until: min(until, deadline), clock: .continuous)
            case .notBound, .windowFull:
                await waitForSlot()
            }
        }
    }

    /// Encodes `text` (GSM-7 or UCS-2), splits it into parts and submits each in order;
    /// returns the message ids, one per part.
    public func submit(
        text: String,
        from source: SMPPAddress,
        to destination: SMPPAddress,
        options: SMPPSubmitOptions = SMPPSubmitOptions()
    ) async throws(SMPPClientError) -> [String] {
        let reference = nextReference
        nextReference = nextReference == UInt16.max ? 1 : nextReference + 1
        let messages: [SMPPShortMessage]
        do {
            messages = try SMPPShortMessage.submits(
                text: text, from: source, to: destination, options: options, reference: reference)
        } catch {
            throw .invalidText(error)
        }
        var ids: [String] = []
        for message in messages {
            ids.append(try await submit(message))
        }
        return ids
    }

    /// Unbinds (waiting for `unbind_resp` up to the response timeout), closes the connection
    /// and waits for ``run()`` to return. Returns whether the SMSC acknowledged the unbind.
    @discardableResult
    public func shutdown() async -> Bool {
        if !shutdownRequested {
            shutdownRequested = true
            wakeSlotWaiters()
            if let pdu = session.unbind(now: .now) {
                channel?.writeAndFlush(pdu, promise: nil)
            } else {
                channel?.close(promise: nil)
            }
        }
        if running {
            await withCheckedContinuation { runFinishedWaiters.append($0) }
        }
        return unbindAcknowledged
    }

    /// The current session state.
    public var state: SMPPSession.State {
        session.state
    }
}
