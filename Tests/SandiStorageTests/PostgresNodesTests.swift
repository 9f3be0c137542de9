import Foundation
import SandiCore
import SandiPostgres
import SandiTesting
import Testing

/// Two stores with pools of their own on one schema: two Sandi nodes as the database sees them.
@Suite("PostgreSQL: two nodes on one database")
struct PostgresNodesTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    /// Runs `body` with two stores (nodes) on one fresh schema.
    func withNodes(_ body: (PostgresStore, PostgresStore) async throws -> Void) async throws {
        var options = try TestPostgres.options()
        options.maxConnections = 8
        let a = try await PostgresStore.open(options, migrate: true)
        let b = try await PostgresStore.open(options, migrate: true)
        do {
            try await body(a, b)
        } catch {
            try? await a.dropOwnSchema()
            try? await a.close()
            try? await b.close()
            throw error
        }
        try await a.dropOwnSchema()
        try await a.close()
        try await b.close()
    }

    @Test("starts for one destination racing on both nodes leave exactly one live code")
    func oneLiveCode() async throws {
        try await withNodes { a, b in
            let creations = try (0..<40).map { i in try Fixtures.creation(now: t0.addingTimeInterval(Double(i) / 1000)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, c) in creations.enumerated() { group.addTask { _ = try await (i % 2 == 0 ? a : b).create(c) } }
                try await group.waitForAll()
            }
            var live = 0
            for c in creations where try await a.verification(id: c.verification.id, tenantID: "ten_a")?.status == .pending { live += 1 }
            #expect(live == 1, "one live code, not \(live)")
            #expect(try await a.pendingJobCount() == 1, "the superseded codes' sends were withdrawn")
        }
    }

    @Test("jobs claimed from both nodes at once: each exactly once; a lapsed lease passes to the other node")
    func claims() async throws {
        try await withNodes { a, b in
            for i in 0..<60 { _ = try await a.create(try Fixtures.creation(to: "+62812000\(String(format: "%04d", i))", now: t0)) }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for node in [a, b, a, b] {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let batch = try await node.claimDue(now: t0, owner: "\(ObjectIdentifier(node))", leaseSeconds: 30, limit: 7)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.job.id)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claimed.count == 60 && Set(claimed).count == 60, "\(claimed.count) claims of \(Set(claimed).count) jobs")

            let c = try Fixtures.creation(to: "+6281299990000", now: t0)
            _ = try await a.create(c)
            let first = try await a.claimDue(now: t0, owner: "node-a", leaseSeconds: 5, limit: 10)
            #expect(first.count == 1)
            #expect(try await b.claimDue(now: t0.addingTimeInterval(4), owner: "node-b", leaseSeconds: 5, limit: 10).isEmpty, "leased to node a")
            let takeover = try await b.claimDue(now: t0.addingTimeInterval(6), owner: "node-b", leaseSeconds: 5, limit: 10)
            #expect(takeover.map(\.job.id) == first.map(\.job.id) && takeover.first?.attempt == 2, "node b takes the lapsed lease over")
            let late = SendOutcome(jobID: first[0].job.id, leaseOwner: "node-a", deliveryID: first[0].delivery.id, verificationID: c.verification.id,
                                   tenantID: "ten_a", status: .sent, providerMessageID: "m-a", error: nil, at: t0.addingTimeInterval(7), events: [], fallback: nil, timer: nil)
            #expect(try await a.complete(late) == false, "the node that lost the lease cannot complete the job")
            var own = late
            own.leaseOwner = "node-b"
            own.providerMessageID = "m-b"
            #expect(try await b.complete(own))
            #expect(try await a.delivery(id: first[0].delivery.id)?.providerMessageID == "m-b")
        }
    }

    @Test("risk counters are shared: increments from both nodes at once all count")
    func sharedCounters() async throws {
        try await withNodes { a, b in
            let expires = t0.addingTimeInterval(600)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<100 {
                    let node = i % 2 == 0 ? a : b
                    group.addTask {
                        try await node.updateRiskState(keys: ["lim|ten_a|dest|+6281234567890", "lim|ten_a|ip|10.0.0.1"], now: t0) { state in
                            var write = RiskStateWrite()
                            for key in ["lim|ten_a|dest|+6281234567890", "lim|ten_a|ip|10.0.0.1"] {
                                write.values[key] = RiskStateValue(String((state[key].flatMap { Int($0) } ?? 0) + 1), expiresAt: expires)
                            }
                            return ((), write)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let counts = try await b.riskStates(prefix: "lim|ten_a|", now: t0, limit: 10)
            #expect(counts == ["lim|ten_a|dest|+6281234567890": "100", "lim|ten_a|ip|10.0.0.1": "100"], "\(counts)")
        }
    }

    @Test("an idempotency key holds across nodes: one request proceeds, the rest wait or replay")
    func idempotency() async throws {
        try await withNodes { a, b in
            let outcomes = try await withThrowingTaskGroup(of: IdempotencyBegin.self) { group in
                for i in 0..<10 {
                    group.addTask { try await (i % 2 == 0 ? a : b).beginIdempotent(tenantID: "ten_a", scope: "start", key: "k1", requestHash: "h", now: t0) }
                }
                return try await group.reduce(into: [IdempotencyBegin]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .proceed }.count == 1 && outcomes.filter { $0 == .inProgress }.count == 9)
            let response = StoredResponse(status: 201, body: Array("{}".utf8), contentType: "application/json")
            try await a.finishIdempotent(tenantID: "ten_a", scope: "start", key: "k1", response: response, now: t0)
            #expect(try await b.beginIdempotent(tenantID: "ten_a", scope: "start", key: "k1", requestHash: "h", now: t0) == .replay(response))
            #expect(try await b.beginIdempotent(tenantID: "ten_a", scope: "start", key: "k1", requestHash: "other", now: t0) == .mismatch)
        }
    }

    @Test("both nodes writing and sealing at once: one audit chain, every event in it once, intact")
    func oneChain() async throws {
        try await withNodes { a, b in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    let node = i % 2 == 0 ? a : b
                    group.addTask { _ = try await node.create(try Fixtures.creation(to: "+62813000\(String(format: "%04d", i))", now: t0)) }
                    if i % 5 == 0 { group.addTask { _ = try await (i % 2 == 0 ? b : a).sealAudit(limit: 7) } }
                }
                try await group.waitForAll()
            }
            while try await a.sealAudit(limit: 100) > 0 {}
            let records = try await b.auditRecords(afterSeq: 0, limit: 10_000)
            #expect(records.count == 80 && Set(records.map(\.eventID)).count == 80, "every event once: \(records.count)")
            #expect(AuditChain.verify(records) == .intact(sealed: 80, unsealed: 0))
        }
    }
}
