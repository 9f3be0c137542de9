import Foundation
import SandiCore
import SandiTesting
import Testing

@Suite("Audit chain")
struct AuditChainTests {
    /// Ten sealed records.
    func chain() -> [AuditRecord] {
        let records = (1...10).map { i in
            AuditRecord(seq: Int64(i), eventID: "evt_\(i)", tenantID: "ten_a", verificationID: "ver_\(i % 3)", type: "delivery.sent",
                        createdAtMillis: 1_795_000_000_000 + Int64(i), data: #"{"n":\#(i)}"#, previousHash: nil, hash: nil)
        }
        let links = AuditChain.seal(records, after: nil)
        return zip(records, links).map { record, link in
            var sealed = record
            sealed.previousHash = link.previous
            sealed.hash = link.hash
            return sealed
        }
    }

    @Test("an untouched chain is intact; unsealed records at the end are counted, not blamed")
    func intact() {
        var records = chain()
        #expect(AuditChain.verify(records) == .intact(sealed: 10, unsealed: 0))
        records.append(AuditRecord(seq: 11, eventID: "evt_11", tenantID: "ten_a", verificationID: nil, type: "x", createdAtMillis: 0, data: "{}", previousHash: nil, hash: nil))
        #expect(AuditChain.verify(records) == .intact(sealed: 10, unsealed: 1))
    }

    @Test("an altered record is named")
    func altered() {
        var records = chain()
        records[4].data = #"{"n":999}"#
        guard case .broken(let seq, let id, let reason) = AuditChain.verify(records) else { Issue.record("not detected"); return }
        #expect(seq == 5 && id == "evt_5" && reason.contains("altered"))
        var retyped = chain()
        retyped[6].type = "verification.approved"
        #expect(AuditChain.verify(retyped).isBroken(at: 7))
    }

    @Test("a removed record breaks the link of the one after it")
    func removed() {
        var records = chain()
        records.remove(at: 3)
        #expect(AuditChain.verify(records).isBroken(at: 5))
        var last = chain()
        last.removeLast()
        #expect(AuditChain.verify(last) == .intact(sealed: 9, unsealed: 0), "removing the newest record needs the checkpointed head to notice")
    }

    @Test("reordered records are named")
    func reordered() {
        var records = chain()
        records.swapAt(2, 3)
        #expect(AuditChain.verify(records).isBroken(at: 4))
        var renumbered = chain()
        (renumbered[2].seq, renumbered[3].seq) = (renumbered[3].seq, renumbered[2].seq)
        renumbered.swapAt(2, 3)
        #expect(AuditChain.verify(renumbered).isBroken(at: 3), "moving records by changing their positions breaks the hashes")
    }

    @Test("a purge keeps the rest verifiable from a checkpoint")
    func checkpoint() {
        let records = chain()
        let kept = Array(records[5...])
        #expect(AuditChain.verify(kept, checkpoint: records[4].hash) == .intact(sealed: 5, unsealed: 0))
        #expect(AuditChain.verify(kept).isBroken(at: 6), "without the checkpoint the first kept record does not link")
    }

    @Test("retention through the tool: old events go, the checkpoint is stored, verify stays intact and new events continue the chain")
    func retentionTool() async throws {
        let store = MemoryStore()
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        for i in 0..<4 { _ = try await store.create(try Fixtures.creation(to: "+62812000001\(i)", now: t0)) }
        let tool = AuditTool(store: store)
        #expect(try await tool.verify() == .intact(sealed: 8, unsealed: 0))
        #expect(try await tool.purge(before: t0.addingTimeInterval(1)) == 8)
        #expect(try await store.auditCheckpoint()?.seq == 8)
        _ = try await store.create(try Fixtures.creation(to: "+628120000099", now: t0.addingTimeInterval(10)))
        #expect(try await tool.verify() == .intact(sealed: 2, unsealed: 0), "the chain goes on from the checkpoint")
        var lines: [String] = []
        try await tool.export(since: nil, format: .jsonl) { lines.append($0) }
        #expect(lines.count == 2 && lines[0].contains("\"seq\":9"))
    }
}

extension AuditChain.Verdict {
    func isBroken(at seq: Int64) -> Bool {
        if case .broken(let s, _, _) = self { return s == seq }
        return false
    }
}
