import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SandiApp
import SandiCore
import SandiProviders
import Synchronization
import Testing

/// A local SMS aggregator that exists only as configuration in Sandi: JSON in with a bearer
/// token, `{"status":"0","data":{"message_id":…}}` out, its own error codes, receipts as GET
/// query parameters with a shared token.
final class FakeAggregator: Sendable {
    let token = "agg-token-123"
    let received = Mutex<[[String: JSONValue]]>([])
    /// Numbers (digits) answered with an error code.
    let refusals: [String: String]

    init(refusals: [String: String] = [:]) { self.refusals = refusals }

    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("api/v2/sms/send") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(self.token)", request.headers[.contentType] == "application/json" else {
                return Response(status: .unauthorized, body: .init(byteBuffer: ByteBuffer(string: #"{"status":"401","error":{"code":"AUTH"}}"#)))
            }
            let raw = try await request.body.collect(upTo: 16_384)
            guard let object = (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: raw)))?.objectValue else {
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: #"{"status":"400","error":{"code":"JSON"}}"#)))
            }
            self.received.withLock { $0.append(object) }
            if let code = object["msisdn"]?.stringValue.flatMap({ self.refusals[$0] }) {
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"\#(code)","error":{"code":"\#(code)"}}"#)))
            }
            let id = "AGG" + String(Int.random(in: 100_000...999_999))
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"status":"0","data":{"message_id":"\#(id)","parts":1}}"#)))
        }
        return try await Loopback.serve(router, body)
    }

    /// The provider's definition, as an operator would write it in a file.
    static func definition(api: String) -> String {
        #"""
        [{
          "name": "masking-id",
          "channels": ["sms"],
          "method": "POST",
          "url": "\#(api)/api/v2/sms/send",
          "headers": {"Authorization": "Bearer {{secrets.token}}"},
          "body_format": "json",
          "body": "{\"msisdn\":\"{{to_digits}}\",\"sender\":\"{{sender}}\",\"message\":\"{{text}}\",\"ref\":\"{{reference}}\",\"validity\":{{ttl_seconds}}{{#unicode}},\"coding\":\"ucs2\"{{/unicode}}}",
          "sender": "ACME",
          "secrets": {"token": "env:AGG_TOKEN", "receipt": "env:AGG_RECEIPT_TOKEN"},
          "response": {"message_id": "data.message_id", "success_path": "status", "success_values": ["0"],
                       "error_code_path": "error.code", "undeliverable_codes": ["21"], "transient_codes": ["99"]},
          "receipt": {"message_id": "msgid", "status": "stat", "error_code": "err",
                      "statuses": {"DELIVRD": "delivered", "UNDELIV": "failed", "EXPIRED": "failed", "ACCEPTD": "sent"},
                      "token": "secrets.receipt", "token_parameter": "token", "answer": "OK"}
        }]
        """#
    }
}

@Suite("A provider added by configuration alone")
struct HTTPProviderTests {
    func harness(_ fake: FakeAggregator, api: String, plan: String = "sms:45,voice") async throws -> (APIHarness, String) {
        let directory = NSTemporaryDirectory() + "sandi-httpprov-" + Identifier.randomBase32(bytes: 5)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/providers.json"
        try Data(FakeAggregator.definition(api: api).utf8).write(to: URL(fileURLWithPath: file))
        setenv("AGG_TOKEN", fake.token, 1)
        setenv("AGG_RECEIPT_TOKEN", "receipt-secret-9", 1)
        let harness = try await APIHarness.make(directory: directory, overrides: ["sandi.http.providers": file, "sandi.plan": plan])
        #expect(harness.system.configuration.startupProblems.isEmpty, "\(harness.system.configuration.startupProblems)")
        return (harness, directory)
    }

    @Test("the request follows the templates (JSON-escaped text, digits-only number, validity); a token-authenticated receipt marks it delivered; wrong tokens are refused")
    func endToEnd() async throws {
        let fake = FakeAggregator()
        try await fake.serve { api in
            let (harness, _) = try await harness(fake, api: api)
            try await harness.run { client in
                let id = try await client.start(purpose: "login", extra: #","channel":"sms","locale":"en""#)
                try await client.deliver()
                let sent = try #require(fake.received.withLock { $0.first })
                #expect(sent["msisdn"] == "6281234567890" && sent["sender"] == "ACME")
                #expect(sent["validity"]?.intValue.map { (1...180).contains($0) } == true)
                #expect(sent["coding"] == nil, "English text is GSM-7")
                let text = try #require(sent["message"]?.stringValue)
                let code = try #require(text.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init))
                let read = try await client.get("/v1/verifications/\(id)")
                let delivery = try #require(read["deliveries"]?.arrayValue?.first?.objectValue)
                #expect(delivery["provider"] == "masking-id" && delivery["status"] == "sent")
                #expect(sent["ref"]?.stringValue == delivery["id"]?.stringValue)
                let messageID = try await harness.system.store.delivery(id: try #require(delivery["id"]?.stringValue))?.providerMessageID ?? ""

                let wrong = try await client.get("/v1/callbacks/http/masking-id?token=guess&msgid=\(messageID)&stat=DELIVRD", key: "")
                #expect(wrong.status == 403 && wrong.code == "invalid_signature")
                let missing = try await client.get("/v1/callbacks/http/masking-id?msgid=\(messageID)&stat=DELIVRD", key: "")
                #expect(missing.status == 403)
                #expect(try await client.get("/v1/callbacks/http/nobody?token=x", key: "").status == 404)

                let ok = try await client.get("/v1/callbacks/http/masking-id?token=receipt-secret-9&msgid=\(messageID)&stat=DELIVRD", key: "")
                #expect(ok.status == 200 && ok.text == "OK")
                let after = try await client.get("/v1/verifications/\(id)")
                #expect(after["deliveries"]?.arrayValue?.first?.objectValue?["status"] == "delivered")
                #expect(try await client.post("/v1/verifications/\(id)/check", #"{"code":"\#(code)"}"#)["valid"] == .bool(true))
            }
        }
    }

    @Test("Thai text goes as UCS-2 with valid JSON; the provider's 'invalid number' code is undeliverable and the plan moves on")
    func unicodeAndRefusals() async throws {
        let fake = FakeAggregator(refusals: ["6281298765432": "21"])
        try await fake.serve { api in
            let (harness, _) = try await harness(fake, api: api)
            try await harness.run { client in
                _ = try await client.start("+66812345678", purpose: "login", extra: #","channel":"sms","locale":"th""#)
                try await client.deliver()
                let thai = try #require(fake.received.withLock { $0.first })
                #expect(thai["coding"] == "ucs2")
                #expect(thai["message"]?.stringValue?.contains("รหัส") == true, "the text survived JSON escaping")

                let refused = try await client.start("+6281298765432", purpose: "login")
                try await client.deliver()
                let read = try await client.get("/v1/verifications/\(refused)")
                let steps = read["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
                #expect(steps.first?["status"] == "undeliverable" && steps.last?["channel"] == "voice", "\(read.text)")
            }
        }
    }

    @Test("answers read by the definition: success values, message id paths, transient and undeliverable codes, statuses")
    func answers() throws {
        let response = try JSONDecoder().decode(HTTPProviderDefinition.Response.self, from: Data(#"{"message_id":"messages.0.id","success_path":"ok","success_values":["true"],"error_code_path":"err","undeliverable_codes":["7"],"transient_codes":["9"]}"#.utf8))
        let ok = try TemplateHTTPProvider.read(status: 200, body: Data(#"{"ok":true,"messages":[{"id":123}]}"#.utf8), response: response, provider: "p")
        #expect(ok.providerMessageID == "123")
        #expect(throws: ProviderError.undeliverable("p: http 200 code 7")) { try TemplateHTTPProvider.read(status: 200, body: Data(#"{"ok":false,"err":7}"#.utf8), response: response, provider: "p") }
        #expect(throws: ProviderError.transient("p: http 200 code 9")) { try TemplateHTTPProvider.read(status: 200, body: Data(#"{"ok":false,"err":"9"}"#.utf8), response: response, provider: "p") }
        #expect(throws: ProviderError.transient("p: http 429")) { try TemplateHTTPProvider.read(status: 429, body: Data(), response: response, provider: "p") }
        #expect(throws: ProviderError.failed("p: answer without a message id")) { try TemplateHTTPProvider.read(status: 200, body: Data(#"{"ok":true}"#.utf8), response: response, provider: "p") }
        let plain = try JSONDecoder().decode(HTTPProviderDefinition.Response.self, from: Data(#"{"message_id":"$body"}"#.utf8))
        #expect(try TemplateHTTPProvider.read(status: 200, body: Data(" 98765\n".utf8), response: plain, provider: "p").providerMessageID == "98765")
    }

    @Test("bad definitions refuse to start with a clear reason")
    func badDefinitions() async throws {
        let directory = NSTemporaryDirectory() + "sandi-httpprov-bad-" + Identifier.randomBase32(bytes: 5)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func problems(_ json: String) async throws -> String {
            let file = directory + "/p.json"
            try Data(json.utf8).write(to: URL(fileURLWithPath: file))
            return try await SandiConfiguration.load(overrides: ["sandi.http.providers": file], environment: [:]).startupProblems.joined(separator: "\n")
        }
        #expect(try await problems("{}").contains("not a list of provider definitions"))
        #expect(try await problems(#"[{"name":"x","url":"ftp://a","response":{"message_id":"id"}}]"#).contains("url must be an http(s) URL"))
        #expect(try await problems(#"[{"name":"x","url":"https://a/{{#to}}","body":"{}","response":{"message_id":"id"}}]"#).contains("does not parse"))
        #expect(try await problems(#"[{"name":"x","url":"https://a","body":"{}","secrets":{"k":"env:NOPE_NOT_SET"},"response":{"message_id":"id"}}]"#).contains("secret k is empty"))
        #expect(try await problems(#"[{"name":"x","url":"https://a","body":"{}","response":{"message_id":"id"},"receipt":{"message_id":"m","status":"s","statuses":{"D":"delivered"}}}]"#).contains("receipts need a token"))
        #expect(try await problems(#"[{"name":"x","url":"https://a","body":"{}","response":{"message_id":"id"},"receipt":{"message_id":"m","status":"s","statuses":{"D":"done"},"token":"t","token_parameter":"t"}}]"#).contains("maps to done"))
    }
}
