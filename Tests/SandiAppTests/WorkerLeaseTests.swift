import Foundation
import Logging
import SandiCore
import SandiTesting
import SandiWorkers
import Synchronization
import Testing

@Suite("Delivery worker leases")
struct WorkerLeaseTests {
    @Test("a claimed job that waited past half its lease goes back unsent, for any node to take at once")
    func staleClaimsGoBack() async throws {
        let (clock, store, provider, worker) = slowWorker()
        for i in 0..<3 { _ = try await store.create(try Fixtures.creation(to: "+62812555000\(i)", now: clock.now)) }

        #expect(try await worker.runOnce() == 1, "one send started; the two behind it waited 6 s of a 10 s lease")
        #expect(provider.sent.count == 1)
        let other = try await store.claimDue(now: clock.now, owner: "node-b", leaseSeconds: 10, limit: 8)
        #expect(other.count == 2, "released, not left leased: another node takes them at once")
        for job in other { try await store.release(jobID: job.job.id, owner: "node-b", dueAt: job.job.dueAt) }
        while try await worker.runOnce() > 0 {}
        #expect(provider.sent.count == 3 && Set(provider.sent.map(\.deliveryID)).count == 3, "each sent once")
    }

    /// A worker with one send at a time and a 10 s lease, and a slow provider: each send takes 6 s.
    private func slowWorker() -> (ManualClock, MemoryStore, RecordingProvider, DeliveryWorker) {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        let store = MemoryStore()
        let provider = RecordingProvider()
        provider.whenSending { clock.advance(by: 6) }
        let processor = DeliveryProcessor(
            store: store, hasher: CodeHasher(keyring: Fixtures.keyring), clock: clock, providers: ProviderRegistry([provider]))
        let worker = DeliveryWorker(
            processor: processor, doorbell: Doorbell(), options: DeliveryWorkerOptions(leaseSeconds: 10, batchSize: 8, concurrency: 1),
            owner: "node-a", logger: Logger(label: "test"))
        return (clock, store, provider, worker)
    }

    /// Security notices waiting in the store, due now.
    private func queueNotices(_ count: Int, _ store: MemoryStore, at now: Date) async throws -> [Notice] {
        var notices: [Notice] = []
        for i in 0..<count {
            let notice = Notice(tenantID: "ten_a", verificationID: "ver_\(i)", kind: .passwordReset, channel: .sms, to: "+62812555100\(i)",
                                country: "ID", operator: nil, locale: "en", purpose: .passwordReset, createdAt: now)
            try await store.enqueueNotice(notice, event: Event(tenantID: "ten_a", verificationID: notice.verificationID, type: "notice.queued", createdAt: now))
            notices.append(notice)
        }
        return notices
    }

    @Test("security notices go out side by side, not one after another", .timeLimit(.minutes(1)))
    func noticesInParallel() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        let store = MemoryStore()
        // Each send waits until another one is in flight beside it: sent one by one, the first
        // would wait forever (and the time limit fails the test).
        let provider = PairingProvider()
        let processor = DeliveryProcessor(
            store: store, hasher: CodeHasher(keyring: Fixtures.keyring), clock: clock, providers: ProviderRegistry([provider]))
        let worker = DeliveryWorker(processor: processor, doorbell: Doorbell(), owner: "node-a", logger: Logger(label: "test"))
        let notices = try await queueNotices(4, store, at: clock.now)

        #expect(try await worker.runOnce() == 4)
        #expect(provider.sent.sorted() == notices.map(\.id).sorted(), "each sent once")
        #expect(provider.mostInFlight >= 2)
        #expect(try await store.claimDueNotices(now: clock.now.addingTimeInterval(60), owner: "node-b", leaseSeconds: 30, limit: 10).isEmpty,
                "all closed")
    }

    @Test("a notice that waited for a slot past half its lease is left to its lease, then sent once")
    func staleNoticesWait() async throws {
        let (clock, store, provider, worker) = slowWorker()
        _ = try await queueNotices(3, store, at: clock.now)

        #expect(try await worker.runOnce() == 1, "one sent; the two behind it waited 6 s of a 10 s lease")
        #expect(provider.sent.count == 1)
        #expect(try await store.claimDueNotices(now: clock.now, owner: "node-b", leaseSeconds: 10, limit: 8).isEmpty, "still leased to node-a")
        provider.whenSending {}
        clock.advance(by: 10)
        #expect(try await worker.runOnce() == 2, "claimed again once the lease ran out")
        #expect(provider.sent.count == 3 && Set(provider.sent.map(\.deliveryID)).count == 3, "each sent once")
    }
}

/// A provider whose every send waits until another send is in flight beside it, then both
/// return: it proves sends overlap. Once its task is cancelled (the test's time limit ran out),
/// no send waits any more, so the test fails instead of hanging.
final class PairingProvider: ChannelProvider {
    let name = "pairing"
    let channels: Set<SandiCore.Channel> = Set(SandiCore.Channel.allCases)
    private struct State {
        var waiting: CheckedContinuation<Void, Never>?
        var inFlight = 0, most = 0
        var sent: [String] = []
        var cancelled = false
    }
    private let state = Mutex(State())

    var sent: [String] { state.withLock { $0.sent } }
    var mostInFlight: Int { state.withLock { $0.most } }

    func send(_ message: OutboundMessage) async throws(ProviderError) -> ProviderAcceptance {
        await withTaskCancellationHandler {
            await pair()
        } onCancel: {
            state.withLock { s in
                s.cancelled = true
                defer { s.waiting = nil }
                return s.waiting
            }?.resume()
        }
        state.withLock { s in
            s.inFlight -= 1
            s.sent.append(message.deliveryID)
        }
        return ProviderAcceptance(providerMessageID: "pair-" + message.deliveryID, receipt: .delivered)
    }

    private func pair() async {
        await withCheckedContinuation { (entered: CheckedContinuation<Void, Never>) in
            let partner = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.inFlight += 1
                s.most = max(s.most, s.inFlight)
                if s.cancelled { return entered }
                if let waiting = s.waiting {
                    s.waiting = nil
                    entered.resume()
                    return waiting
                }
                s.waiting = entered
                return nil
            }
            partner?.resume()
        }
    }
}
