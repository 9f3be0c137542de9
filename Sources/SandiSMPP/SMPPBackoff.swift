/// An exponential back-off: `initial`, then multiplied on each further attempt, never above
/// `maximum`. No jitter, so schedules are exact and testable.
public struct SMPPBackoff: Sendable, Equatable, Hashable {
    /// The first delay.
    public var initial: Duration
    /// The cap.
    public var maximum: Duration
    /// The growth factor between attempts (2 doubles).
    public var multiplier: Int

    /// Creates a back-off policy.
    public init(initial: Duration, maximum: Duration, multiplier: Int = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The delay before retry number `attempt` (0-based): `initial × multiplier^attempt`, capped.
    public func delay(attempt: Int) -> Duration {
        var delay = min(initial, maximum)
        for _ in 0..<min(max(attempt, 0), 64) {
            guard delay < maximum else { break }
            delay = min(delay * max(multiplier, 1), maximum)
        }
        return delay
    }
}
