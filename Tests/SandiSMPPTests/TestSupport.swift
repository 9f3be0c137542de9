import NIOCore

/// Thrown when a guarded wait runs past its limit.
struct TestTimeout: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "timed out after \(limit)" }
}

/// Runs `operation`, failing with ``TestTimeout`` if it has not finished within `limit`.
/// The limit only guards against hangs; tests never wait on it for their outcome.
func withTimeout<T: Sendable>(
    _ limit: Duration,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TestTimeout(limit: limit)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TestTimeout(limit: limit) }
        return first
    }
}

/// Parses `"00 0A ff"`-style hex into bytes (test vectors only).
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { $0.isHexDigit }
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

extension ByteBuffer {
    /// The readable bytes as an array.
    var bytes: [UInt8] {
        Array(readableBytesView)
    }
}
