import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes of the system CSPRNG for identifiers, fetched 4 KiB at a time: one system call for 256
/// identifiers instead of two for each (a start makes about nine identifiers, and those calls
/// were 18 of a start's system calls). Every byte is handed out once. Secrets (codes, tokens,
/// keys) do not come from here: they take the system generator directly.
final class RandomPool: Sendable {
    static let shared = RandomPool()

    private struct State {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var next = 4096
    }

    private let state = Mutex(State())

    /// 128 fresh random bits.
    func next128() -> (UInt64, UInt64) {
        state.withLock { state in
            if state.next + 16 > state.bytes.count {
                Self.fill(&state.bytes)
                state.next = 0
            }
            let at = state.next
            state.next += 16
            return state.bytes.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: at, as: UInt64.self), raw.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self))
            }
        }
    }

    private static func fill(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var filled = 0
            // The kernel's generator, read in one go (a read from /dev/urandom is what
            // getrandom gives once the kernel's pool is seeded).
            let file = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            if file >= 0 {
                while filled < raw.count {
                    let got = read(file, base + filled, raw.count - filled)
                    if got > 0 {
                        filled += got
                    } else if got < 0, errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                close(file)
            }
            // Should that fail: the system generator, eight bytes a call.
            var generator = SystemRandomNumberGenerator()
            while filled < raw.count {
                let word = generator.next()
                let count = min(8, raw.count - filled)
                withUnsafeBytes(of: word) { (base + filled).copyMemory(from: $0.baseAddress!, byteCount: count) }
                filled += count
            }
        }
    }
}
