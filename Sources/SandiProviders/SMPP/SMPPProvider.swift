public import Foundation
public import Logging
public import SandiCore
public import SandiSMPP
public import ServiceLifecycle
import Synchronization

/// SMS over an SMPP 3.4 bind (`bind_transceiver`): codes go out as `submit_sm` from the branded
/// sender (alphanumeric TON 5 for "masking" senders), delivery receipts come back as `deliver_sm`
/// on the same session. A ``ChannelProvider`` for the worker's sends, a ``ReceiptSource`` for the
/// receipts it collected, and a `Service` that keeps the bind up for as long as Sandi runs.
///
/// Receipts name the SMSC's message id only; each is matched to its delivery through the store
/// (any node's sends, since an SMSC may hand a receipt to any bind of the account). A duplicate
/// receipt changes nothing (a delivery's status only moves forward).
public final class SMPPProvider: ChannelProvider, ReceiptSource, Service {
    /// Settings of one SMSC account.
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var systemID: String
        public var password: String
        public var systemType: String
        /// The sender shown on phones: a brand name (alphanumeric) or a number.
        public var source: String
        /// The provider's name in deliveries and routing (several SMSC accounts need several names).
        public var name: String

        public init(host: String, port: Int = 2775, systemID: String, password: String, systemType: String = "", source: String, name: String = "smpp") {
            self.host = host
            self.port = port
            self.systemID = systemID
            self.password = password
            self.systemType = systemType
            self.source = source
            self.name = name
        }
    }

    public let name: String
    public let channels: Set<SandiCore.Channel> = [.sms]
    let client: SMPPClient
    let options: Options
    let lookup: any DeliveryQueue
    let clock: any TimeSource
    let signal: any WorkSignal
    let logger: Logger
    private let collected = Mutex<[ProviderReceipt]>([])

    /// A provider for one SMSC account; `lookup` finds deliveries by message id, `signal` wakes
    /// the workers when receipts arrived.
    public init(options: Options, lookup: any DeliveryQueue, clock: any TimeSource, signal: any WorkSignal, logger: Logger) {
        self.name = options.name
        self.options = options
        self.lookup = lookup
        self.clock = clock
        self.signal = signal
        self.logger = logger
        self.client = SMPPClient(
            configuration: SMPPClientConfiguration(
                host: options.host, port: options.port,
                bind: SMPPBind(systemID: options.systemID, password: options.password, systemType: options.systemType),
                submitTimeout: .seconds(4)),
            logger: logger)
    }

    public func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        let submit = SMPPSubmitOptions(validityPeriod: SMPPShortMessage.relativeValidity(seconds: max(60, message.ttlSeconds)))
        do {
            let ids = try await client.submit(text: message.text, from: .sender(options.source), to: .international(message.to), options: submit)
            guard let first = ids.first else { throw ProviderError.failed("smpp: no message id") }
            return ProviderAcceptance(providerMessageID: first)
        } catch let error as SMPPClientError {
            throw Self.outcome(of: error)
        } catch let error as ProviderError {
            throw error
        } catch {
            throw .failed("smpp: \(type(of: error))")
        }
    }

    /// How a failed submit moves the plan: a refusal or a send that may have gone moves on (a
    /// retry could put a second copy on the phone); a send that surely did not go waits and
    /// tries again.
    public static func outcome(of error: SMPPClientError) -> ProviderError {
        switch error {
        case .unavailable: .transient("smpp: not bound or window full")
        case .submitRejected(let status) where status.isThrottling: .transient("smpp: \(status)")
        case .submitRejected(let status): .failed("smpp: \(status)")
        case .responseTimedOut, .connectionLost, .malformedResponse: .failed("smpp: \(error)")
        default: .failed("smpp: \(error)")
        }
    }

    public func dueReceipts(now: Date) -> [ProviderReceipt] {
        collected.withLock { receipts in
            defer { receipts.removeAll() }
            return receipts
        }
    }

    public func nextReceiptAt() -> Date? {
        collected.withLock { $0.isEmpty ? nil : clock.now }
    }

    /// Keeps the bind up and collects receipts until graceful shutdown, then unbinds.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [client, logger] in
                do {
                    try await client.run()
                } catch {
                    logger.error("smpp bind ended", metadata: ["provider": "\(self.name)", "error": "\(error)"])
                }
            }
            group.addTask { await self.collectReceipts() }
            group.addTask { [client] in
                try? await gracefulShutdown()
                await client.shutdown()
            }
            await group.waitForAll()
        }
    }

    /// Matches each receipt to its delivery and keeps it for the worker.
    func collectReceipts() async {
        for await receipt in client.receipts {
            guard let status = Self.status(of: receipt.state) else { continue }
            do {
                guard let delivery = try await find(receipt.messageID) else {
                    logger.notice("smpp receipt for an unknown message", metadata: ["provider": "\(name)"])
                    continue
                }
                let error = status.isFailure ? "smpp: \(receipt.state) err \(receipt.errorCode ?? "-")" : nil
                collected.withLock { $0.append(ProviderReceipt(deliveryID: delivery.id, status: status, at: clock.now, error: error)) }
                signal.workQueued()
            } catch {
                logger.error("smpp receipt lookup failed", metadata: ["error": "\(type(of: error))"])
            }
        }
    }

    /// The delivery a receipt names; SMSCs differ in writing the id in hex or decimal.
    func find(_ messageID: String) async throws -> Delivery? {
        var candidates = [messageID]
        if let decimal = UInt64(messageID, radix: 10) {
            candidates += [String(decimal, radix: 16), String(decimal, radix: 16, uppercase: true)]
        }
        if let hex = UInt64(messageID, radix: 16) { candidates.append(String(hex)) }
        for candidate in candidates {
            if let delivery = try await lookup.delivery(provider: name, providerMessageID: candidate) { return delivery }
        }
        return nil
    }

    /// A final SMPP state as a delivery status (nil: not final, nothing to record).
    public static func status(of state: SMPPDeliveryState) -> DeliveryStatus? {
        switch state {
        case .delivered: .delivered
        case .undeliverable, .rejected, .expired, .deleted: .failed
        case .enroute, .accepted, .unknown: nil
        }
    }
}
