import Foundation

/// Formats benchmark rounds: per-round figures and medians of the ratios.
public enum BenchReport {
    public static func render(_ rounds: [LoadBenchmark.Round], concurrency: Int, json: Bool) -> String {
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        let startRatio = median(rounds.map(\.startRatio))
        let checkRatio = median(rounds.map(\.checkRatio))
        let cpuMedians: [String: Double]? = {
            let phases = [("trivial", rounds.compactMap(\.trivial.serverCPUMicros)), ("start", rounds.compactMap(\.start.serverCPUMicros)),
                          ("check", rounds.compactMap(\.check.serverCPUMicros))]
            guard !rounds.isEmpty, phases.allSatisfy({ $0.1.count == rounds.count }) else { return nil }
            return Dictionary(uniqueKeysWithValues: phases.map { ($0.0, median($0.1)) })
        }()
        if json {
            struct Out: Encodable {
                let concurrency: Int
                let rounds: [LoadBenchmark.Round]
                let median_start_ratio: Double
                let median_check_ratio: Double
                let median_start_p99_ms: Double
                let median_check_p99_ms: Double
                let median_server_cpu_us: [String: Double]?
            }
            let out = Out(concurrency: concurrency, rounds: rounds, median_start_ratio: startRatio, median_check_ratio: checkRatio,
                          median_start_p99_ms: median(rounds.map(\.start.p99Ms)), median_check_p99_ms: median(rounds.map(\.check.p99Ms)),
                          median_server_cpu_us: cpuMedians)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return (try? String(decoding: encoder.encode(out), as: UTF8.self)) ?? "{}"
        }
        var lines = ["concurrency \(concurrency)", "round  phase     req/s     p50 ms   p99 ms   errors  ratio  server CPU µs/req"]
        for (index, round) in rounds.enumerated() {
            for (name, f, ratio) in [("trivial", round.trivial, 1.0), ("start", round.start, round.startRatio), ("check", round.check, round.checkRatio)] {
                let cpu = f.serverCPUMicros.map { String(format: "%17.0f", $0) } ?? String(repeating: " ", count: 14) + "n/a"
                lines.append(String(format: "%5d  %-8@ %8.0f  %8.2f %8.2f  %6d  %5.2f  ", index + 1, name as NSString, f.throughput, f.p50Ms, f.p99Ms, f.errors, ratio) + cpu)
            }
        }
        lines.append(String(format: "median ratio to trivial: start %.2f, check %.2f; median p99: start %.2f ms, check %.2f ms",
                            startRatio, checkRatio, median(rounds.map(\.start.p99Ms)), median(rounds.map(\.check.p99Ms))))
        if let cpu = cpuMedians, let trivial = cpu["trivial"], let start = cpu["start"], let check = cpu["check"] {
            lines.append(String(format: "median server CPU per request: trivial %.0f µs, start %.0f µs, check %.0f µs (start %.1f×, check %.1f× trivial's)",
                                trivial, start, check, start / max(1, trivial), check / max(1, trivial)))
        }
        return lines.joined(separator: "\n")
    }
}
