import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SandiCore
import SandiTesting
import Synchronization
import Testing

/// A tenant's webhook endpoint on loopback: records what it got and answers the statuses it is told.
final class WebhookReceiver: Sendable {
    let received = Mutex<[(body: String, signature: String)]>([])
    let answers = Mutex<[Int]>([])

    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let signature = request.headers[HTTPField.Name("Sandi-Signature")!] ?? ""
            self.received.withLock { $0.append((text, signature)) }
            let status = self.answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            return Response(status: .init(code: status))
        }
        return try await Loopback.serve(router) { root in try await body(root + "/hook") }
    }
}

@Suite("Webhooks")
struct WebhookTests {
    /// Checks a `Sandi-Signature` header the way a receiver would (5-minute tolerance).
    static func verify(_ header: String, body: String, secret: String, now: Date) -> Bool {
        let parts = Dictionary(uniqueKeysWithValues: header.split(separator: ",").compactMap { part -> (String, String)? in
            let kv = part.split(separator: "=", maxSplits: 1)
            return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
        })
        guard let t = parts["t"].flatMap(Int.init), let v1 = parts["v1"], abs(now.timeIntervalSince1970 - Double(t)) <= 300 else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(t).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined() == v1
    }

    @Test("register, deliver signed events that match, retry with backoff, park after the last try, replay; list and delete")
    func lifecycle() async throws {
        let clock = ManualClock(Date())
        let receiver = WebhookReceiver()
        try await receiver.serve { url in
            try await APIHarness.make(clock: clock).run { api in
                let bad = try await api.post("/v1/webhooks", #"{"url":"ftp://x","events":["Bad Type"]}"#)
                #expect(bad.status == 422 && Set((bad["errors"]?.arrayValue ?? []).compactMap { $0.objectValue?["field"]?.stringValue }) == ["url", "events[0]"])
                let created = try await api.post("/v1/webhooks", #"{"url":"\#(url)","events":["verification.created","delivery.delivered"]}"#)
                #expect(created.status == 201)
                let id = created["id"]?.stringValue ?? ""
                let secret = created["secret"]?.stringValue ?? ""
                #expect(id.hasPrefix("whk_") && secret.hasPrefix("whsec_"))
                let listed = try await api.get("/v1/webhooks")
                #expect(listed["webhooks"]?.arrayValue?.count == 1 && !listed.text.contains(secret), "no secret in listings")
                #expect(try await api.get("/v1/webhooks", key: api.harness.otherKey)["webhooks"]?.arrayValue?.isEmpty == true)
                // Another tenant's events never reach this webhook.
                _ = try await api.post("/v1/verifications", #"{"to":"+6281234569001","purpose":"login"}"#, key: api.harness.otherKey)
                let vid = try await api.start("+6281234569000")
                try await api.deliver()
                let webhooks = try #require(api.harness.system.worker.webhooks)
                #expect(try await webhooks.runOnce(owner: "t") == 2)
                let got = receiver.received.withLock { $0 }
                let types = got.compactMap { (try? JSONDecoder().decode(JSONValue.self, from: Data($0.body.utf8)))?.objectValue?["type"]?.stringValue }
                #expect(Set(types) == ["verification.created", "delivery.delivered"], "only subscribed types: \(types)")
                #expect(got.allSatisfy { Self.verify($0.signature, body: $0.body, secret: secret, now: clock.now) }, "signed with the secret")
                #expect(!got.allSatisfy { Self.verify($0.signature, body: $0.body + " ", secret: secret, now: clock.now) }, "a changed body fails")
                #expect(!got.allSatisfy { Self.verify($0.signature, body: $0.body, secret: secret, now: clock.now.addingTimeInterval(301)) }, "an old signature is refused by the receiver")
                #expect(got.first?.body.contains(vid) == true && !got.contains { $0.body.contains("81234569000") }, "ids, never full numbers")

                // A receiver failing: retried with backoff (10 s, 60 s, …), parked after 8 tries, replayed.
                receiver.answers.withLock { $0 = Array(repeating: 500, count: 8) }
                _ = try await api.start("+6281234569002")
                #expect(try await webhooks.runOnce(owner: "t") == 1)
                #expect(try await webhooks.runOnce(owner: "t") == 0, "not due again yet")
                for wait in [10.0, 60, 300, 1800, 7200, 21_600, 43_200] {
                    clock.advance(by: wait)
                    #expect(try await webhooks.runOnce(owner: "t") == 1)
                }
                let dead = try await api.get("/v1/webhooks/\(id)/deliveries?status=dead")
                let parked = try #require(dead["deliveries"]?.arrayValue?.first?.objectValue)
                #expect(parked["attempts"] == 8 && parked["last_result"] == "http_500")
                clock.advance(by: 86_400)
                #expect(try await webhooks.runOnce(owner: "t") == 0, "a parked delivery waits for a replay")
                let replay = try await api.post("/v1/webhooks/deliveries/\(parked["id"]?.stringValue ?? "")/replay", "{}")
                #expect(replay.status == 200)
                #expect(try await webhooks.runOnce(owner: "t") == 1)
                #expect(try await api.get("/v1/webhooks/\(id)/deliveries?status=dead")["deliveries"]?.arrayValue?.isEmpty == true)
                #expect(try await api.get("/v1/webhooks/\(id)/deliveries?status=nope").status == 422)
                #expect(try await api.request(.delete, "/v1/webhooks/\(id)", key: api.harness.otherKey).status == 404)
                #expect(try await api.request(.delete, "/v1/webhooks/\(id)").status == 204)
                #expect(try await api.get("/v1/webhooks")["webhooks"]?.arrayValue?.isEmpty == true)
            }
        }
    }
}
