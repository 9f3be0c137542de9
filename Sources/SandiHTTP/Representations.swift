import Foundation
public import Hummingbird
import NIOCore
import SandiCore

/// The JSON form of a verification, exactly as the contract shows it.
struct VerificationBody: Encodable {
    let v: Verification
    let events: [Event]?

    enum Key: String, CodingKey {
        case id, status, to, country, `operator`, purpose, user_ref, locale, code_length, channel, plan, created_at,
             expires_at, resend_available_at, attempts_remaining, sends_remaining, risk, deliveries, events, transaction
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(v.id, forKey: .id)
        try c.encode(v.status.rawValue, forKey: .status)
        try c.encode(v.to, forKey: .to)
        try c.encode(v.country, forKey: .country)
        try c.encode(v.operator, forKey: .operator)
        try c.encode(v.purpose.rawValue, forKey: .purpose)
        try c.encode(v.userRef, forKey: .user_ref)
        try c.encode(v.locale, forKey: .locale)
        try c.encode(v.codeLength, forKey: .code_length)
        try c.encode(v.channel?.rawValue, forKey: .channel)
        try c.encode(v.plan.steps.map(PlanStepBody.init), forKey: .plan)
        try c.encode(Timestamp.format(v.createdAt), forKey: .created_at)
        try c.encode(Timestamp.format(v.expiresAt), forKey: .expires_at)
        try c.encode(Timestamp.format(v.resendAvailableAt), forKey: .resend_available_at)
        try c.encode(v.status == .pending ? v.attemptsRemaining : (v.status == .locked ? 0 : v.attemptsRemaining), forKey: .attempts_remaining)
        try c.encode(v.sendsRemaining, forKey: .sends_remaining)
        try c.encode(RiskBody(risk: v.risk), forKey: .risk)
        if let t = v.transaction { try c.encode(["amount": t.amount, "currency": t.currency, "payee": t.payee], forKey: .transaction) }
        try c.encode(v.deliveries.map(DeliveryBody.init), forKey: .deliveries)
        if let events { try c.encode(events.map(EventBody.init), forKey: .events) }
    }
}

struct PlanStepBody: Encodable {
    let step: PlanStep
    enum Key: String, CodingKey { case channel, timeout_s }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(step.channel.rawValue, forKey: .channel)
        try c.encodeIfPresent(step.timeoutSeconds, forKey: .timeout_s)
    }
}

struct RiskBody: Encodable {
    let risk: RiskAssessment
    enum Key: String, CodingKey { case level, score, action, reasons, recorded_action }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(risk.level, forKey: .level)
        try c.encode(risk.score, forKey: .score)
        try c.encode(risk.action.rawValue, forKey: .action)
        try c.encode(risk.reasons, forKey: .reasons)
        try c.encodeIfPresent(risk.recordedAction?.rawValue, forKey: .recorded_action)
    }
}

struct DeliveryBody: Encodable {
    let d: Delivery
    enum Key: String, CodingKey { case id, channel, provider, status, queued_at, sent_at, delivered_at, read_at, failed_at, error }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(d.id, forKey: .id)
        try c.encode(d.channel.rawValue, forKey: .channel)
        try c.encode(d.provider, forKey: .provider)
        try c.encode(d.status.rawValue, forKey: .status)
        try c.encode(Timestamp.format(d.queuedAt), forKey: .queued_at)
        try c.encode(d.sentAt.map(Timestamp.format), forKey: .sent_at)
        try c.encode(d.deliveredAt.map(Timestamp.format), forKey: .delivered_at)
        try c.encodeIfPresent(d.readAt.map(Timestamp.format), forKey: .read_at)
        try c.encodeIfPresent(d.failedAt.map(Timestamp.format), forKey: .failed_at)
        try c.encode(d.error, forKey: .error)
    }
}

struct EventBody: Encodable {
    let e: Event
    enum Key: String, CodingKey { case id, type, created_at, data }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(e.id, forKey: .id)
        try c.encode(e.type, forKey: .type)
        try c.encode(Timestamp.format(e.createdAt), forKey: .created_at)
        try c.encode(e.data, forKey: .data)
    }
}

struct CheckBody: Encodable {
    let r: CheckResult
    enum Key: String, CodingKey { case verification_id, valid, status, attempts_remaining, grant }
    enum GrantKey: String, CodingKey { case token, expires_at }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(r.verificationID, forKey: .verification_id)
        try c.encode(r.valid, forKey: .valid)
        try c.encode(r.status.rawValue, forKey: .status)
        try c.encode(r.attemptsRemaining, forKey: .attempts_remaining)
        if let grant = r.grant {
            var g = c.nestedContainer(keyedBy: GrantKey.self, forKey: .grant)
            try g.encode(grant.token, forKey: .token)
            try g.encode(Timestamp.format(grant.expiresAt), forKey: .expires_at)
        } else {
            try c.encodeNil(forKey: .grant)
        }
    }
}

/// A JSON response with a status.
public struct JSONResponse {
    /// Encodes `value` as the body of a response.
    public static func make(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let data = try JSONCoding.encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
