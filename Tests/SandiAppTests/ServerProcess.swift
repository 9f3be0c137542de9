import Foundation
import Synchronization

/// The real `sandi` binary run as a child process, its output collected as it comes.
final class ServerProcess: Sendable {
    let process: Process
    private let output = Mutex<(stdout: String, stderr: String, waiters: [(String, Bool, CheckedContinuation<Bool, Never>)])>(("", "", []))

    /// The `sandi` executable next to the test bundle (built by `swift build`), or `$SANDI_BINARY`.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["SANDI_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !directory.path.hasSuffix("/debug") && !directory.path.hasSuffix("/release") && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("sandi")
    }

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw TestFailure("no sandi binary at \(Self.binary.path): run `swift build` before `swift test` (scripts/test.sh does)")
        }
        process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("SANDI_") { env[key] = nil }
        process.environment = env.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Each pipe is drained by a thread of its own with blocking reads until end of file.
        // (`readabilityHandler` keeps a dispatch source on the descriptor after EOF, which crashed
        // the test process in libdispatch once descriptors were reused.)
        for (handle, toStderr) in [(out.fileHandleForReading, false), (err.fileHandleForReading, true)] {
            let thread = Thread { [weak self] in
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    self?.append(data, toStderr: toStderr)
                }
            }
            thread.start()
        }
    }

    private func append(_ data: Data, toStderr: Bool) {
        guard !data.isEmpty else { return }
        let text = String(decoding: data, as: UTF8.self)
        let ready = output.withLock { state -> [CheckedContinuation<Bool, Never>] in
            if toStderr { state.stderr += text } else { state.stdout += text }
            var fired: [CheckedContinuation<Bool, Never>] = []
            state.waiters.removeAll { needle, inStderr, continuation in
                guard (inStderr ? state.stderr : state.stdout).contains(needle) else { return false }
                fired.append(continuation)
                return true
            }
            return fired
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    var stdout: String { output.withLock { $0.stdout } }
    var stderr: String { output.withLock { $0.stderr } }

    /// Waits until `needle` appears on stderr (or stdout), at most `seconds`.
    func waitFor(_ needle: String, inStderr: Bool = true, seconds: Double = 30) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let already = self.output.withLock { state -> Bool in
                        if (inStderr ? state.stderr : state.stdout).contains(needle) { return true }
                        state.waiters.append((needle, inStderr, continuation))
                        return false
                    }
                    if already { continuation.resume(returning: true) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                let pending = self.output.withLock { state -> [CheckedContinuation<Bool, Never>] in
                    defer { state.waiters.removeAll { $0.0 == needle } }
                    return state.waiters.filter { $0.0 == needle }.map(\.2)
                }
                for continuation in pending { continuation.resume(returning: false) }
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// The port from the "Sandi listening" log line.
    func listeningPort() async throws -> Int {
        guard await waitFor("Sandi listening") else { throw TestFailure("server did not start:\n\(stderr)") }
        guard let range = stderr.range(of: #"url=http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let port = Int(stderr[range].split(separator: ":").last ?? "") else { throw TestFailure("no port in:\n\(stderr)") }
        return port
    }

    /// Sends a signal and waits for the exit status.
    /// Signals the process and waits for it to exit; one that has not exited after 60 s is
    /// killed (the test then sees status -1 and the tail of its log, instead of hanging).
    func stop(signal: Int32 = SIGTERM) async -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard !process.isRunning else {
            print("process \(process.processIdentifier) did not exit within 60 s of signal \(signal); its log ends:\n" + String(stderr.suffix(3000)))
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
            return -1
        }
        return process.terminationStatus
    }

    /// Runs the binary to completion and returns (status, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String, String) {
        let server = try ServerProcess(arguments, environment: environment)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                server.process.waitUntilExit()
                continuation.resume()
            }
        }
        // Let the pipe handlers drain what the process wrote before it ended.
        _ = await server.waitFor("\u{0}never", seconds: 0.2)
        return (server.process.terminationStatus, server.stdout, server.stderr)
    }
}
