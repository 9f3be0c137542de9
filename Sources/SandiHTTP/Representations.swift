import Foundation
public import Hummingbird
import NIOCore
import SandiCore

/// A response body built as a JSON value (written directly, not through `Codable`: these are
/// the bodies of the hot paths).
protocol JSONBodyValue {
    var json: JSONValue { get }
}

extension JSONValue {
    /// A string, or null.
    init(_ text: String?) { self = text.map(JSONValue.string) ?? .null }
    /// A number.
    init(_ number: Int) { self = .number(Double(number)) }
}

/// The JSON form of a verification, exactly as the contract shows it.
struct VerificationBody: JSONBodyValue {
    let v: Verification
    let events: [Event]?

    var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(v.id), "status": .string(v.status.rawValue), "to": .string(v.to), "country": JSONValue(v.country),
            "operator": JSONValue(v.operator), "purpose": .string(v.purpose.rawValue), "user_ref": JSONValue(v.userRef),
            "locale": .string(v.locale), "code_length": JSONValue(v.codeLength), "channel": JSONValue(v.channel?.rawValue),
            "plan": .array(v.plan.steps.map { PlanStepBody(step: $0).json }),
            "created_at": .string(Timestamp.format(v.createdAt)), "expires_at": .string(Timestamp.format(v.expiresAt)),
            "resend_available_at": .string(Timestamp.format(v.resendAvailableAt)),
            "attempts_remaining": JSONValue(v.status == .locked ? 0 : v.attemptsRemaining), "sends_remaining": JSONValue(v.sendsRemaining),
            "risk": RiskBody(risk: v.risk).json, "deliveries": .array(v.deliveries.map { DeliveryBody(d: $0).json }),
        ]
        if let t = v.transaction { o["transaction"] = .object(["amount": .string(t.amount), "currency": .string(t.currency), "payee": .string(t.payee)]) }
        if let events { o["events"] = .array(events.map { EventBody(e: $0).json }) }
        return .object(o)
    }
}

struct PlanStepBody: JSONBodyValue {
    let step: PlanStep
    var json: JSONValue {
        var o: [String: JSONValue] = ["channel": .string(step.channel.rawValue)]
        if let timeout = step.timeoutSeconds { o["timeout_s"] = JSONValue(timeout) }
        return .object(o)
    }
}

struct RiskBody: JSONBodyValue {
    let risk: RiskAssessment
    var json: JSONValue {
        var o: [String: JSONValue] = [
            "level": .string(risk.level), "score": JSONValue(risk.score), "action": .string(risk.action.rawValue),
            "reasons": .array(risk.reasons.map(JSONValue.string)),
        ]
        if let recorded = risk.recordedAction { o["recorded_action"] = .string(recorded.rawValue) }
        return .object(o)
    }
}

struct DeliveryBody: JSONBodyValue {
    let d: Delivery
    var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(d.id), "channel": .string(d.channel.rawValue), "provider": .string(d.provider), "status": .string(d.status.rawValue),
            "queued_at": .string(Timestamp.format(d.queuedAt)), "sent_at": JSONValue(d.sentAt.map(Timestamp.format)),
            "delivered_at": JSONValue(d.deliveredAt.map(Timestamp.format)), "error": JSONValue(d.error),
        ]
        if let read = d.readAt { o["read_at"] = .string(Timestamp.format(read)) }
        if let failed = d.failedAt { o["failed_at"] = .string(Timestamp.format(failed)) }
        return .object(o)
    }
}

struct EventBody: JSONBodyValue {
    let e: Event
    var json: JSONValue {
        .object(["id": .string(e.id), "type": .string(e.type), "created_at": .string(Timestamp.format(e.createdAt)), "data": .object(e.data)])
    }
}

struct CheckBody: JSONBodyValue {
    let r: CheckResult
    var json: JSONValue {
        .object([
            "verification_id": .string(r.verificationID), "valid": .bool(r.valid), "status": .string(r.status.rawValue),
            "attempts_remaining": JSONValue(r.attemptsRemaining),
            "grant": r.grant.map { .object(["token": .string($0.token), "expires_at": .string(Timestamp.format($0.expiresAt))]) } ?? .null,
        ])
    }
}

/// A JSON response with a status.
public struct JSONResponse {
    /// Encodes `value` as the body of a response.
    public static func make(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let data = try JSONCoding.encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A body built as a JSON value, written directly (keys sorted, `/` not escaped, as the
    /// shared encoder writes them).
    static func make(_ status: HTTPResponse.Status, _ body: some JSONBodyValue) throws -> Response {
        let bytes = try body.json.sortedJSONBytes(escapingSlashes: false)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
