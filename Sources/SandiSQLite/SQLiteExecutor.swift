import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// Owns one SQLite connection and runs units of work one at a time, committing queued writes
/// together (group commit): under load, many requests share one transaction and one fsync, with
/// the same durability as a commit each.
///
/// The connection runs on a thread pool of its own with a single thread, so statements execute in
/// the order they were submitted. That lets a unit *enqueue* statements whose results it does not
/// need without waiting for each (one thread hop per statement is what limits SQLite throughput
/// here); it waits only for statements whose answer decides what comes next. Failures of enqueued
/// statements are checked before the commit.
actor SQLiteExecutor {
    /// A statement runner handed to a unit of work; valid only inside the unit.
    struct Tx: Sendable {
        let connection: SQLiteConnection
        let pending: Pending

        /// Runs one statement and returns its rows (after every statement enqueued before it).
        @discardableResult
        func query(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
            try await connection.query(sql, binds)
        }

        /// Submits a statement whose rows are not needed now; it runs in order with the others, and
        /// its failure fails the unit before anything commits. Its rows can be read once the batch
        /// settled (in a deferred unit's finisher).
        @discardableResult
        func enqueue(_ sql: String, _ binds: [SQLiteData] = []) -> Rows {
            let rows = Rows()
            let future: EventLoopFuture<Void> = connection.query(sql, binds) { row in rows.append(row) }
            pending.add(future)
            return rows
        }
    }

    /// The rows an enqueued statement returned, filled as it runs.
    final class Rows: Sendable {
        private let rows = Mutex<[SQLiteRow]>([])
        func append(_ row: SQLiteRow) { rows.withLock { $0.append(row) } }
        /// The rows (complete once the batch settled).
        var all: [SQLiteRow] { rows.withLock { $0 } }
        var first: SQLiteRow? { rows.withLock { $0.first } }
        var isEmpty: Bool { rows.withLock { $0.isEmpty } }
    }

    /// Completion futures of enqueued statements.
    final class Pending: Sendable {
        private let futures = Mutex<[EventLoopFuture<Void>]>([])
        func add(_ future: EventLoopFuture<Void>) { futures.withLock { $0.append(future) } }
        func take() -> [EventLoopFuture<Void>] { futures.withLock { f in defer { f = [] }; return f } }
    }

    typealias Finish = @Sendable ((any Error)?) -> Void

    private struct Unit: Sendable {
        enum Work: Sendable {
            /// Work that awaits some answers before deciding what to write.
            case awaiting(@Sendable (Tx) async -> (Finish, (any Error)?))
            /// Work that only enqueues statements (decisions made inside SQL) and reads their answers
            /// after they ran: no wait at all per unit.
            case deferred(@Sendable (Tx) -> (Finish, (any Error)?))
        }
        let writes: Bool
        /// Runs the work; returns what delivers its result once the transaction ended (nil:
        /// committed; otherwise the error that undid it), and the error the work threw.
        let work: Work
    }

    private func run(_ unit: Unit, _ tx: Tx) async -> (Finish, (any Error)?) {
        switch unit.work {
        case .awaiting(let body): await body(tx)
        case .deferred(let body): body(tx)
        }
    }

    let connection: SQLiteConnection
    private var queue: [Unit] = []
    private var draining = false
    private let maxBatch: Int
    private let logger: Logger

    init(connection: SQLiteConnection, maxBatch: Int = 256, logger: Logger) {
        self.connection = connection
        self.maxBatch = maxBatch
        self.logger = logger
    }

    /// Runs `body` as one atomic unit; it may share its transaction with other writes.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (Tx) async throws -> T) async throws -> T {
        try await submit(writes: true, body)
    }

    /// Runs `body` to read; it sees only committed data.
    @discardableResult
    func read<T: Sendable>(_ body: @escaping @Sendable (Tx) async throws -> T) async throws -> T {
        try await submit(writes: false, body)
    }

    /// Runs a write that only enqueues statements: `body` submits them and returns a finisher that
    /// reads their answers (futures already resolved) once they all ran.
    func deferredWrite<T: Sendable>(_ body: @escaping @Sendable (Tx) throws -> @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(Unit(writes: true, work: .deferred { tx in
                do {
                    let finisher = try body(tx)
                    return ({ error in
                        if let error { continuation.resume(throwing: error); return }
                        do { continuation.resume(returning: try finisher()) } catch { continuation.resume(throwing: error) }
                    }, nil)
                } catch {
                    return ({ _ in continuation.resume(throwing: error) }, error)
                }
            }))
        }
    }

    private func submit<T: Sendable>(writes: Bool, _ body: @escaping @Sendable (Tx) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(Unit(writes: writes, work: .awaiting { tx in
                do {
                    let value = try await body(tx)
                    return ({ error in
                        if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: value) }
                    }, nil)
                } catch {
                    return ({ _ in continuation.resume(throwing: error) }, error)
                }
            }))
        }
    }

    private func enqueue(_ unit: Unit) {
        queue.append(unit)
        if !draining {
            draining = true
            Task { await self.drain() }
        }
    }

    private func drain() async {
        while !queue.isEmpty {
            let count = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            await runBatch(batch)
        }
        draining = false
    }

    private func runBatch(_ batch: [Unit]) async {
        let writes = batch.contains(where: \.writes)
        if !writes {
            for unit in batch {
                let (complete, _) = await run(unit, Tx(connection: connection, pending: Pending()))
                complete(nil)
            }
            return
        }
        let pending = Pending()
        let tx = Tx(connection: connection, pending: pending)
        tx.enqueue("BEGIN IMMEDIATE")
        var completions: [Finish] = []
        completions.reserveCapacity(batch.count)
        var failure: (any Error)?
        for unit in batch {
            let (complete, error) = await run(unit, tx)
            completions.append(complete)
            if let error { failure = error; break }
        }
        // One wait for every enqueued statement of the batch (they ran in order on the writer's thread).
        do {
            try await EventLoopFuture.andAllSucceed(pending.take(), on: connection.eventLoop).get()
        } catch {
            failure = failure ?? error
        }
        if failure == nil {
            do {
                _ = try await connection.query("COMMIT", [])
                for complete in completions { complete(nil) }
                return
            } catch {
                logger.error("sqlite commit failed", metadata: ["error": "\(error)"])
                failure = error
            }
        }
        _ = try? await connection.query("ROLLBACK", [])
        if batch.count == 1 {
            completions.first?(failure)
            return
        }
        // One unit failed: give each unit a transaction of its own, so one bad unit cannot take the
        // others down with it (their work was undone by the rollback and runs again).
        for unit in batch {
            await runBatch([unit])
        }
    }
}
