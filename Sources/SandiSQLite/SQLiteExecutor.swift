import Foundation
import Logging
import NIOCore
import NIOPosix
import SandiCore
import SQLiteNIO
import Synchronization

/// Owns the one SQLite connection that writes, and runs units of work in batches, committing
/// each batch together (group commit): under load, many requests share one transaction and one
/// sync of the log, with the same durability as a commit each.
///
/// The connection has a thread of its own (``SQLiteWorker``) and a cache of prepared statements.
/// Units that run synchronously between their statements (deferred, deciding in Swift on each
/// answer as it comes) or over the shared `risk_state` read (keyed) run on that thread: it takes
/// the queued ones as a batch, runs them and commits, and takes the next batch at once, with no
/// hop to the cooperative pool in between (measured: with an actor handing over each batch, the
/// hand-over took longer than running it). Units that await answers between statements get the
/// connection to themselves and pay a hop per statement. A failed statement rolls its batch back,
/// and then each of its units runs again alone, so one bad unit cannot take the others down.
/// Results are delivered once the commit is on disk (see ``WALSync``).
final class SQLiteExecutor: Sendable {
    /// A statement runner handed to a unit of work; valid only inside the unit.
    ///
    /// Deferred units and those over the shared `risk_state` read run *inline*: on the writer's
    /// thread, the whole batch in one hop, each statement run at once, so a unit decides between
    /// its statements in Swift without waiting for a hop. Units that await answers run on the
    /// cooperative pool and reach the writer's thread per statement (*remote*); so do reads on the
    /// read connections.
    struct Tx: Sendable {
        enum Mode: Sendable {
            case inline(SQLiteHandle)
            case remote(SQLiteWorker)
        }
        let mode: Mode
        let pending: Pending

        /// Runs one statement and returns its rows (after every statement enqueued before it).
        @discardableResult
        func query(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [DBRow] {
            switch mode {
            case .inline:
                return try execute(sql, binds)
            case .remote(let worker):
                return try await worker.run { try $0.execute(sql, binds) }
            }
        }

        /// Runs one statement at once and returns its rows: only in a unit that runs inline (a
        /// deferred or keyed one), where nothing waits.
        func execute(_ sql: String, _ binds: [SQLiteData] = []) throws -> [DBRow] {
            guard case .inline(let handle) = mode else { throw SQLiteFailure.misuse("Tx.execute outside the writer's thread") }
            if let error = pending.error { throw error }
            do { return try handle.execute(sql, binds) } catch { pending.fail(error); throw error }
        }

        /// Runs a statement whose rows are not needed now, in order with the others; its failure
        /// fails the unit before anything commits. Its rows can be read once the batch settled
        /// (in a deferred unit's finisher; at once when inline).
        @discardableResult
        func enqueue(_ sql: String, _ binds: [SQLiteData] = []) -> Rows {
            let rows = Rows()
            switch mode {
            case .inline:
                // `execute` records a failure (the batch then rolls back) and skips statements after one.
                if let result = try? execute(sql, binds) { rows.set(result) }
            case .remote(let worker):
                pending.add(worker.submit { rows.set(try $0.execute(sql, binds)) })
            }
            return rows
        }
    }

    /// The rows an enqueued statement returned, set once it ran.
    final class Rows: Sendable {
        private let rows = Mutex<[DBRow]>([])
        func set(_ value: [DBRow]) { rows.withLock { $0 = value } }
        /// The rows (complete once the batch settled).
        var all: [DBRow] { rows.withLock { $0 } }
        var first: DBRow? { rows.withLock { $0.first } }
        var isEmpty: Bool { rows.withLock { $0.isEmpty } }
    }

    /// What statements of a unit still owe: completion futures of remote ones, the first failure
    /// of inline ones.
    final class Pending: Sendable {
        private let state = Mutex<(futures: [EventLoopFuture<Void>], error: (any Error)?)>(([], nil))
        func add(_ future: EventLoopFuture<Void>) { state.withLock { $0.futures.append(future) } }
        func take() -> [EventLoopFuture<Void>] { state.withLock { s in defer { s.futures = [] }; return s.futures } }
        func fail(_ error: any Error) { state.withLock { if $0.error == nil { $0.error = error } } }
        var error: (any Error)? { state.withLock { $0.error } }
    }

    typealias Finish = @Sendable ((any Error)?) -> Void

