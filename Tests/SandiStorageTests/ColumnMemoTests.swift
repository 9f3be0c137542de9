import Foundation
import SandiCore
import SandiStorage
import Testing

@Suite("Decoded column memo")
struct ColumnMemoTests {
    @Test("gives what a decode gives, for texts seen before and new ones, and stays within its bound")
    func memo() throws {
        let memo = BoundedMemo.decoding(RiskAssessment.self, capacity: 8, maxLength: 200)
        let texts = (0..<20).map { #"{"action":"allow","level":"low","reasons":["r\#($0)"],"score":\#($0)}"# }
        for round in 0..<3 {
            for text in texts {
                #expect(try memo.decode(text) == JSONColumn.decode(RiskAssessment.self, text), "round \(round)")
                #expect(memo.count <= 8)
            }
        }
        let long = #"{"action":"allow","level":"low","reasons":["\#(String(repeating: "x", count: 300))"],"score":1}"#
        let before = memo.count
        #expect(try memo.decode(long).reasons.first?.count == 300)
        #expect(memo.count == before, "a long text is decoded, not kept")
        #expect(throws: (any Error).self) { try memo.decode(#"{"action":"#) }
        #expect(memo.count == before)
    }
}

@Suite("Encoded column memo")
struct EncodedColumnMemoTests {
    @Test("gives the encoder's text for values seen before and new ones, and stays within its bound")
    func memo() throws {
        let memo = BoundedMemo.encoding(DeliveryPlan.self, capacity: 4, maxLength: 120)
        let plans = (0..<10).map { DeliveryPlan(steps: [PlanStep(channel: .whatsapp, timeoutSeconds: 30 + $0), PlanStep(channel: .sms)]) }
        for _ in 0..<3 {
            for plan in plans {
                #expect(try memo.encode(plan) == JSONColumn.encode(plan))
                #expect(memo.count <= 4)
            }
        }
        let long = DeliveryPlan(steps: Array(repeating: PlanStep(channel: .voice, timeoutSeconds: 60), count: 12))
        let before = memo.count
        #expect(try memo.encode(long) == JSONColumn.encode(long))
        #expect(memo.count == before, "a long text is not kept")
    }
}
