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

        /// Submits a statement whose rows are not needed; it runs in order with the others, and its
        /// failure fails the unit before anything commits.
        func enqueue(_ sql: String, _ binds: [SQLiteData] = []) {
            let future: EventLoopFuture<[SQLiteRow]> = connection.query(sql, binds)
            pending.add(future)
        }
    }

    /// Futures of the statements a unit enqueued.
    final class Pending: Sendable {
        private let futures = Mutex<[EventLoopFuture<[SQLiteRow]>]>([])
        func add(_ future: EventLoopFuture<[SQLiteRow]>) { futures.withLock { $0.append(future) } }
        func take() -> [EventLoopFuture<[SQLiteRow]>] { futures.withLock { f in defer { f = [] }; return f } }

        /// The first failure among them, after all ran.
        func settle() async -> (any Error)? {
            var failure: (any Error)?
            for future in take() {
                do { _ = try await future.get() } catch { if failure == nil { failure = error } }
            }
            return failure
        }
    }

    private struct Unit: Sendable {
        let writes: Bool
        /// Runs the work; returns a completion that delivers its result once the transaction ended
        /// (nil: committed; otherwise the error that undid it), and the error the work threw.
        let run: @Sendable (Tx) async -> (@Sendable ((any Error)?) -> Void, (any Error)?)
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

    private func submit<T: Sendable>(writes: Bool, _ body: @escaping @Sendable (Tx) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.append(Unit(writes: writes) { tx in
                do {
                    let value = try await body(tx)
                    return ({ error in
                        if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: value) }
                    }, nil)
                } catch {
                    return ({ _ in continuation.resume(throwing: error) }, error)
                }
            })
            if !draining {
                draining = true
                Task { await self.drain() }
            }
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
                let (complete, _) = await unit.run(Tx(connection: connection, pending: Pending()))
                complete(nil)
            }
            return
        }
        let begin = Pending()
        Tx(connection: connection, pending: begin).enqueue("BEGIN IMMEDIATE")
        var completions: [@Sendable ((any Error)?) -> Void] = []
        completions.reserveCapacity(batch.count)
        var pendings: [Pending] = []
        var failure: (any Error)?
        for unit in batch {
            let pending = Pending()
            let (complete, error) = await unit.run(Tx(connection: connection, pending: pending))
            completions.append(complete)
            pendings.append(pending)
            if let error { failure = error; break }
        }
        if let error = await begin.settle() { failure = failure ?? error }
        for pending in pendings {
            if let error = await pending.settle() { failure = failure ?? error }
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