    private struct Unit: Sendable {
        enum Work: Sendable {
            /// Work that awaits some answers before deciding what to write.
            case awaiting(@Sendable (Tx) async -> (Finish, (any Error)?))
            /// Work that runs on the writer's thread (inline), its statements at once, and
            /// reads their answers there or, through a finisher, after the batch committed.
            case deferred(@Sendable (Tx) -> (Finish, (any Error)?))
            /// Work that reads rows of `risk_state`, decides in Swift and writes some back. Such
            /// units of one batch share one read, and each still sees what the ones before it
            /// wrote.
            case keyed(keys: [String], nowMillis: Int, body: @Sendable ([String: String], Tx) -> (Finish, (any Error)?, [String: RiskStateValue]))
        }
        var isKeyed: Bool { if case .keyed = work { true } else { false } }
        var isAwaiting: Bool { if case .awaiting = work { true } else { false } }
        let writes: Bool
        /// Runs the work; returns what delivers its result once the transaction ended (nil:
        /// committed; otherwise the error that undid it), and the error the work threw.
        let work: Work
        /// Ends the unit unrun, with the error that kept it from running.
        let abandon: Finish
    }

    /// Who has the connection: nobody, the writer's thread (draining inline units), or a batch of
    /// awaiting units (its transaction spans several hops).
    private enum Owner { case idle, draining, awaiting }

    private struct State {
        var queue: [Unit] = []
        var owner = Owner.idle
        /// Who waits for the queue to empty and the connection to fall idle (``close()``).
        var idleWaiters: [CheckedContinuation<Void, Never>] = []

        /// The connection is idle now: hands back who waited for that.
        mutating func turnIdle() -> [CheckedContinuation<Void, Never>] {
            owner = .idle
            defer { idleWaiters = [] }
            return idleWaiters
        }
    }

    let writer: SQLiteWorker
    private let state = Mutex(State())
    private let maxBatch: Int
    private let logger: Logger
    /// With it, a commit's results wait until the log is on disk, synced off the writer's thread;
    /// without it (synchronous NORMAL), they are delivered at once.
    let durability: WALSync?

    init(writer: SQLiteWorker, maxBatch: Int = 256, durability: WALSync?, logger: Logger) {
        self.writer = writer
        self.maxBatch = maxBatch
        self.durability = durability
        self.logger = logger
    }

    /// Runs `body` as one atomic unit; it may share its transaction with other writes.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (Tx) async throws -> T) async throws -> T {
        try await submit(writes: true, body)
    }

    /// Runs `body` to read on the writer's connection; it sees only committed data.
    @discardableResult
    func read<T: Sendable>(_ body: @escaping @Sendable (Tx) async throws -> T) async throws -> T {
        try await submit(writes: false, body)
    }

