import Foundation
import SandiCore
import SandiTesting
import Testing

@Suite("Nothing is lost on restart")
struct RestartTests {
    @Test("sends queued when the service stopped go out after the next start, with the same code")
    func queuedSendsSurvive() async throws {
        let clock = ManualClock()
        let first = try await APIHarness.make(clock: clock)
        let idBox = LockedBox<String>()
        try await first.run(keepFiles: true) { api in
            idBox.set(try await api.start(extra: #","locale":"en""#))
            // Stop before the worker ran: the send is only queued.
        }
        let id = try #require(idBox.value)
        let second = try await APIHarness.make(directory: first.directory, clock: clock)
        try await second.run { api in
            let before = try await api.get("/v1/verifications/\(id)", key: first.key)
            #expect(before["status"] == "pending")
            _ = try await second.system.worker.runOnce()
            let after = try await api.get("/v1/verifications/\(id)", key: first.key)
            var statuses: [String] = []
            if case .array(let deliveries)? = after["deliveries"] { statuses = deliveries.compactMap { $0.objectValue?["status"]?.stringValue } }
            #expect(statuses == ["delivered"], "the queued send went out after the restart")
            let outbox = try await api.get("/v1/dev/outbox?to=%2B6281234567890", key: first.key)
            guard case .array(let messages)? = outbox["messages"], let code = messages.first?.objectValue?["code"]?.stringValue else {
                throw TestFailure("no message")
            }
            let check = try await api.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#, key: first.key)
            #expect(check["valid"] == true)
        }
    }
}

/// A value set inside a sendable closure and read after it.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    func set(_ value: Value) { lock.lock(); stored = value; lock.unlock() }
    var value: Value? { lock.lock(); defer { lock.unlock() }; return stored }
}
