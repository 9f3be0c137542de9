import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process metrics every Prometheus client library exports (`process_cpu_seconds_total`,
/// memory, descriptors, threads, start time), read afresh at each scrape of `/metrics`.
///
/// CPU time comes from `getrusage` (microseconds, any platform); the rest from `/proc/self` on
/// Linux and is left out elsewhere. `sandi bench` reads the CPU counter before and after each
/// phase to report the server's CPU time per request.
enum ProcessMetrics {
    /// The metrics in Prometheus' text format (0.0.4), each with its HELP and TYPE lines.
    static func text() -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: Double) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }
        var usage = rusage()
        #if os(Linux)
        let who = RUSAGE_SELF.rawValue
        #else
        let who = RUSAGE_SELF
        #endif
        if getrusage(who, &usage) == 0 {
            metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", seconds(usage.ru_utime) + seconds(usage.ru_stime))
        }
        #if os(Linux)
        if let stat = linuxStat() {
            metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", stat.residentBytes)
            metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", stat.virtualBytes)
            metric("process_threads", "gauge", "Number of OS threads in the process.", stat.threads)
            if let start = stat.startTime { metric("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", start) }
        }
        if let open = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // The listing's own descriptor is among them.
            metric("process_open_fds", "gauge", "Number of open file descriptors.", Double(max(0, open.count - 1)))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
            metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
        #endif
        return out
    }

    private static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }

    /// Integers as integers, the rest with up to microsecond precision.
    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.6f", value)
    }

    #if os(Linux)
    /// Fields of `/proc/self/stat` (see proc(5)): threads, start time, virtual size, resident pages.
    private static func linuxStat() -> (threads: Double, startTime: Double?, virtualBytes: Double, residentBytes: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After the command name in parentheses: field 3 (state) onwards.
        let fields = text[text.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double? { number - 3 < fields.count ? Double(fields[number - 3]) : nil }
        guard let threads = field(20), let started = field(22), let virtual = field(23), let resident = field(24) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        var startTime: Double?
        if ticks > 0, let boot = try? String(contentsOfFile: "/proc/stat", encoding: .utf8)
            .split(separator: "\n").first(where: { $0.hasPrefix("btime ") })
            .flatMap({ Double($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) }) {
            startTime = boot + started / ticks
        }
        return (threads, startTime, virtual, resident * page)
    }
    #endif
}