    /// What a unit's work hands back: how to deliver its result once the transaction ended (with
    /// the error that undid it, if any), and the error the work itself threw.
    private static func outcome<T: Sendable>(_ continuation: CheckedContinuation<T, any Error>, _ work: () throws -> T) -> (Finish, (any Error)?) {
        do {
            let value = try work()
            return ({ error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: value) }
            }, nil)
        } catch {
            return ({ _ in continuation.resume(throwing: error) }, error)
        }
    }

    /// Ends a unit unrun: its caller gets the error that kept it from running.
    private static func abandoning<T>(_ continuation: CheckedContinuation<T, any Error>) -> Finish {
        { error in continuation.resume(throwing: error ?? CancellationError()) }
    }

    /// Runs a write that only runs statements: `body` runs them (inline, on the writer's thread)
    /// and returns a finisher that reads their answers once the batch committed.
    func deferredWrite<T: Sendable>(_ body: @escaping @Sendable (Tx) throws -> @Sendable () throws -> T) async throws -> T {
        // The finisher (decoding rows, say) runs in the caller's task once it resumed, not on the
        // writer's or the sync thread, which every other write waits for.
        let finisher = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<@Sendable () throws -> T, any Error>) in
            enqueue(Unit(writes: true, work: .deferred { tx in Self.outcome(continuation) { try body(tx) } }, abandon: Self.abandoning(continuation)))
        }
        return try finisher()
    }

    /// Runs `body` as one atomic unit on the writer's thread (inline): it runs its statements
    /// with `Tx.execute` and decides between them without waiting for a hop; its result is
    /// delivered once the batch committed.
    @discardableResult
    func inlineWrite<T: Sendable>(_ body: @escaping @Sendable (Tx) throws -> T) async throws -> T {
        try await deferredWrite { tx in
            let value = try body(tx)
            return { value }
        }
    }

    /// Runs a unit that reads the `risk_state` rows of `keys` (those not expired at `now`), decides,
    /// runs its other statements and returns the rows to upsert into `risk_state`: the executor
    /// writes them, and later units of the batch see them. `body` runs on the writer's thread.
    func keyedWrite<T: Sendable>(keys: [String], now: Date,
                                 _ body: @escaping @Sendable ([String: String], Tx) throws -> (T, [String: RiskStateValue])) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(Unit(writes: true, work: .keyed(keys: keys, nowMillis: Int(Timestamp.millis(now)), body: { state, tx in
                var written: [String: RiskStateValue] = [:]
                let (complete, error) = Self.outcome(continuation) {
                    let (value, rows) = try body(state, tx)
                    written = rows
                    return value
                }
                return (complete, error, written)
            }), abandon: Self.abandoning(continuation)))
        }
    }

    private func submit<T: Sendable>(writes: Bool, _ body: @escaping @Sendable (Tx) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(Unit(writes: writes, work: .awaiting { tx in
                let result: Result<T, any Error>
                do { result = .success(try await body(tx)) } catch { result = .failure(error) }
                return Self.outcome(continuation) { try result.get() }
            }, abandon: Self.abandoning(continuation)))
        }
    }

    /// Closes the connection after the queued units ran and their commits were synced.
    func close() async throws {
        try await read { tx in _ = try await tx.query("PRAGMA wal_checkpoint(PASSIVE)") }
        // Units queued before the close still run (awaiting units, such as that read, go first).
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state in
                guard state.queue.isEmpty, state.owner == .idle else {
                    state.idleWaiters.append(continuation)
                    return false
                }
                return true
            }
            if idle { continuation.resume() }
        }
        try await durability?.drain()
        try await writer.close()
        try await durability?.close()
    }

    private func enqueue(_ unit: Unit) {
        let start = state.withLock { state in
            state.queue.append(unit)
            guard state.owner == .idle else { return false }
            state.owner = .draining
            return true
        }
        if start { scheduleDrain() }
    }

    private func scheduleDrain() {
        let future = writer.submit { [self] handle in drain(handle) }
        future.whenFailure { [self] error in
            // The thread is gone (shutting down): nothing queued can run any more.
            let (units, waiters) = state.withLock { state in
                defer { state.queue = [] }
                return (state.queue, state.turnIdle())
            }
            for unit in units { unit.abandon(error) }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// On the writer's thread: runs queued inline units batch after batch until none is left, or
    /// until awaiting units want the connection (they take it over on the cooperative pool).
    private func drain(_ handle: SQLiteHandle) {
        enum Next { case inline([Unit]), awaiting([Unit]), done([CheckedContinuation<Void, Never>]) }
        while true {
            let next: Next = state.withLock { state in
                if state.queue.isEmpty { return .done(state.turnIdle()) }
                // Units that await go first once any is queued, so a stream of inline units cannot
                // starve them; the inline ones wait for the next drain.
                if state.queue.contains(where: \.isAwaiting) {
                    var taken: [Unit] = []
                    state.queue.removeAll { unit in
                        guard unit.isAwaiting, taken.count < maxBatch else { return false }
                        taken.append(unit)
                        return true
                    }
                    state.owner = .awaiting
                    return .awaiting(taken)
                }
                let count = min(state.queue.count, maxBatch)
                defer { state.queue.removeFirst(count) }
                return .inline(Array(state.queue.prefix(count)))
            }
            switch next {
            case .done(let waiters):
                for waiter in waiters { waiter.resume() }
                return
            case .awaiting(let batch):
                Task { await self.runAwaiting(batch) }
                return
            case .inline(let batch):
                runInline(batch, handle)
            }
        }
    }

    /// Runs a batch of inline units in one transaction; after a failure, each unit alone.
    private func runInline(_ batch: [Unit], _ handle: SQLiteHandle) {
        let outcome = Self.transaction(batch, handle)
        if outcome.failure == nil {
            committed(outcome.completions)
        } else if batch.count == 1 {
            (outcome.completions.first ?? batch[0].abandon)(outcome.failure)
        } else {
            for unit in batch { runInline([unit], handle) }
        }
    }

    /// Delivers a committed batch's results: once the commit is on disk when durability is asked
    /// for (batches that commit while one sync runs share the next), at once otherwise.
    private func committed(_ completions: [Finish]) {
        guard !completions.isEmpty else { return }
        if let durability {
            durability.afterSync(completions)
        } else {
            for complete in completions { complete(nil) }
        }
    }

    /// What a batch of inline units left: its units' finishers and the first failure.
    private struct InlineOutcome {
        var completions: [Finish] = []
        var failure: (any Error)?
    }

    /// On the writer's thread: one transaction for the batch's keyed and deferred units. Units of
    /// one batch are concurrent (none has seen another's result yet), so any order is a valid one;
    /// the keyed units share one read of their `risk_state` keys, and each decides over the rows as
    /// the ones before it left them.
    private static func transaction(_ units: [Unit], _ handle: SQLiteHandle) -> InlineOutcome {
        var outcome = InlineOutcome()
        outcome.completions.reserveCapacity(units.count)
        do {
            _ = try handle.execute("BEGIN IMMEDIATE", [])
        } catch {
            outcome.failure = error
            return outcome
        }
        let pending = Pending()
        let tx = Tx(mode: .inline(handle), pending: pending)
        let keyed = units.filter(\.isKeyed)
        if !keyed.isEmpty {
            switch Result(catching: { try readKeys(keyed, handle) }) {
            case .failure(let error):
                outcome.failure = error
            case .success(var rows):
                for unit in keyed where outcome.failure == nil {
                    guard case .keyed(let keys, let now, let body) = unit.work else { continue }
                    var state: [String: String] = [:]
                    for key in keys { if let row = rows[key], row.expiresAt > now { state[key] = row.value } }
                    let (complete, error, written) = body(state, tx)
                    outcome.completions.append(complete)
                    if let error = error ?? pending.error { outcome.failure = error; break }
                    guard !written.isEmpty else { continue }
                    let sorted = written.sorted { $0.key < $1.key }
                    tx.enqueue(
                        "INSERT INTO risk_state (key, value, expires_at) VALUES " + Array(repeating: "(?,?,?)", count: sorted.count).joined(separator: ",")
                            + " ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                        sorted.flatMap { [SQLiteData.text($0.key), .text($0.value.value), .ms($0.value.expiresAt)] })
                    for (key, value) in sorted { rows[key] = (value.value, Int(Timestamp.millis(value.expiresAt))) }
                }
            }
        }
        for unit in units where outcome.failure == nil {
            guard case .deferred(let body) = unit.work else { continue }
            let (complete, error) = body(tx)
            outcome.completions.append(complete)
            if let error = error ?? pending.error { outcome.failure = error }
        }
        if outcome.failure == nil, let error = pending.error { outcome.failure = error }
        if outcome.failure == nil {
            do {
                _ = try handle.execute("COMMIT", [])
                return outcome
            } catch {
                outcome.failure = error
            }
        }
        _ = try? handle.execute("ROLLBACK", [])
        return outcome
    }

    /// The one read of every `risk_state` key the keyed units name.
    private static func readKeys(_ units: [Unit], _ handle: SQLiteHandle) throws -> [String: (value: String, expiresAt: Int)] {
        var wanted = Set<String>()
        for unit in units { if case .keyed(let keys, _, _) = unit.work { wanted.formUnion(keys) } }
        let all = Array(wanted)
        var rows: [String: (value: String, expiresAt: Int)] = [:]
        for start in stride(from: 0, to: all.count, by: 500) {
            let chunk = all[start..<min(all.count, start + 500)]
            for row in try handle.execute(
                "SELECT key, value, expires_at FROM risk_state WHERE key IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))",
                chunk.map(SQLiteData.text)) {
                rows[try row.string("key")] = (try row.string("value"), try row.int("expires_at"))
            }
        }
        return rows
    }

    /// Units that await answers, with the connection to themselves; then the writer's thread
    /// drains again.
    private func runAwaiting(_ batch: [Unit]) async {
        await runAwaitingBatch(batch)
        state.withLock { $0.owner = .draining }
        scheduleDrain()
    }

    private func runAwaitingBatch(_ batch: [Unit]) async {
        guard batch.contains(where: \.writes) else {
            for unit in batch {
                guard case .awaiting(let body) = unit.work else { continue }
                let (complete, _) = await body(Tx(mode: .remote(writer), pending: Pending()))
                complete(nil)
            }
            return
        }
        do {
            try await writer.run { _ = try $0.execute("BEGIN IMMEDIATE", []) }
        } catch {
            for unit in batch { unit.abandon(error) }
            return
        }
        var completions: [Finish] = []
        var failure: (any Error)?
        let pending = Pending()
        let tx = Tx(mode: .remote(writer), pending: pending)
        for unit in batch {
            guard case .awaiting(let body) = unit.work else { continue }
            let (complete, error) = await body(tx)
            completions.append(complete)
            if let error { failure = error; break }
        }
        do {
            // One wait for every statement they enqueued (all ran in order on the writer's thread).
            try await EventLoopFuture.andAllSucceed(pending.take(), on: writer.eventLoop).get()
        } catch {
            failure = failure ?? error
        }
        if failure == nil {
            do {
                try await writer.run { _ = try $0.execute("COMMIT", []) }
                committed(completions)
                return
            } catch {
                logger.error("sqlite commit failed", metadata: ["error": "\(error)"])
                failure = error
            }
        }
        _ = try? await writer.run { _ = try $0.execute("ROLLBACK", []) }
        if batch.count == 1 {
            (completions.first ?? batch[0].abandon)(failure)
            return
        }
        // One unit failed: each unit in a transaction of its own (the rollback undid their work).
        for unit in batch { await runAwaitingBatch([unit]) }
    }
}
