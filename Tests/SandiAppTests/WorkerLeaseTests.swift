import Foundation
import Logging
import SandiCore
import SandiTesting
import SandiWorkers
import Testing

@Suite("Delivery worker leases")
struct WorkerLeaseTests {
    @Test("a claimed job that waited past half its lease goes back unsent, for any node to take at once")
    func staleClaimsGoBack() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        let store = MemoryStore()
        let provider = RecordingProvider()
        // A slow provider: each send takes 6 s of a 10 s lease.
        provider.whenSending { clock.advance(by: 6) }
        let processor = DeliveryProcessor(
            store: store, hasher: CodeHasher(keyring: Fixtures.keyring), clock: clock, providers: ProviderRegistry([provider]))
        let worker = DeliveryWorker(
            processor: processor, doorbell: Doorbell(), options: DeliveryWorkerOptions(leaseSeconds: 10, batchSize: 8, concurrency: 1),
            owner: "node-a", logger: Logger(label: "test"))
        for i in 0..<3 { _ = try await store.create(try Fixtures.creation(to: "+62812555000\(i)", now: clock.now)) }

        #expect(try await worker.runOnce() == 1, "one send started; the two behind it waited 6 s of a 10 s lease")
        #expect(provider.sent.count == 1)
        let other = try await store.claimDue(now: clock.now, owner: "node-b", leaseSeconds: 10, limit: 8)
        #expect(other.count == 2, "released, not left leased: another node takes them at once")
        for job in other { try await store.release(jobID: job.job.id, owner: "node-b", dueAt: job.job.dueAt) }
        while try await worker.runOnce() > 0 {}
        #expect(provider.sent.count == 3 && Set(provider.sent.map(\.deliveryID)).count == 3, "each sent once")
    }
}
