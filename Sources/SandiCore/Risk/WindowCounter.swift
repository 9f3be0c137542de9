/// A sliding-window counter kept as a few time buckets (at most 60 per window plus one), so that
/// "5 sends per 10 minutes" holds for *any* 10-minute span: a bucket counts while any part of it is
/// inside the window, which errs on the strict side by at most one bucket (1/60 of the window).
/// Its stored form is a short text (`start:count,…`, milliseconds), one row per key.
public struct WindowCounter: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        public var start: Int64
        public var count: Int
        public init(start: Int64, count: Int) {
            self.start = start
            self.count = count
        }
    }

    public private(set) var buckets: [Bucket]

    public init(buckets: [Bucket] = []) {
        self.buckets = buckets.sorted { $0.start < $1.start }
    }

    /// Bucket width for a window: a sixtieth of it, at least one second.
    public static func bucketMillis(windowSeconds: Int) -> Int64 {
        max(1000, Int64(windowSeconds) * 1000 / 60)
    }

    /// Hits counted in the window ending at `now` (milliseconds).
    public func count(now: Int64, windowSeconds: Int) -> Int {
        let width = Self.bucketMillis(windowSeconds: windowSeconds)
        let from = now - Int64(windowSeconds) * 1000
        return buckets.reduce(0) { $0 + ($1.start + width > from && $1.start <= now ? $1.count : 0) }
    }

    /// Hits in `[from, to)` (milliseconds), by bucket start.
    public func count(from: Int64, to: Int64) -> Int {
        buckets.reduce(0) { $0 + ($1.start >= from && $1.start < to ? $1.count : 0) }
    }

    /// Adds `n` hits at `now`, dropping buckets older than `keepSeconds` (at least the window).
    public mutating func add(_ n: Int = 1, now: Int64, windowSeconds: Int, keepSeconds: Int? = nil) {
        let width = Self.bucketMillis(windowSeconds: windowSeconds)
        let keep = Int64(max(keepSeconds ?? windowSeconds, windowSeconds)) * 1000
        buckets.removeAll { $0.start + width <= now - keep }
        let start = now - ((now % width) + width) % width
        if let last = buckets.indices.last, buckets[last].start == start {
            buckets[last].count += n
        } else {
            buckets.append(Bucket(start: start, count: n))
            buckets.sort { $0.start < $1.start }
        }
    }

    /// Seconds until the count in the window falls below `max` (0 when it already is).
    public func retryAfter(now: Int64, windowSeconds: Int, max: Int) -> Int {
        let width = Self.bucketMillis(windowSeconds: windowSeconds)
        let window = Int64(windowSeconds) * 1000
        var excess = count(now: now, windowSeconds: windowSeconds) - max + 1
        guard excess > 0 else { return 0 }
        for bucket in buckets where bucket.start + width > now - window {
            excess -= bucket.count
            if excess <= 0 {
                let leaves = bucket.start + width + window
                return Swift.max(1, Int((leaves - now + 999) / 1000))
            }
        }
        return windowSeconds
    }

    /// The stored form.
    public var encoded: String {
        var text = ""
        text.reserveCapacity(buckets.count * 20)
        for (index, bucket) in buckets.enumerated() {
            if index > 0 { text.append(",") }
            text.append(String(bucket.start))
            text.append(":")
            text.append(String(bucket.count))
        }
        return text
    }

    /// Reads the stored form; anything unreadable counts as empty rather than failing a request.
    public init(encoded: String?) {
        guard let encoded, !encoded.isEmpty else { self.init(); return }
        if let buckets = Self.parseCanonical(encoded) {
            self.init(buckets: buckets)
            return
        }
        self.init(buckets: encoded.split(separator: ",").compactMap { part in
            let pair = part.split(separator: ":")
            guard pair.count == 2, let start = Int64(pair[0]), let count = Int(pair[1]), count >= 0 else { return nil }
            return Bucket(start: start, count: count)
        })
    }

    /// The form `encoded` writes (`start:count` pairs of plain digits, comma-separated), read in
    /// one pass over the bytes; nil for anything else, which the general reader above handles
    /// (signs, empty parts, numbers out of range), so both read every text alike.
    private static func parseCanonical(_ text: String) -> [Bucket]? {
        var utf8 = text
        return utf8.withUTF8 { bytes -> [Bucket]? in
            var buckets: [Bucket] = []
            buckets.reserveCapacity(bytes.count / 16 + 1)
            var index = 0
            func number() -> Int64? {
                var value: Int64 = 0
                let first = index
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                    let (times, tooLong) = value.multipliedReportingOverflow(by: 10)
                    let (sum, tooLarge) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                    if tooLong || tooLarge { return nil }
                    value = sum
                    index += 1
                }
                return index > first ? value : nil
            }
            while true {
                guard let start = number(), index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let count = number().flatMap({ Int(exactly: $0) }) else { return nil }
                buckets.append(Bucket(start: start, count: count))
                if index == bytes.count { return buckets }
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
        }
    }
}

/// The members seen recently under one key (e.g. the numbers one IP asked codes for), each with
/// when it was last seen; at most `capacity` are kept, the most recent ones.
public struct RecentSet: Sendable, Equatable {
    public private(set) var members: [String: Int64]

    public init(members: [String: Int64] = [:]) { self.members = members }

    public func distinct(since: Int64) -> Int { members.values.filter { $0 > since }.count }

    public mutating func add(_ member: String, now: Int64, since: Int64, capacity: Int = 64) {
        members = members.filter { $0.value > since }
        members[member] = now
        if members.count > capacity {
            let keep = members.sorted { $0.value > $1.value }.prefix(capacity)
            members = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }

    public var encoded: String {
        members.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }

    public init(encoded: String?) {
        var members: [String: Int64] = [:]
        for part in (encoded ?? "").split(separator: ",") {
            let pair = part.split(separator: ":")
            if pair.count == 2, let at = Int64(pair[1]) { members[String(pair[0])] = at }
        }
        self.members = members
    }
}
