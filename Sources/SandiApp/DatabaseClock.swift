public import Foundation
public import SandiCore
import Synchronization
import Logging
import ServiceLifecycle

/// The database server's clock as every node's time source: the offset between this machine's
/// clock and the database's is measured (halfway through a round trip) and applied to every
/// reading, so expiry, leases, cooldowns and timers on every node are judged on one clock without
/// a round trip per decision. The offset is measured again every minute (`refresh`).
public final class DatabaseClock: TimeSource {
    private let offset = Mutex<TimeInterval>(0)
    private let source: @Sendable () async throws -> Date

    /// A clock aligned to the instants `source` reads from the database.
    public init(source: @escaping @Sendable () async throws -> Date) {
        self.source = source
    }

    public var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    /// The last measured offset (database minus this machine), in seconds.
    public var measuredOffset: TimeInterval { offset.withLock { $0 } }

    /// Measures the offset again; returns it.
    @discardableResult
    public func refresh() async throws -> TimeInterval {
        let before = Date()
        let remote = try await source()
        let after = Date()
        let local = before.addingTimeInterval(after.timeIntervalSince(before) / 2)
        let measured = remote.timeIntervalSince(local)
        offset.withLock { $0 = measured }
        return measured
    }
}

/// Keeps a ``DatabaseClock`` aligned while Sandi serves: measures the offset every minute and
/// logs when it moved (a node's clock stepped, or drifted).
struct ClockAlignment: Service {
    let clock: DatabaseClock
    let logger: Logger
    var interval: Duration = .seconds(60)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                let before = clock.measuredOffset
                do {
                    let after = try await clock.refresh()
                    if abs(after - before) > 0.5 {
                        logger.warning("clock offset to the database moved", metadata: ["from_ms": "\(Int(before * 1000))", "to_ms": "\(Int(after * 1000))"])
                    }
                } catch {
                    logger.warning("could not read the database clock; keeping the last offset", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
