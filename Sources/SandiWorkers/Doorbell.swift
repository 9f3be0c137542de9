public import SandiCore
import Synchronization

/// Wakes a waiting worker when work was queued; a ring with nobody waiting is remembered once.
public final class Doorbell: WorkSignal {
    private let state = Mutex<(rung: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    public init() {}

    public func workQueued() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter { s.waiter = nil; return w }
            s.rung = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when the bell rings, at most after `timeout`, or when the task is cancelled.
    public func wait(upTo timeout: Duration) async {
        if state.withLock({ s in defer { s.rung = false }; return s.rung }) { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        // Cancelled already (the timeout won before this side got here): the
                        // cancellation handler found no waiter to resume, so this one must not
                        // wait. Checked under the lock the handler takes, so no cancellation
                        // falls between the check and the waiter being stored.
                        let resumeNow = self.state.withLock { s -> Bool in
                            if Task.isCancelled { return true }
                            if s.rung { s.rung = false; return true }
                            s.waiter?.resume()
                            s.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                        defer { s.waiter = nil }
                        return s.waiter
                    }
                    waiter?.resume()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
