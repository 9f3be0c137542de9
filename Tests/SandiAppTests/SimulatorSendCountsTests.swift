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
        // A long run of new numbers: always a first send, never more than two generations held.
        var fresh = true, held = 0
        for n in 0..<10_000 {
            fresh = fresh && counts.next("+62812\(n)") == 0
            held = max(held, counts.count)
        }
        #expect(fresh && held == 6)
        #expect(SendCounts().limit == 50_000)
    }
}
