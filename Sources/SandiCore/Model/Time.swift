public import Foundation

/// Where Sandi reads the current time. Injected everywhere a decision depends on time, so that
/// tests of expiry, cooldowns and fallbacks move a manual clock instead of sleeping.
public protocol TimeSource: Sendable {
    /// The current instant.
    var now: Date { get }
}

/// The wall clock of the machine.
public struct SystemTimeSource: TimeSource {
    public init() {}
    public var now: Date { Date() }
}

/// RFC 3339 timestamps in UTC with exactly three fractional digits (`2026-11-21T10:00:00.123Z`).
public enum Timestamp {
    /// Milliseconds since the Unix epoch, rounded down.
    public static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The date for milliseconds since the Unix epoch.
    public static func date(millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    /// Formats a date as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(_ date: Date) -> String {
        format(millis: millis(date))
    }

    /// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(millis: Int64) -> String {
        let ms = Int(((millis % 1000) + 1000) % 1000)
        let secs = (millis - Int64(ms)) / 1000
        var days = Int(secs / 86_400)
        var rem = Int(secs % 86_400)
        if rem < 0 { rem += 86_400; days -= 1 }
        let (y, m, d) = civil(fromDays: days)
        // Written in place: on every event and answer of the hot paths.
        return String(unsafeUninitializedCapacity: 24) { out in
            var at = 0
            func put(_ value: Int, _ width: Int) {
                var v = value
                for i in stride(from: at + width - 1, through: at, by: -1) { out[i] = UInt8(48 + v % 10); v /= 10 }
                at += width
            }
            func mark(_ byte: UInt8) { out[at] = byte; at += 1 }
            put(y, 4); mark(45); put(m, 2); mark(45); put(d, 2); mark(84)
            put(rem / 3600, 2); mark(58); put(rem / 60 % 60, 2); mark(58); put(rem % 60, 2)
            mark(46); put(ms, 3); mark(90)
            return at
        }
    }

    /// Parses an RFC 3339 timestamp (`Z` or a numeric offset; fraction optional).
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32,
              let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58, let s = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { fraction += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2) {
            offset = (oh * 60 + om) * 60 * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        let seconds = Double(days * 86_400 + h * 3600 + mi * 60 + s - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    // Howard Hinnant's civil-from-days and days-from-civil algorithms.
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
