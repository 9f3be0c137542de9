/// One-time codes: decimal digits drawn uniformly from the system CSPRNG.
public enum OTPCode {
    /// The shortest code Sandi ever issues.
    public static let minimumLength = 6
    /// The longest code Sandi issues.
    public static let maximumLength = 10

    /// A new code of `length` digits (6–10). `UInt64.random(in:using:)` draws without modulo bias.
    public static func generate<R: RandomNumberGenerator>(length: Int, using rng: inout R) -> String {
        let length = min(max(length, minimumLength), maximumLength)
        var bound: UInt64 = 1
        for _ in 0..<length { bound *= 10 }
        let value = UInt64.random(in: 0..<bound, using: &rng)
        let digits = String(value)
        return String(repeating: "0", count: length - digits.count) + digits
    }

    /// A new code from the system CSPRNG.
    public static func generate(length: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return generate(length: length, using: &rng)
    }

    /// Whether `candidate` has the shape of a code (digits only, plausible length), before any hashing.
    public static func isPlausible(_ candidate: String) -> Bool {
        let utf8 = candidate.utf8
        return (4...maximumLength).contains(utf8.count) && utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
