import Foundation
import Synchronization
import SandiWorkers
import Testing

@Suite("Doorbell")
struct DoorbellTests {
    /// Runs `body`, failing (instead of hanging the suite) when it takes longer than `seconds`. The
    /// body runs unstructured: a body stuck in a wait that ignores cancellation is left behind.
    func within(_ seconds: Int, _ what: String, _ body: @escaping @Sendable () async -> Void) async {
        final class Race: Sendable {
            let waiter = Mutex<CheckedContinuation<Bool, Never>?>(nil)
            func finish(_ value: Bool) { waiter.withLock { $0.take() }?.resume(returning: value) }
        }
        let race = Race()
        let finished = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            race.waiter.withLock { $0 = continuation }
            Task {
                await body()
                race.finish(true)
            }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                race.finish(false)
            }
        }
        #expect(finished, "\(what) did not return within \(seconds) s")
    }

    @Test("a wait ends at its timeout every time, even when the timeout races the wait starting (the worker, and so shutdown, hung on it)")
    func timeoutsAlwaysEnd() async {
        let bell = Doorbell()
        // Timeouts so short that the timer often fires while the waiting side is still starting.
        await within(60, "20,000 short waits") {
            for _ in 0..<20_000 { await bell.wait(upTo: .nanoseconds(1)) }
        }
    }

    @Test("a ring wakes a waiter at once; a ring with nobody waiting is kept for the next wait, once; cancellation ends a wait")
    func rings() async {
        let bell = Doorbell()
        await within(10, "a remembered ring") {
            bell.workQueued()
            await bell.wait(upTo: .seconds(3600))
        }
        await within(10, "a ring while waiting") {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await bell.wait(upTo: .seconds(3600)) }
                group.addTask { for _ in 0..<200 { try? await Task.sleep(for: .milliseconds(5)); bell.workQueued() } }
                await group.next()
                group.cancelAll()
            }
        }
        await within(10, "a cancelled wait") {
            let task = Task { await bell.wait(upTo: .seconds(3600)) }
            try? await Task.sleep(for: .milliseconds(20))
            task.cancel()
            await task.value
        }
    }
}
