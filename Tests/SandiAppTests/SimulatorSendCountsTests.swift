@testable import SandiProviders
import Testing

@Suite("Simulator: send counts for the dice")
struct SimulatorSendCountsTests {
    @Test("counts go on per key across a generation change; memory stays within two generations on a long run")
    func bounded() {
        var counts = SendCounts(limit: 3)
        #expect((0..<3).map { _ in counts.next("a") } == [0, 1, 2])
        #expect(counts.next("b") == 0 && counts.next("c") == 0)
        // The current generation is full: "d" starts a new one, and "a" to "c" move to the previous.
        #expect(counts.next("d") == 0 && counts.current.count == 1 && counts.previous.count == 3)
        #expect(counts.next("a") == 3, "a key of the previous generation keeps its count")
        #expect(counts.next("a") == 4 && counts.next("b") == 1)
        // The next change ("e") drops "c", which was not sent to since "d"'s.
        for key in ["e", "f", "g", "h", "i"] { #expect(counts.next(key) == 0) }
        #expect(counts.next("c") == 0, "a key idle for two generations starts again")
        for n in 0..<10_000 {
            #expect(counts.next("+62812\(n)") == 0)
            if counts.count > 6 { Issue.record("\(counts.count) keys held"); break }
        }
        var large = SendCounts()
        for n in 0..<120_000 { _ = large.next("+62812\(n)|sms") }
        #expect(large.count <= 2 * large.limit && large.next("+62812119999|sms") == 1)
    }
}
