public import Foundation

/// Keyed state of the risk and abuse rules (limit counters, user profiles, prefix counters and
/// blocks, tenant risk settings), read and written atomically so that concurrent requests, and
/// later several nodes, cannot exceed a limit between them.
public protocol RiskStateStore: Sendable {
    /// Reads the unexpired values of `keys`, lets `decide` say what to write, and writes it (values
    /// and events) in one atomic step: no other update of these keys happens in between.
    func updateRiskState<T: Sendable>(keys: [String], now: Date, _ decide: @escaping @Sendable ([String: String]) throws -> (T, RiskStateWrite)) async throws -> T

    /// Unexpired values whose key starts with `prefix`, by key.
    func riskStates(prefix: String, now: Date, limit: Int) async throws -> [String: String]

    /// Deletes up to `limit` expired values; returns how many.
    func purgeRiskState(now: Date, limit: Int) async throws -> Int
}

/// What a SIM swap check answered.
public enum SimSwapAnswer: Sendable, Equatable {
    /// The SIM was (or was not) swapped within the asked age.
    case swapped(Bool)
    /// No answer: the operator does not support it, the service failed or timed out. Not a risk by
    /// itself; the reason is recorded.
    case unavailable(String)
}

/// A source of SIM swap signals (e.g. a CAMARA SIM Swap API).
public protocol SimSwapSignal: Sendable {
    func check(e164: String, maxAgeHours: Int) async -> SimSwapAnswer
}
