import SandiSMPP
import Synchronization

extension FakeSMSC {
    /// Waits until `count` received PDUs match `predicate` and returns them; the timeout is
    /// only a guard against a hanging test.
    func waitForReceived(
        _ count: Int = 1,
        timeout: Duration = .seconds(5),
        where predicate: @escaping @Sendable (SMPPPDU) -> Bool
    ) async throws -> [SMPPPDU] {
        try await withTimeout(timeout) {
            await self.waitUntilReceived(count, where: predicate)
        }
    }

    func waitUntilReceived(_ count: Int, where predicate: @escaping @Sendable (SMPPPDU) -> Bool) async -> [SMPPPDU] {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: [SMPPPDU]? = state.withLock { state in
                    let matches = state.received.filter(predicate)
                    if matches.count >= count || state.cancelledWaiters.remove(id) != nil {
                        return matches
                    }
                    state.waiters[id] = Waiter(count: count, predicate: predicate, continuation: continuation)
                    return nil
                }
                if let ready {
                    continuation.resume(returning: ready)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                let waiter = state.waiters.removeValue(forKey: id)
                if waiter == nil {
                    state.cancelledWaiters.insert(id)
                }
                return waiter
            }
            waiter?.continuation.resume(returning: [])
        }
    }
}
