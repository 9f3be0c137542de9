public import Logging
public import SandiCore
public import ServiceLifecycle
import Foundation

/// Options of the delivery worker.
public struct DeliveryWorkerOptions: Sendable {
    /// Longest wait between looks at the queue when nothing rings.
    public var pollInterval: Duration = .milliseconds(500)
    /// How long a claimed job stays leased to this worker. A claimed job starts its send within
    /// the first half of the lease or goes back to the queue, so the other half must cover the
    /// slowest provider call.
    public var leaseSeconds: Double = 30
    /// Jobs claimed per look.
    public var batchSize: Int = 64
    /// Sends in flight at once.
    public var concurrency: Int = 32

    /// Events older than this are purged from the audit trail (with a checkpoint), once a
    /// minute; nil keeps them forever.
    public var auditRetentionSeconds: Double?

    public init(pollInterval: Duration = .milliseconds(500), leaseSeconds: Double = 30, batchSize: Int = 64, concurrency: Int = 32, auditRetentionSeconds: Double? = nil) {
        self.auditRetentionSeconds = auditRetentionSeconds
        self.pollInterval = pollInterval
        self.leaseSeconds = leaseSeconds
        self.batchSize = batchSize
        self.concurrency = concurrency
    }
}

/// The background service that hands queued deliveries to their providers, and marks codes past
/// their expiry as expired. On graceful shutdown it finishes the sends in flight and leaves the
/// rest queued for the next start.
public struct DeliveryWorker: Service {
    public let processor: DeliveryProcessor
    public let doorbell: Doorbell
    public let options: DeliveryWorkerOptions
    public let owner: String
    public let logger: Logger
    /// Providers whose delivery receipts are collected by polling (the simulator).
    public let receiptSources: [any ReceiptSource]
    /// Tenant webhooks, fanned out and delivered each sweep.
    public let webhooks: WebhookService?

    public init(processor: DeliveryProcessor, doorbell: Doorbell, options: DeliveryWorkerOptions = DeliveryWorkerOptions(), owner: String = "worker-" + Identifier.randomBase32(bytes: 5), receiptSources: [any ReceiptSource] = [], webhooks: WebhookService? = nil, logger: Logger) {
        self.webhooks = webhooks
        self.processor = processor
        self.doorbell = doorbell
        self.options = options
        self.owner = owner
        self.receiptSources = receiptSources
        self.logger = logger
    }

    /// Applies the receipts that fell due; returns how many.
    @discardableResult
    public func applyDueReceipts() async throws -> Int {
        let now = processor.clock.now
        var count = 0
        for source in receiptSources {
            for receipt in source.dueReceipts(now: now) {
                try await processor.receipt(deliveryID: receipt.deliveryID, status: receipt.status, at: receipt.at, error: receipt.error)
                count += 1
            }
        }
        return count
    }

    public func run() async throws {
        logger.info("delivery worker started", metadata: ["owner": .string(owner)])
        var lastSweep = ContinuousClock.now
        var lastPurge = ContinuousClock.now
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let handled = try await runOnce()
                if ContinuousClock.now - lastSweep > .seconds(1) {
                    _ = try await processor.store.expireDue(now: processor.clock.now, limit: 1000)
                    // Expired risk state (old limit windows, lifted blocks) goes in small steps.
                    _ = try await processor.store.purgeRiskState(now: processor.clock.now, limit: 500)
                    processor.metrics.queueDepth(try await processor.store.pendingJobCount())
                    // Seal new events into the audit chain.
                    while try await processor.store.sealAudit(limit: 1000) == 1000 {}
                    try await webhooks?.runOnce(owner: owner)
                    if let retention = options.auditRetentionSeconds, ContinuousClock.now - lastPurge > .seconds(60) {
                        let removed = try await AuditTool(store: processor.store).purge(before: processor.clock.now.addingTimeInterval(-retention))
                        if removed > 0 { logger.info("audit retention purged events", metadata: ["count": "\(removed)"]) }
                        lastPurge = ContinuousClock.now
                    }
                    lastSweep = ContinuousClock.now
                }
                if handled == 0 {
                    try? await cancelWhenGracefulShutdown {
                        await doorbell.wait(upTo: try await waitTime())
                    }
                }
            } catch {
                logger.error("delivery worker pass failed", metadata: ["error": "\(type(of: error))"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
        logger.info("delivery worker stopped", metadata: ["owner": .string(owner)])
    }

    /// Claims the due jobs once and processes them; returns how many were claimed.
    @discardableResult
    public func runOnce() async throws -> Int {
        let receipts = try await applyDueReceipts()
        let notices = try await processor.store.claimDueNotices(
            now: processor.clock.now, owner: owner, leaseSeconds: options.leaseSeconds, limit: options.batchSize)
        // Notices go out side by side, as deliveries do (one at a time, each waited for two
        // commits, its message and its outcome, and a burst of approvals left them seconds behind).
        // One that waited past half its lease is left to it: claimed again once it ran out.
        let noticesStarted = try await sendSideBySide(notices, stale: { _ in }) { notice in
            do {
                try await processor.sendNotice(notice, owner: owner)
            } catch {
                logger.error("notice failed to record", metadata: ["notice_id": .string(notice.id), "error": "\(type(of: error))"])
            }
        }
        let claimed = try await processor.store.claimDue(
            now: processor.clock.now, owner: owner, leaseSeconds: options.leaseSeconds, limit: options.batchSize)
        // A job that waited past half its lease goes back to the queue unsent, for any node to take.
        let started = try await sendSideBySide(claimed, stale: { job in
            try await processor.store.release(jobID: job.job.id, owner: owner, dueAt: job.job.dueAt)
        }) { job in
            do {
                try await processor.process(job, owner: owner)
            } catch {
                logger.error("delivery failed to record", metadata: ["delivery_id": .string(job.delivery.id), "error": "\(type(of: error))"])
            }
        }
        return started + noticesStarted + receipts
    }

    /// Sends claimed items, at most `options.concurrency` at once; returns how many it started.
    /// An item that waited for a free slot past half its lease goes to `stale` unsent: sending it
    /// now could outlast the lease, and another node could send it too.
    private func sendSideBySide<Item: Sendable>(_ items: [Item], stale: (Item) async throws -> Void,
                                                send: @escaping @Sendable (Item) async -> Void) async throws -> Int {
        guard !items.isEmpty else { return 0 }
        let claimedAt = processor.clock.now
        var started = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for item in items {
                if inFlight >= options.concurrency {
                    try await group.next()
                    inFlight -= 1
                }
                if processor.clock.now.timeIntervalSince(claimedAt) > options.leaseSeconds / 2 {
                    try await stale(item)
                    continue
                }
                started += 1
                group.addTask { await send(item) }
                inFlight += 1
            }
            try await group.waitForAll()
        }
        return started
    }

    private func waitTime() async throws -> Duration {
        let receipt = receiptSources.compactMap { $0.nextReceiptAt() }.min()
        guard let next = [try await processor.store.nextDueAt(), receipt].compactMap({ $0 }).min() else { return options.pollInterval }
        let seconds = next.timeIntervalSince(processor.clock.now)
        if seconds <= 0 { return .milliseconds(10) }
        return min(options.pollInterval, .milliseconds(Int(seconds * 1000) + 1))
    }
}

extension DeliveryWorker: CustomStringConvertible {
    /// How the service group names it in its lines: short (the default would print every
    /// dependency, message catalogue included, on each start and stop).
    public var description: String { "DeliveryWorker(owner: \(owner))" }
}
