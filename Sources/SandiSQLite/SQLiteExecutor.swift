import Foundation
import Logging
import NIOCore
import NIOPosix
import SandiCore
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
            submit(sql, binds).rows
        }

        /// Records how many rows the statement just before changed, under `name`; answers the SQL
        /// condition "it changed one", which gates the unit's later statements.
        func gateOnChanges(_ name: String) -> String {
            enqueue("INSERT OR REPLACE INTO temp.unit_flags (k, v) VALUES ('\(name)', changes())")
            return "(SELECT v FROM temp.unit_flags WHERE k = '\(name)') = 1"
        }

        /// Like `enqueue`, and also answers when this statement ran.
        func submit(_ sql: String, _ binds: [SQLiteData] = []) -> (rows: Rows, ran: EventLoopFuture<Void>) {
            let rows = Rows()
            let future: EventLoopFuture<Void> = connection.query(sql, binds) { row in rows.append(row) }
            pending.add(future)
            return (rows, future)
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
            /// after they ran: no wait at all per unit. It must not read or write `risk_state`:
            /// a batch runs it while its keyed units' read is on its way (see `runBatch`).
            case deferred(@Sendable (Tx) -> (Finish, (any Error)?))
            /// Work that reads rows of `risk_state`, decides in Swift and writes some back. Such
            /// units of one batch share one read, and each still sees what the ones before it
            /// wrote: one wait for the writer's thread per batch instead of one per unit.
            /// `fail` ends the unit unrun when the shared read failed.
            case keyed(keys: [String], nowMillis: Int, body: @Sendable ([String: String], Tx) -> (Finish, (any Error)?, [String: RiskStateValue]), fail: Finish)
        }
        var isKeyed: Bool { if case .keyed = work { true } else { false } }
        var isDeferred: Bool { if case .deferred = work { true } else { false } }
        let writes: Bool
        /// Runs the work; returns what delivers its result once the transaction ended (nil:
        /// committed; otherwise the error that undid it), and the error the work threw.
        let work: Work
    }

    private func run(_ unit: Unit, _ tx: Tx) async -> (Finish, (any Error)?) {
        switch unit.work {
        case .awaiting(let body): return await body(tx)
        case .deferred(let body): return body(tx)
        case .keyed(_, _, _, let fail):
            // Alone (outside a batch's keyed group): a group of one.
            var completions: [Finish] = []
            let error = await decideKeyed([unit], reads: submitKeyedRead([unit], tx), tx, into: &completions)
            return (completions.first ?? fail, error)
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

    /// Runs a unit that reads the `risk_state` rows of `keys` (those not expired at `now`), decides,
    /// enqueues its other statements and returns the rows to upsert into `risk_state`: the
    /// executor writes them, and later units of the batch see them.
    func keyedWrite<T: Sendable>(keys: [String], now: Date,
                                 _ body: @escaping @Sendable ([String: String], Tx) throws -> (T, [String: RiskStateValue])) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(Unit(writes: true, work: .keyed(keys: keys, nowMillis: Int(Timestamp.millis(now)), body: { state, tx in
                do {
                    let (value, written) = try body(state, tx)
                    return ({ error in
                        if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: value) }
                    }, nil, written)
                } catch {
                    return ({ _ in continuation.resume(throwing: error) }, error, [:])
                }
            }, fail: { error in continuation.resume(throwing: error ?? CancellationError()) })))
        }
    }

    /// Submits the one read of every `risk_state` key the keyed units name; it runs in order
    /// with the statements submitted before and after it.
    private func submitKeyedRead(_ units: [Unit], _ tx: Tx) -> [(rows: Rows, ran: EventLoopFuture<Void>)] {
        var wanted = Set<String>()
        for unit in units { if case .keyed(let keys, _, _, _) = unit.work { wanted.formUnion(keys) } }
        let all = Array(wanted)
        return stride(from: 0, to: all.count, by: 500).map { start in
            let chunk = all[start..<min(all.count, start + 500)]
            return tx.submit(
                "SELECT key, value, expires_at FROM risk_state WHERE key IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))",
                chunk.map(SQLiteData.text))
        }
    }

    /// Waits for the keyed read, then runs each keyed unit in turn over the rows as the units
    /// before it left them. Returns the first failure.
    private func decideKeyed(_ units: [Unit], reads: [(rows: Rows, ran: EventLoopFuture<Void>)], _ tx: Tx, into completions: inout [Finish]) async -> (any Error)? {
        var rows: [String: (value: String, expiresAt: Int)] = [:]
        do {
            for read in reads {
                try await read.ran.get()
                for row in read.rows.all { rows[try row.string("key")] = (try row.string("value"), try row.int("expires_at")) }
            }
        } catch {
            for unit in units { if case .keyed(_, _, _, let fail) = unit.work { completions.append(fail) } }
            return error
        }
        for unit in units {
            guard case .keyed(let keys, let now, let body, _) = unit.work else { continue }
            var state: [String: String] = [:]
            for key in keys { if let row = rows[key], row.expiresAt > now { state[key] = row.value } }
            let (complete, error, written) = body(state, tx)
            completions.append(complete)
            if let error { return error }
            guard !written.isEmpty else { continue }
            let sorted = written.sorted { $0.key < $1.key }
            tx.enqueue(
                "INSERT INTO risk_state (key, value, expires_at) VALUES " + Array(repeating: "(?,?,?)", count: sorted.count).joined(separator: ",")
                    + " ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                sorted.flatMap { [SQLiteData.text($0.key), .text($0.value.value), .ms($0.value.expiresAt)] })
            for (key, value) in sorted { rows[key] = (value.value, Int(Timestamp.millis(value.expiresAt))) }
        }
        return nil
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
        // Units of one batch are concurrent (none has seen another's result yet), so any order is
        // a valid one. This one keeps the writer's thread busy while this actor decides:
        // 1. the keyed units' one read is submitted first;
        // 2. the deferred units' statements queue behind it (they never touch `risk_state`, so
        //    they commute with the keyed units, which come first in effect);
        // 3. the keyed units decide as soon as the read is back, while those statements run;
        // 4. the units that await answers run last and see everything before them.
        let keyed = batch.filter(\.isKeyed)
        let reads = keyed.isEmpty ? [] : submitKeyedRead(keyed, tx)
        for unit in batch where unit.isDeferred {
            let (complete, error) = await run(unit, tx)
            completions.append(complete)
            if let error { failure = error; break }
        }
        if failure == nil, !keyed.isEmpty { failure = await decideKeyed(keyed, reads: reads, tx, into: &completions) }
        for unit in batch where failure == nil && !unit.isKeyed && !unit.isDeferred {
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
