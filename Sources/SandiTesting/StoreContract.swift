import Foundation
public import SandiCore

/// A broken promise of a store, with where it was found.
public struct ContractViolation: Error, CustomStringConvertible {
    public let description: String
}

/// The contract every storage adapter must keep: one suite, run against the in-memory store,
/// SQLite and (later) PostgreSQL. Each check gets a fresh, empty store from the factory.
public enum StoreContract {
    public typealias Factory = @Sendable () async throws -> any SandiStore

    /// A named check.
    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        public let run: @Sendable (any SandiStore) async throws -> Void
        public var description: String { name }
    }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
        if !condition { throw ContractViolation(description: "line \(line): \(message())") }
    }

    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    /// Every check of the contract.
    public static let all: [Check] = verificationChecks + queueChecks + otherChecks + riskChecks

    static let verificationChecks: [Check] = [
        Check(name: "create and read back, tenant-scoped") { store in
            let c = try Fixtures.creation(now: t0)
            let outcome = try await store.create(c)
            try expect(outcome == .created(superseded: [], maxAttempts: 5), "created, nothing to supersede: \(outcome)")
            let read = try await store.verification(id: c.verification.id, tenantID: "ten_a")
            try expect(read?.digest == c.verification.digest && read?.sealed == c.verification.sealed, "digest and seal round-trip")
            try expect(read?.plan == c.verification.plan && read?.context == c.verification.context, "plan and context round-trip")
            try expect(read?.expiresAt == c.verification.expiresAt && read?.resendAvailableAt == c.verification.resendAvailableAt, "times round-trip")
            try expect(read?.deliveries.map(\.id) == c.verification.deliveries.map(\.id), "deliveries round-trip")
            try expect(read?.deliveries.first?.status == .queued, "first delivery queued")
            try expect(try await store.verification(id: c.verification.id, tenantID: "ten_b") == nil, "another tenant sees nothing")
            try expect(try await store.events(verificationID: c.verification.id, tenantID: "ten_a").map(\.type) == ["verification.created", "delivery.queued"], "events oldest first")
            try expect(try await store.events(verificationID: c.verification.id, tenantID: "ten_b").isEmpty, "events are tenant-scoped")
        },
        Check(name: "a new verification supersedes the live one of the same destination and purpose") { store in
            let first = try Fixtures.creation(now: t0)
            _ = try await store.create(first)
            let otherPurpose = try Fixtures.creation(purpose: .login, now: t0)
            _ = try await store.create(otherPurpose)
            let otherTenant = try Fixtures.creation(tenant: "ten_b", now: t0)
            _ = try await store.create(otherTenant)
            let second = try Fixtures.creation(now: t0.addingTimeInterval(5))
            let outcome = try await store.create(second)
            try expect(outcome == .created(superseded: [first.verification.id], maxAttempts: 5), "supersedes exactly the first, got \(outcome)")
            let old = try await store.verification(id: first.verification.id, tenantID: "ten_a")
            try expect(old?.status == .canceled && old?.sealed == nil, "old one canceled and its sealed code wiped")
            try expect(old?.deliveries.first?.status == .canceled, "old queued send withdrawn")
            try expect(try await store.verification(id: otherPurpose.verification.id, tenantID: "ten_a")?.status == .pending, "other purpose untouched")
            try expect(try await store.verification(id: otherTenant.verification.id, tenantID: "ten_b")?.status == .pending, "other tenant untouched")
            let events = try await store.events(verificationID: first.verification.id, tenantID: "ten_a")
            try expect(events.last?.type == "verification.canceled" && events.last?.data["reason"] == "superseded", "canceled event with reason")
            let claimed = try await store.claimDue(now: t0.addingTimeInterval(10), owner: "w", leaseSeconds: 30, limit: 10)
            try expect(!claimed.contains { $0.verification.id == first.verification.id }, "old send never claimed")
        },
        Check(name: "live verification: pending and unexpired only") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            try expect(try await store.liveVerification(tenantID: "ten_a", to: c.verification.to, purpose: .passwordReset, now: t0)?.id == c.verification.id, "found")
            try expect(try await store.liveVerification(tenantID: "ten_a", to: c.verification.to, purpose: .login, now: t0) == nil, "purpose-bound")
            try expect(try await store.liveVerification(tenantID: "ten_a", to: c.verification.to, purpose: .passwordReset, now: t0.addingTimeInterval(301)) == nil, "not after expiry")
        },
        Check(name: "wrong codes use attempts and lock at the limit") { store in
            let c = try Fixtures.creation(now: t0, maxAttempts: 3)
            _ = try await store.create(c)
            let id = c.verification.id
            func wrong(_ at: Double) -> CheckRecord { CheckRecord(verificationID: id, tenantID: "ten_a", valid: false, now: t0.addingTimeInterval(at), grant: nil, failedCheckWindowSeconds: 3600) }
            guard case .rejected(let a) = try await store.applyCheck(wrong(1)) else { throw ContractViolation(description: "first wrong code rejected") }
            try expect(a.attemptsRemaining == 2 && a.status == .pending, "2 left")
            _ = try await store.applyCheck(wrong(2))
            guard case .rejected(let c3) = try await store.applyCheck(wrong(3)) else { throw ContractViolation(description: "third rejected") }
            try expect(c3.status == .locked && c3.attemptsRemaining == 0 && c3.sealed == nil, "locked, sealed code wiped")
            let right = CheckRecord(verificationID: id, tenantID: "ten_a", valid: true, now: t0.addingTimeInterval(4), grant: nil, failedCheckWindowSeconds: 3600)
            guard case .unchanged(let after) = try await store.applyCheck(right) else { throw ContractViolation(description: "right code after lock changes nothing") }
            try expect(after.status == .locked, "stays locked")
            let count = try await store.failedChecks(tenantID: "ten_a", to: c.verification.to, purpose: .passwordReset, now: t0.addingTimeInterval(5), windowSeconds: 3600)
            try expect(count.count == 3, "3 failures counted per destination, got \(count.count)")
            try expect(try await store.applyCheck(CheckRecord(verificationID: id, tenantID: "ten_b", valid: true, now: t0, grant: nil, failedCheckWindowSeconds: 3600)) == .notFound, "other tenant: not found")
        },
        Check(name: "an approving check writes its follow-up (risk state, notice, events) with it; a check that does not approve writes none") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let id = c.verification.id
            func followUp(_ key: String, _ n: Int) -> (ApprovalFollowUp, Notice) {
                let notice = Notice(tenantID: "ten_a", verificationID: id, kind: .passwordReset, channel: .sms, to: c.verification.to,
                                    country: "ID", operator: nil, locale: "en", purpose: .passwordReset, createdAt: t0)
                let follow = ApprovalFollowUp(riskKeys: [key], learn: { state in
                    RiskStateWrite(values: [key: RiskStateValue(String(Int(state[key] ?? "0")! + n), expiresAt: t0.addingTimeInterval(3600))],
                                   events: [Event(tenantID: "ten_a", verificationID: id, type: "risk.learned", createdAt: t0)])
                }, notice: (notice, Event(tenantID: "ten_a", verificationID: id, type: "notice.queued", createdAt: t0, data: ["notice_id": .string(notice.id)])))
                return (follow, notice)
            }
            try await store.updateRiskState(keys: ["prof|ten_a|k"], now: t0) { _ in
                ((), RiskStateWrite(values: ["prof|ten_a|k": RiskStateValue("40", expiresAt: t0.addingTimeInterval(3600))]))
            }
            let wrong = CheckRecord(verificationID: id, tenantID: "ten_a", valid: false, now: t0.addingTimeInterval(1), grant: nil, failedCheckWindowSeconds: 3600)
            guard case .rejected = try await store.applyCheck(wrong, approval: followUp("prof|ten_a|k", 1).0)
            else { throw ContractViolation(description: "a wrong code is rejected") }
            let right = CheckRecord(verificationID: id, tenantID: "ten_a", valid: true, now: t0.addingTimeInterval(2), grant: nil, failedCheckWindowSeconds: 3600)
            let (follow, notice) = followUp("prof|ten_a|k", 2)
            guard case .approved(let after) = try await store.applyCheck(right, approval: follow), after.status == .approved
            else { throw ContractViolation(description: "a right code approves") }
            let (again, second) = followUp("prof|ten_a|k", 100)
            guard case .unchanged = try await store.applyCheck(right, approval: again)
            else { throw ContractViolation(description: "a second right code changes nothing") }
            try expect(try await store.riskStates(prefix: "prof|ten_a|k", now: t0.addingTimeInterval(3), limit: 5) == ["prof|ten_a|k": "42"],
                       "learned once, from the state as it was (40 + 2)")
            let notices = try await store.notices(verificationID: id, tenantID: "ten_a")
            try expect(notices.map(\.id) == [notice.id] && !notices.contains { $0.id == second.id }, "one notice, the approving check's: \(notices.map(\.id))")
            let types = try await store.events(verificationID: id, tenantID: "ten_a").map(\.type)
            try expect(types.filter { $0 == "risk.learned" }.count == 1 && types.filter { $0 == "notice.queued" }.count == 1
                       && types.filter { $0 == "verification.approved" }.count == 1, "each event once: \(types)")
        },
        Check(name: "approval happens once, even under concurrent checks, and stores the grant") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let id = c.verification.id
            let results = try await withThrowingTaskGroup(of: CheckApplied.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        let grant = Grant(tokenHash: "hash-\(i)", tenantID: "ten_a", verificationID: id, userRef: "u-1", to: c.verification.to,
                                          purpose: .passwordReset, createdAt: t0, expiresAt: t0.addingTimeInterval(600))
                        return try await store.applyCheck(CheckRecord(verificationID: id, tenantID: "ten_a", valid: true, now: t0.addingTimeInterval(1), grant: grant, failedCheckWindowSeconds: 3600))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let approvals = results.filter { if case .approved = $0 { true } else { false } }
            try expect(approvals.count == 1, "exactly one approval, got \(approvals.count)")
            let v = try await store.verification(id: id, tenantID: "ten_a")
            try expect(v?.status == .approved && v?.sealed == nil, "approved, sealed code wiped")
            var redeemed = 0
            for i in 0..<8 {
                if case .redeemed = try await store.redeemGrant(tokenHash: "hash-\(i)", tenantID: "ten_a", now: t0.addingTimeInterval(2)) { redeemed += 1 }
            }
            try expect(redeemed == 1, "only the winning check's grant exists, got \(redeemed)")
        },
        Check(name: "approval resets the per-destination failure count; the window forgets old failures") { store in
            let first = try Fixtures.creation(now: t0)
            _ = try await store.create(first)
            _ = try await store.applyCheck(CheckRecord(verificationID: first.verification.id, tenantID: "ten_a", valid: false, now: t0, grant: nil, failedCheckWindowSeconds: 100))
            let second = try Fixtures.creation(now: t0.addingTimeInterval(1))
            _ = try await store.create(second)
            _ = try await store.applyCheck(CheckRecord(verificationID: second.verification.id, tenantID: "ten_a", valid: false, now: t0.addingTimeInterval(2), grant: nil, failedCheckWindowSeconds: 100))
            var count = try await store.failedChecks(tenantID: "ten_a", to: first.verification.to, purpose: .passwordReset, now: t0.addingTimeInterval(3), windowSeconds: 100)
            try expect(count.count == 2, "failures add up across verifications, got \(count.count)")
            count = try await store.failedChecks(tenantID: "ten_a", to: first.verification.to, purpose: .passwordReset, now: t0.addingTimeInterval(200), windowSeconds: 100)
            try expect(count.count == 0, "forgotten after the window")
            _ = try await store.applyCheck(CheckRecord(verificationID: second.verification.id, tenantID: "ten_a", valid: true, now: t0.addingTimeInterval(4), grant: nil, failedCheckWindowSeconds: 100))
            count = try await store.failedChecks(tenantID: "ten_a", to: first.verification.to, purpose: .passwordReset, now: t0.addingTimeInterval(5), windowSeconds: 100)
            try expect(count.count == 0, "approval resets")
        },
        Check(name: "starts are capped by the destination's recent wrong codes, and refused at the cap") { store in
            let first = try Fixtures.creation(now: t0)
            _ = try await store.create(first)
            for i in 0..<3 {
                _ = try await store.applyCheck(CheckRecord(verificationID: first.verification.id, tenantID: "ten_a", valid: false, now: t0.addingTimeInterval(Double(i)), grant: nil, failedCheckWindowSeconds: 600))
            }
            var next = try Fixtures.creation(now: t0.addingTimeInterval(10))
            next.failedCheckCap = 5
            next.failedCheckWindowSeconds = 600
            try expect(try await store.create(next) == .created(superseded: [first.verification.id], maxAttempts: 2), "5 allowed, 3 used: 2 attempts")
            try expect(try await store.verification(id: next.verification.id, tenantID: "ten_a")?.maxAttempts == 2, "stored capped")
            for i in 0..<2 {
                _ = try await store.applyCheck(CheckRecord(verificationID: next.verification.id, tenantID: "ten_a", valid: false, now: t0.addingTimeInterval(20 + Double(i)), grant: nil, failedCheckWindowSeconds: 600))
            }
            var refused = try Fixtures.creation(now: t0.addingTimeInterval(30))
            refused.failedCheckCap = 5
            refused.failedCheckWindowSeconds = 600
            try expect(try await store.create(refused) == .limited(lastFailedAt: t0.addingTimeInterval(21)), "refused at the cap")
            try expect(try await store.verification(id: refused.verification.id, tenantID: "ten_a") == nil, "nothing stored")
            try expect(try await store.pendingJobCount() == 0, "nothing queued")
            var later = try Fixtures.creation(now: t0.addingTimeInterval(700))
            later.failedCheckCap = 5
            later.failedCheckWindowSeconds = 600
            try expect(try await store.create(later) == .created(superseded: [], maxAttempts: 5), "the window forgets")
        },
        Check(name: "checks after expiry change nothing; expireDue marks and withdraws") { store in
            let c = try Fixtures.creation(now: t0, ttl: 60)
            _ = try await store.create(c)
            let late = t0.addingTimeInterval(61)
            guard case .unchanged = try await store.applyCheck(CheckRecord(verificationID: c.verification.id, tenantID: "ten_a", valid: true, now: late, grant: nil, failedCheckWindowSeconds: 60))
            else { throw ContractViolation(description: "expired: unchanged") }
            try expect(try await store.expireDue(now: late, limit: 100) == 1, "one expired")
            let v = try await store.verification(id: c.verification.id, tenantID: "ten_a")
            try expect(v?.status == .expired && v?.sealed == nil && v?.deliveries.first?.status == .canceled, "expired, sealed wiped, send withdrawn")
            try expect(try await store.events(verificationID: c.verification.id, tenantID: "ten_a").last?.type == "verification.expired", "expired event")
            try expect(try await store.expireDue(now: late, limit: 100) == 0, "only once")
        },
        Check(name: "resend applies only to an unchanged pending verification with sends left") { store in
            let c = try Fixtures.creation(now: t0, maxSends: 2)
            _ = try await store.create(c)
            let v = c.verification
            func resend(expected: Int, at: Double) -> ResendRecord {
                let (d, j) = Fixtures.delivery(for: v, channel: .sms, planIndex: 1, now: t0.addingTimeInterval(at))
                return ResendRecord(verificationID: v.id, tenantID: "ten_a", expectedSendsUsed: expected, channel: .sms, planIndex: 1, delivery: d, job: j,
                                    resendAvailableAt: t0.addingTimeInterval(at + 60), now: t0.addingTimeInterval(at), events: [])
            }
            try expect(try await store.applyResend(resend(expected: 0, at: 31)) == false, "stale expectation refused")
            try expect(try await store.applyResend(resend(expected: 1, at: 31)) == true, "applied")
            let after = try await store.verification(id: v.id, tenantID: "ten_a")
            try expect(after?.sendsUsed == 2 && after?.resends == 1 && after?.channel == .sms && after?.deliveries.count == 2, "sends, channel and delivery updated")
            try expect(try await store.applyResend(resend(expected: 2, at: 100)) == false, "no sends left")
        },
        Check(name: "cancel: pending once; unknown or foreign is nil") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            try expect(try await store.cancel(id: c.verification.id, tenantID: "ten_b", now: t0) == nil, "foreign: nil")
            try expect(try await store.cancel(id: "ver_unknown", tenantID: "ten_a", now: t0) == nil, "unknown: nil")
            try expect(try await store.cancel(id: c.verification.id, tenantID: "ten_a", now: t0) == true, "canceled")
            try expect(try await store.cancel(id: c.verification.id, tenantID: "ten_a", now: t0) == false, "not pending anymore")
            let v = try await store.verification(id: c.verification.id, tenantID: "ten_a")
            try expect(v?.status == .canceled && v?.sealed == nil && v?.deliveries.first?.status == .canceled, "canceled and withdrawn")
        },
    ]

    static let queueChecks: [Check] = [
        Check(name: "jobs are leased: one owner at a time, reclaimed after the lease") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            try expect(try await store.pendingJobCount() == 1, "one pending job")
            try expect(try await store.nextDueAt() == t0, "due now")
            let first = try await store.claimDue(now: t0, owner: "a", leaseSeconds: 30, limit: 10)
            try expect(first.count == 1 && first[0].attempt == 1 && first[0].delivery.id == c.verification.deliveries[0].id, "claimed once")
            try expect(first[0].verification.sealed != nil, "the claim carries the sealed code")
            try expect(try await store.claimDue(now: t0.addingTimeInterval(10), owner: "b", leaseSeconds: 30, limit: 10).isEmpty, "leased jobs are not claimed again")
            let again = try await store.claimDue(now: t0.addingTimeInterval(31), owner: "b", leaseSeconds: 30, limit: 10)
            try expect(again.count == 1 && again[0].attempt == 2, "reclaimed after the lease ran out")
            let lost = SendOutcome(jobID: again[0].job.id, leaseOwner: "a", deliveryID: again[0].delivery.id, verificationID: c.verification.id,
                                   tenantID: "ten_a", status: .sent, providerMessageID: "m1", error: nil, at: t0.addingTimeInterval(32), events: [], fallback: nil)
            try expect(try await store.complete(lost) == false, "a former owner cannot complete")
            var won = lost
            won = SendOutcome(jobID: won.jobID, leaseOwner: "b", deliveryID: won.deliveryID, verificationID: won.verificationID, tenantID: "ten_a",
                              status: .delivered, providerMessageID: "m1", error: nil, at: t0.addingTimeInterval(32),
                              events: [Event(tenantID: "ten_a", verificationID: c.verification.id, type: "delivery.sent", createdAt: t0.addingTimeInterval(32))], fallback: nil)
            try expect(try await store.complete(won) == true, "the owner completes")
            try expect(try await store.complete(won) == false, "only once")
            let v = try await store.verification(id: c.verification.id, tenantID: "ten_a")
            try expect(v?.deliveries.first?.status == .delivered && v?.deliveries.first?.sentAt != nil && v?.deliveries.first?.deliveredAt != nil, "delivered with times")
            let pending = try await store.pendingJobCount()
            let nextDue = try await store.nextDueAt()
            try expect(pending == 0 && nextDue == nil, "queue empty")
            try expect(try await store.events(verificationID: c.verification.id, tenantID: "ten_a").last?.type == "delivery.sent", "outcome events stored")
        },
        Check(name: "sends of a verification that is no longer pending are withdrawn, not claimed") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let expired = try Fixtures.creation(to: "+6281234567891", now: t0, ttl: 30)
            _ = try await store.create(expired)
            _ = try await store.cancel(id: c.verification.id, tenantID: "ten_a", now: t0)
            try expect(try await store.claimDue(now: t0.addingTimeInterval(31), owner: "a", leaseSeconds: 30, limit: 10).isEmpty, "nothing claimable")
            let v = try await store.verification(id: expired.verification.id, tenantID: "ten_a")
            try expect(v?.deliveries.first?.status == .canceled, "expired code's send withdrawn")
        },
        Check(name: "a failed send with a fallback queues the next step atomically") { store in
            let c = try Fixtures.creation(now: t0, maxSends: 2)
            _ = try await store.create(c)
            let claimed = try await store.claimDue(now: t0, owner: "a", leaseSeconds: 30, limit: 10)
            let (next, job) = Fixtures.delivery(for: c.verification, channel: .sms, planIndex: 1, now: t0.addingTimeInterval(1))
            let outcome = SendOutcome(jobID: claimed[0].job.id, leaseOwner: "a", deliveryID: claimed[0].delivery.id, verificationID: c.verification.id,
                                      tenantID: "ten_a", status: .undeliverable, providerMessageID: nil, error: "not on whatsapp", at: t0.addingTimeInterval(1),
                                      events: [], fallback: FallbackRecord(delivery: next, job: job, events: [Event(tenantID: "ten_a", verificationID: c.verification.id, type: "delivery.fallback", createdAt: t0.addingTimeInterval(1))]))
            try expect(try await store.complete(outcome), "completed")
            let v = try await store.verification(id: c.verification.id, tenantID: "ten_a")
            try expect(v?.deliveries.map(\.status) == [.undeliverable, .queued], "failed then queued: \(v?.deliveries.map(\.status) ?? [])")
            try expect(v?.deliveries.first?.error == "not on whatsapp" && v?.deliveries.first?.failedAt != nil, "error recorded")
            try expect(v?.channel == .sms && v?.planIndex == 1 && v?.sendsUsed == 2, "verification moved to sms")
            let nextClaim = try await store.claimDue(now: t0.addingTimeInterval(1), owner: "a", leaseSeconds: 30, limit: 10)
            try expect(nextClaim.map(\.delivery.id) == [next.id], "fallback claimable")
            // No sends left: a further fallback is not applied.
            let (third, thirdJob) = Fixtures.delivery(for: c.verification, channel: .voice, planIndex: 2, now: t0.addingTimeInterval(2))
            _ = try await store.complete(SendOutcome(jobID: nextClaim[0].job.id, leaseOwner: "a", deliveryID: next.id, verificationID: c.verification.id,
                                                     tenantID: "ten_a", status: .failed, providerMessageID: nil, error: "x", at: t0.addingTimeInterval(2),
                                                     events: [], fallback: FallbackRecord(delivery: third, job: thirdJob, events: [])))
            try expect(try await store.verification(id: c.verification.id, tenantID: "ten_a")?.deliveries.count == 2, "no third send beyond max sends")
        },
        Check(name: "receipts move deliveries forward only; unknown deliveries change nothing") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let claimed = try await store.claimDue(now: t0, owner: "a", leaseSeconds: 30, limit: 10)
            _ = try await store.complete(SendOutcome(jobID: claimed[0].job.id, leaseOwner: "a", deliveryID: claimed[0].delivery.id, verificationID: c.verification.id,
                                                     tenantID: "ten_a", status: .sent, providerMessageID: "m", error: nil, at: t0, events: [], fallback: nil))
            let id = claimed[0].delivery.id
            try expect(try await store.applyReceipt(deliveryID: id, status: .read, at: t0.addingTimeInterval(3), error: nil)?.status == .read, "read (implies delivered)")
            let early = try await store.applyReceipt(deliveryID: id, status: .delivered, at: t0.addingTimeInterval(2), error: nil)
            try expect(early?.status == .read && early?.deliveredAt != nil, "late 'delivered' after 'read' keeps read")
            try expect(try await store.applyReceipt(deliveryID: id, status: .failed, at: t0.addingTimeInterval(4), error: "x")?.status == .read, "no failure after read")
            try expect(try await store.applyReceipt(deliveryID: "dlv_nope", status: .delivered, at: t0, error: nil) == nil, "unknown delivery: nil")
        },
        Check(name: "receipt timers: a job watching a sent delivery is claimed when due, with the verification's deliveries") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let send = try await store.claimDue(now: t0, owner: "a", leaseSeconds: 30, limit: 10)
            let timer = DeliveryJobRecord(kind: .fallback, deliveryID: send[0].delivery.id, verificationID: c.verification.id, tenantID: "ten_a", dueAt: t0.addingTimeInterval(40))
            _ = try await store.complete(SendOutcome(jobID: send[0].job.id, leaseOwner: "a", deliveryID: send[0].delivery.id, verificationID: c.verification.id,
                                                     tenantID: "ten_a", status: .sent, providerMessageID: "m", error: nil, at: t0, events: [], fallback: nil, timer: timer))
            try expect(try await store.nextDueAt() == t0.addingTimeInterval(40), "the timer is the next due job")
            try expect(try await store.claimDue(now: t0.addingTimeInterval(39), owner: "a", leaseSeconds: 30, limit: 10).isEmpty, "not before due")
            let due = try await store.claimDue(now: t0.addingTimeInterval(40), owner: "b", leaseSeconds: 30, limit: 10)
            try expect(due.count == 1 && due[0].job.kind == .fallback && due[0].delivery.status == .sent, "claimed with its kind and the sent delivery")
            try expect(due[0].verification.deliveries.map(\.id) == [send[0].delivery.id], "with the verification's deliveries")
            let outcome = SendOutcome(jobID: due[0].job.id, leaseOwner: "b", deliveryID: send[0].delivery.id, verificationID: c.verification.id,
                                      tenantID: "ten_a", status: .sent, providerMessageID: "m", error: nil, at: t0.addingTimeInterval(40), events: [], fallback: nil)
            try expect(try await store.complete(outcome), "closed by its owner")
            try expect(try await store.verification(id: c.verification.id, tenantID: "ten_a")?.deliveries.first?.status == .sent, "a timer's outcome leaves the delivery as it was")
            // A timer of a verification that is no longer pending is withdrawn, not claimed.
            let d = try Fixtures.creation(to: "+6281111111111", now: t0)
            _ = try await store.create(d)
            let dSend = try await store.claimDue(now: t0, owner: "a", leaseSeconds: 30, limit: 10)
            _ = try await store.complete(SendOutcome(jobID: dSend[0].job.id, leaseOwner: "a", deliveryID: dSend[0].delivery.id, verificationID: d.verification.id,
                                                     tenantID: "ten_a", status: .sent, providerMessageID: "m", error: nil, at: t0, events: [], fallback: nil,
                                                     timer: DeliveryJobRecord(kind: .fallback, deliveryID: dSend[0].delivery.id, verificationID: d.verification.id, tenantID: "ten_a", dueAt: t0.addingTimeInterval(40))))
            _ = try await store.cancel(id: d.verification.id, tenantID: "ten_a", now: t0.addingTimeInterval(1))
            try expect(try await store.claimDue(now: t0.addingTimeInterval(41), owner: "a", leaseSeconds: 30, limit: 10).isEmpty, "canceled: the timer never fires")
            try expect(try await store.pendingJobCount() == 0, "and is closed")
        },
        Check(name: "channel memory: an undeliverable answer is remembered per tenant and destination until it expires; a delivery clears it") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let claimed = try await store.claimDue(now: t0, owner: "a", leaseSeconds: 30, limit: 10)
            _ = try await store.complete(SendOutcome(jobID: claimed[0].job.id, leaseOwner: "a", deliveryID: claimed[0].delivery.id, verificationID: c.verification.id,
                                                     tenantID: "ten_a", status: .undeliverable, providerMessageID: nil, error: "not on whatsapp", at: t0,
                                                     events: [], fallback: nil, unusableUntil: t0.addingTimeInterval(1000)))
            let to = c.verification.to
            try expect(try await store.unusableChannels(tenantID: "ten_a", to: to, now: t0.addingTimeInterval(1)) == [.whatsapp], "remembered")
            try expect(try await store.unusableChannels(tenantID: "ten_b", to: to, now: t0.addingTimeInterval(1)).isEmpty, "per tenant")
            try expect(try await store.unusableChannels(tenantID: "ten_a", to: "+6281111111111", now: t0.addingTimeInterval(1)).isEmpty, "per destination")
            try expect(try await store.unusableChannels(tenantID: "ten_a", to: to, now: t0.addingTimeInterval(1000)).isEmpty, "forgotten when it expires")
            let again = try Fixtures.creation(now: t0.addingTimeInterval(2))
            _ = try await store.create(again)
            let second = try await store.claimDue(now: t0.addingTimeInterval(2), owner: "a", leaseSeconds: 30, limit: 10)
            _ = try await store.complete(SendOutcome(jobID: second[0].job.id, leaseOwner: "a", deliveryID: second[0].delivery.id, verificationID: again.verification.id,
                                                     tenantID: "ten_a", status: .delivered, providerMessageID: "m", error: nil, at: t0.addingTimeInterval(3), events: [], fallback: nil))
            try expect(try await store.unusableChannels(tenantID: "ten_a", to: to, now: t0.addingTimeInterval(4)).isEmpty, "a delivery on the channel clears it")
        },
        Check(name: "released jobs come back when due") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let claimed = try await store.claimDue(now: t0, owner: "a", leaseSeconds: 30, limit: 10)
            try await store.release(jobID: claimed[0].job.id, owner: "a", dueAt: t0.addingTimeInterval(5))
            try expect(try await store.claimDue(now: t0.addingTimeInterval(4), owner: "a", leaseSeconds: 30, limit: 10).isEmpty, "not before due")
            try expect(try await store.nextDueAt() == t0.addingTimeInterval(5), "next due reported")
            try expect(try await store.claimDue(now: t0.addingTimeInterval(5), owner: "b", leaseSeconds: 30, limit: 10).count == 1, "claimable when due")
        },
        Check(name: "many concurrent writes all land") { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<100 {
                    group.addTask {
                        _ = try await store.create(try Fixtures.creation(to: "+62812000\(String(format: "%05d", i))", now: t0))
                    }
                }
                try await group.waitForAll()
            }
            try expect(try await store.pendingJobCount() == 100, "100 jobs")
        },
        Check(name: "notices: claimed by one owner at a time, closed once by that owner, with its event") { store in
            let notice = Notice(tenantID: "ten_a", verificationID: "ver_n", kind: .passwordReset, channel: .sms, to: "+6281234567890",
                                country: "ID", operator: nil, locale: "en", purpose: .passwordReset, createdAt: t0)
            try await store.enqueueNotice(notice, event: Event(tenantID: "ten_a", verificationID: "ver_n", type: "notice.queued", createdAt: t0))
            let claimed = try await store.claimDueNotices(now: t0.addingTimeInterval(1), owner: "w1", leaseSeconds: 30, limit: 10)
            try expect(claimed.map(\.id) == [notice.id] && claimed.first?.attempts == 1, "claimed once: \(claimed.map(\.id))")
            try expect(try await store.claimDueNotices(now: t0.addingTimeInterval(2), owner: "w2", leaseSeconds: 30, limit: 10).isEmpty, "leased to w1")
            func closed(by owner: String) -> Event {
                Event(tenantID: "ten_a", verificationID: "ver_n", type: "notice.sent", createdAt: t0.addingTimeInterval(3), data: ["by": .string(owner)])
            }
            try expect(try await store.completeNotice(id: notice.id, owner: "w2", status: .sent, at: t0.addingTimeInterval(3), event: closed(by: "w2")) == false,
                       "another owner cannot close it")
            try expect(try await store.completeNotice(id: notice.id, owner: "w1", status: .sent, at: t0.addingTimeInterval(3), event: closed(by: "w1")),
                       "its owner closes it")
            try expect(try await store.completeNotice(id: notice.id, owner: "w1", status: .sent, at: t0.addingTimeInterval(4), event: closed(by: "w1")) == false,
                       "closed once")
            let events = try await store.events(verificationID: "ver_n", tenantID: "ten_a")
            try expect(events.map(\.type) == ["notice.queued", "notice.sent"] && events.last?.data["by"] == .string("w1"),
                       "one event per step that happened: \(events.map(\.type))")
            let after = try await store.notices(verificationID: "ver_n", tenantID: "ten_a")
            try expect(after.first?.status == .sent, "status stored")
            try expect(try await store.claimDueNotices(now: t0.addingTimeInterval(100), owner: "w2", leaseSeconds: 30, limit: 10).isEmpty, "done")
        },
    ]

    static let otherChecks: [Check] = [
        Check(name: "audit: events are sealed in order into one hash chain that verifies") { store in
            for i in 0..<3 { _ = try await store.create(try Fixtures.creation(to: "+62812000000\(i)", now: t0)) }
            try expect(try await store.sealAudit(limit: 4) == 4, "sealed four")
            try expect(try await store.sealAudit(limit: 100) == 2, "then the other two")
            try expect(try await store.sealAudit(limit: 100) == 0, "nothing left")
            _ = try await store.create(try Fixtures.creation(to: "+628120000009", now: t0))
            try expect(try await store.sealAudit(limit: 100) == 2, "new events continue the chain")
            let records = try await store.auditRecords(afterSeq: 0, limit: 100)
            try expect(records.count == 8 && records.map(\.seq) == (1...8).map(Int64.init), "every event, in order")
            try expect(AuditChain.verify(records) == .intact(sealed: 8, unsealed: 0), "intact: \(AuditChain.verify(records))")
            try expect(records.dropFirst().allSatisfy { $0.previousHash != nil } && records[0].previousHash == "", "linked")
            try expect(try await store.auditRecords(afterSeq: 6, limit: 100).map(\.seq) == [7, 8], "paged")
            let latest = try await store.latestAudit(beforePosition: nil, limit: 3)
            try expect(latest.count == 3 && latest.map(\.eventID) == records.suffix(3).reversed().map(\.eventID), "newest first")
            let older = try await store.latestAudit(beforePosition: latest.last?.seq, limit: 100)
            try expect(older.map(\.eventID) == records.prefix(5).reversed().map(\.eventID), "and the page before")
            try expect(older.allSatisfy { $0.hash != nil }, "with their chain hashes")
        },
        Check(name: "audit: passes that overlap (and new events among them) seal each event once, in one chain") { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<12 {
                    group.addTask { _ = try await store.create(try Fixtures.creation(to: "+6281200001\(String(format: "%02d", i))", now: t0)) }
                    group.addTask { _ = try await store.sealAudit(limit: 3) }
                }
                try await group.waitForAll()
            }
            while try await store.sealAudit(limit: 5) > 0 {}
            let records = try await store.auditRecords(afterSeq: 0, limit: 1000)
            try expect(records.count == 24 && AuditChain.verify(records) == .intact(sealed: 24, unsealed: 0), "intact: \(AuditChain.verify(records))")
            let counted = try await store.rollups(tenantID: nil, span: 60, from: t0.addingTimeInterval(-60), to: t0.addingTimeInterval(60), metrics: ["verifications"])
            try expect(counted.reduce(0) { $0 + $1.count } == 12, "each start counted once: \(counted)")
        },
        Check(name: "rollups: sealing counts each event once, in minute and hour buckets, per tenant") { store in
            for i in 0..<3 { _ = try await store.create(try Fixtures.creation(to: "+62812000000\(i)", now: t0)) }
            _ = try await store.sealAudit(limit: 3)
            _ = try await store.sealAudit(limit: 100)
            _ = try await store.sealAudit(limit: 100)
            let window = (t0.addingTimeInterval(-3600), t0.addingTimeInterval(3600))
            let minutes = try await store.rollups(tenantID: nil, span: 60, from: window.0, to: window.1, metrics: ["verifications", "verifications.country"])
            try expect(minutes.filter { $0.metric == "verifications" }.reduce(0) { $0 + $1.count } == 3, "three starts: \(minutes)")
            try expect(Set(minutes.map(\.metric)) == ["verifications", "verifications.country"], "only the metrics asked for")
            let minute = Int64(t0.timeIntervalSince1970) / 60 * 60
            try expect(minutes.allSatisfy { $0.bucket == minute && $0.span == 60 }, "in the minute of the events")
            let hours = try await store.rollups(tenantID: nil, span: 3600, from: window.0, to: window.1, metrics: ["verifications"])
            try expect(hours.reduce(0) { $0 + $1.count } == 3 && hours.allSatisfy { $0.bucket % 3600 == 0 }, "hour buckets too")
            let tenant = minutes.first?.tenantID ?? ""
            try expect(try await store.rollups(tenantID: tenant, span: 60, from: window.0, to: window.1, metrics: ["verifications"]).count == minutes.filter { $0.metric == "verifications" }.count, "by tenant")
            try expect(try await store.rollups(tenantID: "ten_nobody", span: 60, from: window.0, to: window.1, metrics: nil).isEmpty, "another tenant sees none")
            try expect(try await store.rollups(tenantID: nil, span: 60, from: t0.addingTimeInterval(3600), to: t0.addingTimeInterval(7200), metrics: nil).isEmpty, "outside the window")
        },
        Check(name: "retention: old sealed events go from the start of the log, a checkpoint keeps the rest verifiable") { store in
            for i in 0..<3 { _ = try await store.create(try Fixtures.creation(to: "+62812000000\(i)", now: t0)) }
            _ = try await store.sealAudit(limit: 100)
            for i in 3..<5 { _ = try await store.create(try Fixtures.creation(to: "+62812000000\(i)", now: t0.addingTimeInterval(86_400))) }
            try expect(try await store.auditCheckpoint() == nil, "no checkpoint before a purge")
            try expect(try await store.purgeAudit(before: t0.addingTimeInterval(3600), limit: 100) == 6, "the six old, sealed events")
            let checkpoint = try await store.auditCheckpoint()
            try expect(checkpoint?.seq == 6, "checkpoint at the last removed: \(String(describing: checkpoint))")
            try expect(try await store.purgeAudit(before: t0.addingTimeInterval(3 * 86_400), limit: 100) == 0, "unsealed events stay")
            _ = try await store.sealAudit(limit: 100)
            let rest = try await store.auditRecords(afterSeq: 0, limit: 100)
            try expect(rest.map(\.seq) == [7, 8, 9, 10], "the rest keeps its positions: \(rest.map(\.seq))")
            try expect(AuditChain.verify(rest, checkpoint: checkpoint?.hash) == .intact(sealed: 4, unsealed: 0), "verifies from the checkpoint")
            try expect(AuditChain.verify(rest) != .intact(sealed: 4, unsealed: 0), "and not without it")
            try expect(try await store.latestAudit(beforePosition: nil, limit: 100).count == 4, "the log shows what is left")
        },
        Check(name: "tenants and keys") { store in
            let a = Tenant(id: "ten_a", name: "acme", createdAt: t0)
            try await store.createTenant(a)
            var conflict = false
            do { try await store.createTenant(Tenant(id: "ten_b", name: "acme", createdAt: t0)) } catch StoreError.conflict { conflict = true }
            try expect(conflict, "names are unique")
            let (_, record) = APIKeyRecord.generate(tenantID: a.id, now: t0)
            try await store.addKey(record)
            try expect(try await store.tenant(forKeyHash: record.hash) == a, "key finds its tenant")
            let byName = try await store.tenant(named: "acme")
            let byID = try await store.tenant(id: "ten_a")
            try expect(byName == a && byID == a, "lookups")
            try expect(try await store.keys(tenantID: a.id).map(\.id) == [record.id], "listed")
            try expect(try await store.revokeKey(id: record.id, now: t0) == true, "revoked")
            try expect(try await store.revokeKey(id: record.id, now: t0) == false, "only once")
            try expect(try await store.tenant(forKeyHash: record.hash) == nil, "revoked keys find nothing")
            try expect(try await store.tenants().map(\.name) == ["acme"], "tenants listed")
            try expect(try await store.setAllowedCountries(tenantID: a.id, countries: ["ID", "MY"]), "countries set")
            try expect(try await store.tenant(id: a.id)?.allowedCountries == ["ID", "MY"], "countries read back")
            try expect(try await store.setAllowedCountries(tenantID: a.id, countries: nil), "countries cleared")
            try expect(try await store.tenant(id: a.id)?.allowedCountries == nil, "every country allowed again")
            try expect(try await store.setAllowedCountries(tenantID: "ten_none", countries: nil) == false, "unknown tenant")
        },
        Check(name: "grants: once, not after expiry, tenant-scoped") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let grant = Grant(tokenHash: "h1", tenantID: "ten_a", verificationID: c.verification.id, userRef: "u-1", to: c.verification.to,
                              purpose: .passwordReset, createdAt: t0, expiresAt: t0.addingTimeInterval(600))
            _ = try await store.applyCheck(CheckRecord(verificationID: c.verification.id, tenantID: "ten_a", valid: true, now: t0, grant: grant, failedCheckWindowSeconds: 60))
            try expect(try await store.redeemGrant(tokenHash: "h1", tenantID: "ten_b", now: t0) == .notFound, "foreign tenant: not found")
            try expect(try await store.redeemGrant(tokenHash: "h1", tenantID: "ten_a", now: t0.addingTimeInterval(601)) == .expired, "expired")
            guard case .redeemed(let g) = try await store.redeemGrant(tokenHash: "h1", tenantID: "ten_a", now: t0.addingTimeInterval(1)) else {
                throw ContractViolation(description: "redeemed")
            }
            try expect(g.verificationID == c.verification.id && g.userRef == "u-1" && g.redeemedAt != nil, "grant content")
            try expect(try await store.redeemGrant(tokenHash: "h1", tenantID: "ten_a", now: t0.addingTimeInterval(2)) == .alreadyRedeemed, "once")
            try expect(try await store.redeemGrant(tokenHash: "nope", tenantID: "ten_a", now: t0) == .notFound, "unknown")
        },
        Check(name: "risk state steps may hand out grants in the same unit (recovery); a failing step stores neither") { store in
            let grant = Grant(tokenHash: "h-rcv", tenantID: "ten_a", verificationID: "rcv_1", userRef: "u-1", to: "+6281234567890",
                              purpose: .newDevice, createdAt: t0, expiresAt: t0.addingTimeInterval(600))
            struct Refused: Error {}
            do {
                try await store.updateRiskState(keys: ["acct|ten_a|x"], now: t0) { _ -> ((), RiskStateWrite) in throw Refused() }
            } catch is Refused {}
            try await store.updateRiskState(keys: ["acct|ten_a|x"], now: t0) { _ in
                ((), RiskStateWrite(values: ["acct|ten_a|x": RiskStateValue("{}", expiresAt: .distantFuture)], grants: [grant]))
            }
            guard case .redeemed(let g) = try await store.redeemGrant(tokenHash: "h-rcv", tenantID: "ten_a", now: t0.addingTimeInterval(1)) else {
                throw ContractViolation(description: "the grant was stored")
            }
            try expect(g.verificationID == "rcv_1" && g.purpose == .newDevice && g.userRef == "u-1", "grant content")
            try expect(try await store.riskStates(prefix: "acct|ten_a|", now: t0, limit: 5) == ["acct|ten_a|x": "{}"], "value stored with it")
        },
        Check(name: "idempotency keys: proceed, in progress, replay, mismatch, 24 h") { store in
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "s", key: "k", requestHash: "h", now: t0) == .proceed, "first")
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "s", key: "k", requestHash: "h", now: t0) == .inProgress, "in progress")
            try expect(try await store.beginIdempotent(tenantID: "ten_b", scope: "s", key: "k", requestHash: "h", now: t0) == .proceed, "tenant-scoped")
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "other", key: "k", requestHash: "h", now: t0) == .proceed, "endpoint-scoped")
            let response = StoredResponse(status: 201, body: Array("{\"ok\":true}".utf8), contentType: "application/json")
            try await store.finishIdempotent(tenantID: "ten_a", scope: "s", key: "k", response: response, now: t0)
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "s", key: "k", requestHash: "h", now: t0.addingTimeInterval(60)) == .replay(response), "replay")
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "s", key: "k", requestHash: "other", now: t0) == .mismatch, "mismatch")
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "s", key: "k", requestHash: "other", now: t0.addingTimeInterval(86_401)) == .proceed, "forgotten after 24 h")
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "s2", key: "k", requestHash: "h", now: t0) == .proceed, "first use")
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "s2", key: "k", requestHash: "h", now: t0.addingTimeInterval(59)) == .inProgress, "still in progress")
            try expect(try await store.beginIdempotent(tenantID: "ten_a", scope: "s2", key: "k", requestHash: "h", now: t0.addingTimeInterval(61)) == .proceed, "a request that never finished releases its key")
            try await store.abandonIdempotent(tenantID: "ten_b", scope: "s", key: "k")
            try expect(try await store.beginIdempotent(tenantID: "ten_b", scope: "s", key: "k", requestHash: "h", now: t0) == .proceed, "abandoned keys start again")
        },
        Check(name: "outbox: one message per delivery, newest first, per tenant and destination") { store in
            let sealed = SealedCode(keyID: "k", box: "b")
            func message(_ id: String, tenant: String = "ten_a", to: String = "+6281234567890", at: Double) -> OutboxMessage {
                OutboxMessage(id: "msg_\(id)", tenantID: tenant, deliveryID: "dlv_\(id)", channel: .sms, to: to, sealedText: sealed, sealedCode: sealed, sentAt: t0.addingTimeInterval(at))
            }
            try expect(try await store.appendOutbox(message("1", at: 1)), "appended")
            try expect(try await store.appendOutbox(message("1", at: 1)) == false, "duplicate delivery ignored")
            _ = try await store.appendOutbox(message("2", at: 2))
            _ = try await store.appendOutbox(message("3", to: "+6281111111111", at: 3))
            _ = try await store.appendOutbox(message("4", tenant: "ten_b", at: 4))
            try expect(try await store.outbox(tenantID: "ten_a", to: "+6281234567890", limit: 10).map(\.deliveryID) == ["dlv_2", "dlv_1"], "newest first, by destination")
            try expect(try await store.outbox(tenantID: "ten_a", to: nil, limit: 2).map(\.deliveryID) == ["dlv_3", "dlv_2"], "limit")
            try expect(try await store.outbox(tenantID: "ten_b", to: nil, limit: 10).map(\.deliveryID) == ["dlv_4"], "tenant-scoped")
        },
    ]

    static let riskChecks: [Check] = [
        Check(name: "risk state: atomic read-decide-write, no lost updates under concurrency") { store in
            // 60 concurrent increments of one counter (and of a second, unrelated one): every one counts.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<60 {
                    group.addTask {
                        let key = "lim|ten_a|k\(i % 2)"
                        try await store.updateRiskState(keys: [key], now: t0) { state in
                            let next = (Int(state[key] ?? "0") ?? 0) + 1
                            return ((), RiskStateWrite(values: [key: RiskStateValue(String(next), expiresAt: t0.addingTimeInterval(60))]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let values = try await store.riskStates(prefix: "lim|ten_a|", now: t0, limit: 10)
            try expect(values == ["lim|ten_a|k0": "30", "lim|ten_a|k1": "30"], "every increment kept: \(values)")
        },
        Check(name: "risk state: a refused step among concurrent ones undoes only itself; other writes beside them land") { store in
            struct Refused: Error {}
            let creation = try Fixtures.creation(now: t0)
            let refused = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { _ = try await store.create(creation); return false }
                for i in 0..<60 {
                    group.addTask {
                        let key = "lim|ten_a|r\(i % 2)"
                        do {
                            try await store.updateRiskState(keys: [key], now: t0) { state in
                                if i % 10 == 0 { throw Refused() }
                                let next = (Int(state[key] ?? "0") ?? 0) + 1
                                return ((), RiskStateWrite(values: [key: RiskStateValue(String(next), expiresAt: t0.addingTimeInterval(60))]))
                            }
                            return false
                        } catch is Refused {
                            return true
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            try expect(refused == 6, "six refused: \(refused)")
            let values = try await store.riskStates(prefix: "lim|ten_a|r", now: t0, limit: 10)
            try expect(values == ["lim|ten_a|r0": "24", "lim|ten_a|r1": "30"], "every accepted increment kept, no refused one: \(values)")
            try expect(try await store.verification(id: creation.verification.id, tenantID: "ten_a")?.status == .pending, "the creation beside them landed")
        },
        Check(name: "risk state: expired values are neither read nor listed, and are purged; events are stored") { store in
            let event = Event(tenantID: "ten_a", verificationID: nil, type: "rate_limit.hit", createdAt: t0, data: ["limit": "x"])
            try await store.updateRiskState(keys: [], now: t0) { _ in
                ((), RiskStateWrite(values: [
                    "block|ten_a|62812": RiskStateValue("a", expiresAt: t0.addingTimeInterval(10)),
                    "block|ten_a|62813": RiskStateValue("b", expiresAt: t0.addingTimeInterval(100)),
                    "block|ten_b|62812": RiskStateValue("c", expiresAt: t0.addingTimeInterval(100)),
                ], events: [event]))
            }
            let later = t0.addingTimeInterval(20)
            let seen = try await store.updateRiskState(keys: ["block|ten_a|62812", "block|ten_a|62813"], now: later) { state in
                (state, RiskStateWrite())
            }
            try expect(seen == ["block|ten_a|62813": "b"], "the expired value is not read: \(seen)")
            try expect(try await store.riskStates(prefix: "block|ten_a|", now: later, limit: 10) == ["block|ten_a|62813": "b"], "listing skips expired and other tenants")
            try expect(try await store.purgeRiskState(now: later, limit: 10) == 1, "one expired value purged")
            try expect(try await store.purgeRiskState(now: later, limit: 10) == 0, "nothing left to purge")
            let sealed = try await store.sealAudit(limit: 100)
            let records = try await store.auditRecords(afterSeq: 0, limit: 100)
            try expect(sealed >= 1 && records.contains { $0.type == "rate_limit.hit" && $0.verificationID == nil }, "tenant-level events are stored and sealed")
        },
        Check(name: "a delivery is found by its provider's message id (receipts of SMPP name only that)") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let first = c.verification.deliveries[0]
            let claimed = try await store.claimDue(now: t0, owner: "w", leaseSeconds: 30, limit: 10)
            _ = try await store.complete(SendOutcome(jobID: claimed[0].job.id, leaseOwner: "w", deliveryID: first.id, verificationID: c.verification.id,
                                                     tenantID: "ten_a", status: .sent, providerMessageID: "smsc-7f", error: nil, at: t0, events: [], fallback: nil, timer: nil))
            try expect(try await store.delivery(provider: first.provider, providerMessageID: "smsc-7f")?.id == first.id, "found")
            try expect(try await store.delivery(provider: "other", providerMessageID: "smsc-7f") == nil, "scoped to the provider")
            try expect(try await store.delivery(provider: first.provider, providerMessageID: "smsc-80") == nil, "unknown id")
        },
        Check(name: "receipts teach channel memory: undeliverable is remembered, delivered is the last that worked; a failed one pulls its timer") { store in
            let c = try Fixtures.creation(now: t0)
            _ = try await store.create(c)
            let first = c.verification.deliveries[0]
            let timer = DeliveryJobRecord(kind: .fallback, deliveryID: first.id, verificationID: c.verification.id, tenantID: "ten_a", dueAt: t0.addingTimeInterval(40))
            let claimed = try await store.claimDue(now: t0, owner: "w", leaseSeconds: 30, limit: 10)
            _ = try await store.complete(SendOutcome(jobID: claimed[0].job.id, leaseOwner: "w", deliveryID: first.id, verificationID: c.verification.id,
                                                     tenantID: "ten_a", status: .sent, providerMessageID: "m1", error: nil, at: t0, events: [], fallback: nil, timer: timer))
            try expect(try await store.nextDueAt() == t0.addingTimeInterval(40), "the receipt timer waits")
            let after = try await store.applyReceipt(deliveryID: first.id, status: .undeliverable, at: t0.addingTimeInterval(2), error: "not on whatsapp",
                                                     events: [], unusableUntil: t0.addingTimeInterval(86_400))
            try expect(after?.status == .undeliverable, "applied")
            try expect(try await store.nextDueAt() == t0.addingTimeInterval(2), "the timer is due at once")
            let memory = try await store.channelMemory(tenantID: "ten_a", to: c.verification.to, now: t0.addingTimeInterval(3))
            try expect(memory.unusable == [first.channel], "remembered as unusable: \(memory.unusable)")
            let other = try Fixtures.creation(to: "+6281234567999", now: t0)
            _ = try await store.create(other)
            _ = try await store.applyReceipt(deliveryID: other.verification.deliveries[0].id, status: .delivered, at: t0.addingTimeInterval(5), error: nil, events: [], unusableUntil: nil)
            let worked = try await store.channelMemory(tenantID: "ten_a", to: "+6281234567999", now: t0.addingTimeInterval(6)).lastWorked
            try expect(worked?.channel == other.verification.deliveries[0].channel && worked?.at == t0.addingTimeInterval(5), "last worked: \(String(describing: worked))")
        },
        Check(name: "webhooks: fan-out of later matching events per tenant, leased claims, retry, dead letter, replay, delete") { store in
            let sealed = SealedCode(keyID: "k", box: "b")
            let before = Event(tenantID: "ten_a", verificationID: nil, type: "verification.created", createdAt: t0)
            try await store.updateRiskState(keys: [], now: t0) { _ in ((), RiskStateWrite(events: [before])) }
            let hook = Webhook(tenantID: "ten_a", url: "http://127.0.0.1:1/h", events: ["verification.created"], sealedSecret: sealed, createdAt: t0)
            try await store.createWebhook(hook)
            try await store.createWebhook(Webhook(tenantID: "ten_b", url: "http://127.0.0.1:1/b", events: ["*"], sealedSecret: sealed, createdAt: t0))
            let later = [Event(tenantID: "ten_a", verificationID: nil, type: "verification.created", createdAt: t0.addingTimeInterval(1)),
                         Event(tenantID: "ten_a", verificationID: nil, type: "delivery.sent", createdAt: t0.addingTimeInterval(1))]
            try await store.updateRiskState(keys: [], now: t0) { _ in ((), RiskStateWrite(events: later)) }
            _ = try await store.fanOutEvents(limit: 100, now: t0.addingTimeInterval(2)) { $0.id }
            let second = try await store.fanOutEvents(limit: 100, now: t0.addingTimeInterval(2)) { $0.id }
            try expect(second == 0, "the cursor moved on")
            let claimed = try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(2), owner: "w", leaseSeconds: 60, limit: 10)
            try expect(claimed.map(\.0.payload) == [later[0].id] && claimed.first?.1.id == hook.id, "one delivery: the later, subscribed event of ten_a: \(claimed.map(\.0.payload))")
            try expect(try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(3), owner: "x", leaseSeconds: 60, limit: 10).isEmpty, "leased")
            let id = claimed[0].0.id
            try await store.finishWebhookDelivery(id: id, owner: "w", delivered: false, result: "http_500", retryAt: t0.addingTimeInterval(20), at: t0.addingTimeInterval(3))
            try expect(try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(10), owner: "w", leaseSeconds: 60, limit: 10).isEmpty, "not due before its retry")
            let again = try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(20), owner: "w", leaseSeconds: 60, limit: 10)
            try expect(again.first?.0.attempts == 2, "second attempt counted")
            try await store.finishWebhookDelivery(id: id, owner: "w", delivered: false, result: "unreachable", retryAt: nil, at: t0.addingTimeInterval(21))
            let dead = try await store.webhookDeliveries(webhookID: hook.id, tenantID: "ten_a", status: .dead, limit: 10)
            try expect(dead.map(\.id) == [id] && dead.first?.lastResult == "unreachable", "parked")
            try expect(try await store.replayWebhookDelivery(id: id, tenantID: "ten_b", now: t0) == false, "tenant-scoped")
            try expect(try await store.replayWebhookDelivery(id: id, tenantID: "ten_a", now: t0.addingTimeInterval(30)), "replayed")
            try expect(try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(30), owner: "w", leaseSeconds: 60, limit: 10).count == 1, "due again after the replay")
            let foreignDelete = try await store.deleteWebhook(id: hook.id, tenantID: "ten_b")
            let ownDelete = try await store.deleteWebhook(id: hook.id, tenantID: "ten_a")
            try expect(!foreignDelete && ownDelete, "deleted by its tenant only")
            let remainingA = try await store.webhooks(tenantID: "ten_a")
            let remainingB = try await store.webhooks(tenantID: "ten_b")
            try expect(remainingA.isEmpty && remainingB.count == 1, "the other tenant keeps its webhook")
        },
        Check(name: "a blocked start does not supersede the live code") { store in
            let live = try Fixtures.creation(now: t0)
            _ = try await store.create(live)
            var blocked = try Fixtures.creation(now: t0.addingTimeInterval(1))
            blocked.verification.status = .blocked
            blocked.verification.deliveries = []
            blocked.job = nil
            blocked.supersedes = false
            try expect(try await store.create(blocked) == .created(superseded: [], maxAttempts: 5), "created without superseding")
            try expect(try await store.verification(id: live.verification.id, tenantID: "ten_a")?.status == .pending, "the live code stays live")
            try expect(try await store.verification(id: blocked.verification.id, tenantID: "ten_a")?.status == .blocked, "stored as blocked")
        },
    ]
}
