public import Foundation
public import SandiCore

/// Builders of domain values for tests and the contract suite.
public enum Fixtures {
    /// A fixed keyring, so digests and seals are reproducible in tests.
    public static let keyring = Keyring(current: Keyring.Key(id: "ktest1", secret: .init(data: Data(repeating: 7, count: 32))))

    /// A pending verification with one queued delivery, its job and its creation events.
    public static func creation(
        tenant: String = "ten_a", to: String = "+6281234567890", purpose: Purpose = .passwordReset, code: String = "123456",
        now: Date, ttl: Double = 300, maxAttempts: Int = 5, maxSends: Int = 5, channel: Channel = .whatsapp,
        hasher: CodeHasher = CodeHasher(keyring: keyring)
    ) throws -> VerificationCreation {
        let id = Identifier.make(.verification)
        let delivery = Delivery(
            id: Identifier.make(.delivery), verificationID: id, tenantID: tenant, channel: channel, provider: "simulator",
            status: .queued, planIndex: 0, queuedAt: now)
        let plan = DeliveryPlan.standard.arranged(forced: channel, available: Set(Channel.allCases))
        let verification = Verification(
            id: id, tenantID: tenant, to: to, country: "ID", operator: "Telkomsel", purpose: purpose, userRef: "u-1",
            locale: "en", codeLength: code.count, digest: hasher.digest(code: code, verificationID: id),
            sealed: try hasher.seal(code: code, verificationID: id), status: .pending, channel: channel, plan: plan,
            planIndex: 0, createdAt: now, expiresAt: now.addingTimeInterval(ttl), updatedAt: now, attemptsUsed: 0,
            maxAttempts: maxAttempts, sendsUsed: 1, maxSends: maxSends, resends: 0,
            resendAvailableAt: now.addingTimeInterval(30), context: ClientContext(ip: "203.0.113.9"),
            risk: RiskAssessment(), deliveries: [delivery])
        let events = [
            Event(tenantID: tenant, verificationID: id, type: "verification.created", createdAt: now, data: ["to": .string(PhoneNumber.mask(to))]),
            Event(tenantID: tenant, verificationID: id, type: "delivery.queued", createdAt: now, data: ["delivery_id": .string(delivery.id)]),
        ]
        return VerificationCreation(
            verification: verification,
            job: DeliveryJobRecord(deliveryID: delivery.id, verificationID: id, tenantID: tenant, dueAt: now),
            events: events)
    }

    /// A new queued delivery (and its job) for a verification.
    public static func delivery(for v: Verification, channel: Channel, planIndex: Int, now: Date) -> (Delivery, DeliveryJobRecord) {
        let delivery = Delivery(
            id: Identifier.make(.delivery), verificationID: v.id, tenantID: v.tenantID, channel: channel, provider: "simulator",
            status: .queued, planIndex: planIndex, queuedAt: now)
        return (delivery, DeliveryJobRecord(deliveryID: delivery.id, verificationID: v.id, tenantID: v.tenantID, dueAt: now))
    }
}
