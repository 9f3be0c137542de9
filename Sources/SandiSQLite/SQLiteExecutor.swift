import Foundation
import Logging
import NIOPosix
import SQLiteNIO

/// Owns one SQLite connection and runs units of work one at a time, committing queued writes
/// together (group commit): under load, many requests share one transaction and one fsync, with
/// the same durability as a commit each. Reads that arrive alone run outside a transaction.
actor SQLiteExecutor {
    /// A statement runner handed to units of work; valid only inside the unit.
    struct Tx: Sendable {
        let connection: SQLiteConnection

        /// Runs one statement and returns its rows.
        @discardableResult
        func query(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
            try await connection.query(sql, binds)
        }
    }

    private struct Unit: Sendable {
        let writes: Bool
        /// Runs the work; returns a completion that delivers its result once the transaction ended
        /// (nil: committed; otherwise the error that undid it).
        let run: @Sendable (Tx) async -> (@Sendable ((any Error)?) -> Void, (any Error)?)
    }

    let connection: SQLiteConnection
    private let tx: Tx
    private var queue: [Unit] = []
    private var draining = false
    private let maxBatch: Int
    private let logger: Logger

    init(connection: SQLiteConnection, maxBatch: Int = 256, logger: Logger) {
        self.connection = connection
        self.tx = Tx(connection: connection)
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
        if !batch.contains(where: \.writes) {
            for unit in batch {
                let (complete, _) = await unit.run(tx)
                complete(nil)
            }
            return
        }
        do {
            try await tx.query("BEGIN IMMEDIATE")
        } catch {
            logger.error("sqlite begin failed", metadata: ["error": "\(error)"])
            for unit in batch { await unit.run(tx).0(error) }
            return
        }
        var completions: [@Sendable ((any Error)?) -> Void] = []
        completions.reserveCapacity(batch.count)
        var failure: (any Error)?
        for unit in batch {
            let (complete, error) = await unit.run(tx)
            completions.append(complete)
            if let error { failure = error; break }
        }
        if failure == nil {
            do {
                try await tx.query("COMMIT")
                for complete in completions { complete(nil) }
                return
            } catch {
                logger.error("sqlite commit failed", metadata: ["error": "\(error)"])
                failure = error
            }
        }
        _ = try? await tx.query("ROLLBACK")
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
