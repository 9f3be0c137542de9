import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SQLiteNIO
import SandiCore
import Testing

/// The real binary against a real SQLite file: restart, persistence, CLI, production refusals.
@Suite("Real binary", .serialized)
struct BinaryTests {
    let directory = NSTemporaryDirectory() + "sandi-bin-" + Identifier.randomBase32(bytes: 6)

    func call(_ client: HTTPClient, _ method: NIOHTTP1Method, _ url: String, key: String, body: String? = nil, headers: [String: String] = [:]) async throws -> (Int, JSONValue?) {
        var request = HTTPClientRequest(url: url)
        request.method = method.ahc
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)); request.headers.add(name: "Content-Type", value: "application/json") }
        let response = try await client.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: bytes)))
    }

    /// Runs `body` with an HTTP client that is shut down however the body ends.
    func withClient(_ body: (HTTPClient) async throws -> Void) async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await body(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test("serve, restart, and find the verification still there; no code in logs or database")
    func restartKeepsData() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withClient { client in
        var server = try ServerProcess(["serve", "--data-dir", directory, "--port", "0"])
        var port = try await server.listeningPort()
        let key = try String(contentsOfFile: directory + "/demo-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("sandi_") && server.stdout.contains(key), "the demo key is printed once")
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/demo-api-key")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let (status, created) = try await call(client, .POST, "http://127.0.0.1:\(port)/v1/verifications", key: key,
                                               body: #"{"to":"+6281234567890","purpose":"password_reset","locale":"en"}"#)
        #expect(status == 201)
        let id = try #require(created?.objectValue?["id"]?.stringValue)
        var code: String?
        for _ in 0..<100 where code == nil {
            let (_, outbox) = try await call(client, .GET, "http://127.0.0.1:\(port)/v1/dev/outbox?to=%2B6281234567890", key: key)
            if case .array(let messages)? = outbox?.objectValue?["messages"], let first = messages.first?.objectValue {
                code = first["code"]?.stringValue
            } else {
                _ = await server.waitFor("\u{0}never", seconds: 0.05)
            }
        }
        let theCode = try #require(code)
        #expect(await server.stop() == 0, "graceful shutdown exits 0")
        let firstLogs = server.stderr

        server = try ServerProcess(["serve", "--data-dir", directory, "--port", "0"])
        port = try await server.listeningPort()
        #expect(!server.stdout.contains(key), "the key is not printed again")
        let (readStatus, read) = try await call(client, .GET, "http://127.0.0.1:\(port)/v1/verifications/\(id)", key: key)
        #expect(readStatus == 200 && read?.objectValue?["status"] == "pending")
        var firstDelivery: JSONValue?
        if case .array(let deliveries)? = read?.objectValue?["deliveries"] { firstDelivery = deliveries.first?.objectValue?["status"] }
        #expect(firstDelivery == "delivered")
        let (_, check) = try await call(client, .POST, "http://127.0.0.1:\(port)/v1/verifications/\(id)/check", key: key, body: #"{"code":"\#(theCode)"}"#)
        #expect(check?.objectValue?["valid"] == true, "the code from before the restart still checks")
        #expect(await server.stop() == 0)

        for logs in [firstLogs, server.stderr, server.stdout] {
            #expect(!logs.contains(theCode) && !logs.contains("81234567890"), "no code or full number in logs")
        }
        for file in ["sandi.sqlite", "sandi.sqlite-wal"] {
            if let data = FileManager.default.contents(atPath: directory + "/" + file) {
                #expect(data.range(of: Data(theCode.utf8)) == nil, "no plaintext code in \(file)")
            }
        }
        }
    }

    @Test("CLI: key create prints only a key that works and sees only its tenant; tenant list; help; migrate")
    func cli() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (status, out, _) = try await ServerProcess.run(["key", "create", "--tenant", "acme", "--data-dir", directory])
        #expect(status == 0)
        let key = out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("sandi_") && !key.contains("\n") && key.count >= 38, "only the key: \(out)")
        let (_, tenants, _) = try await ServerProcess.run(["tenant", "list", "--data-dir", directory])
        #expect(tenants.contains("\tacme\t"))
        let (dup, _, dupErr) = try await ServerProcess.run(["tenant", "create", "acme", "--data-dir", directory])
        #expect(dup != 0 && dupErr.contains("already exists"))
        let (_, keys, _) = try await ServerProcess.run(["key", "list", "--tenant", "acme", "--data-dir", directory])
        let keyID = try #require(keys.split(separator: "\t").first.map(String.init))
        #expect(keyID.hasPrefix("key_") && !keys.contains(key), "listing never shows keys")

        let server = try ServerProcess(["serve", "--data-dir", directory, "--port", "0"])
        let port = try await server.listeningPort()
        #expect(!server.stdout.contains("Created tenant"), "no demo tenant when tenants exist")
        try await withClient { client in
        let (ok, _) = try await call(client, .POST, "http://127.0.0.1:\(port)/v1/verifications", key: key, body: #"{"to":"+6281234567890","purpose":"login"}"#)
        #expect(ok == 201)
        let (revoke, _, _) = try await ServerProcess.run(["key", "revoke", keyID, "--data-dir", directory])
        #expect(revoke == 0)
        _ = await server.stop()
        let restarted = try ServerProcess(["serve", "--data-dir", directory, "--port", "0"])
        let port2 = try await restarted.listeningPort()
        let (revoked, _) = try await call(client, .POST, "http://127.0.0.1:\(port2)/v1/verifications", key: key, body: #"{"to":"+6281234567890","purpose":"login"}"#)
        #expect(revoked == 401, "revoked keys stop working")
        _ = await restarted.stop()
        }

        let (helpStatus, help, _) = try await ServerProcess.run(["--help"])
        #expect(helpStatus == 0 && ["serve", "migrate", "tenant", "key", "secret", "bench"].allSatisfy { help.contains($0) })
        let (geoStatus, geo, _) = try await ServerProcess.run(["tenant", "create", "jakarta-hr", "--region", "id", "--data-dir", directory])
        #expect(geoStatus == 0 && geo.hasSuffix("jakarta-hr\tID\n"), "a tenant with a region sends only there: \(geo)")
        let (badRegion, _, _) = try await ServerProcess.run(["tenant", "create", "x", "--region", "Indonesia", "--data-dir", directory])
        #expect(badRegion != 0)
        let (_, migrate, _) = try await ServerProcess.run(["migrate", "--data-dir", directory])
        #expect(migrate.contains("schema version 5; pending: none"))
        let (_, rotate, _) = try await ServerProcess.run(["secret", "rotate", "--data-dir", directory])
        #expect(rotate.contains("new current key"))
    }

    @Test("sandi bench runs its three phases against the real server and reports each one's server CPU per request")
    func bench() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServerProcess(["serve", "--data-dir", directory, "--port", "0"])
        let port = try await server.listeningPort()
        let (status, out, err) = try await ServerProcess.run([
            "bench", "--url", "http://127.0.0.1:\(port)", "--data-dir", directory, "--concurrency", "4", "--seconds", "0.5", "--rounds", "1", "--json",
        ])
        #expect(await server.stop() == 0)
        #expect(status == 0, "\(err)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(out.utf8))
        let round = try #require(report.objectValue?["rounds"]?.arrayValue?.first?.objectValue, "\(out)")
        for phase in ["trivial", "start", "check"] {
            let figures = try #require(round[phase]?.objectValue, "\(phase)")
            #expect((figures["requests"]?.numberValue ?? 0) > 0 && figures["errors"]?.numberValue == 0, "\(phase): \(figures)")
            // Each answer costs the server some CPU time; a trivial one far less than a second.
            let cpu = try #require(figures["serverCPUMicros"]?.numberValue, "\(phase): \(figures)")
            #expect(cpu > 0 && cpu < 1_000_000, "\(phase): \(cpu) µs")
        }
        let medians = try #require(report.objectValue?["median_server_cpu_us"]?.objectValue, "\(out)")
        #expect(Set(medians.keys) == ["trivial", "start", "check"])
    }

    @Test("sandi audit verify proves the chain intact, names the first altered or removed record; export as JSON lines and CSV")
    func audit() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServerProcess(["serve", "--data-dir", directory, "--port", "0"])
        let port = try await server.listeningPort()
        let key = try String(contentsOfFile: directory + "/demo-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try await withClient { client in
            for i in 0..<3 {
                let (status, _) = try await call(client, .POST, "http://127.0.0.1:\(port)/v1/verifications", key: key,
                                                 body: #"{"to":"+628123456780\#(i)","purpose":"login"}"#)
                #expect(status == 201)
            }
        }
        #expect(await server.stop() == 0)

        let (ok, okOut, _) = try await ServerProcess.run(["audit", "verify", "--data-dir", directory])
        #expect(ok == 0 && okOut.contains("audit chain intact"), "\(okOut)")
        let (_, jsonl, _) = try await ServerProcess.run(["audit", "export", "--data-dir", directory, "--format", "jsonl"])
        let lines = jsonl.split(separator: "\n")
        #expect(lines.count >= 9 && lines.allSatisfy { (try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)))?.objectValue?["hash"]?.stringValue != nil })
        #expect(!jsonl.contains("81234567800"), "numbers stay masked in the trail")
        let (_, csv, _) = try await ServerProcess.run(["audit", "export", "--data-dir", directory, "--format", "csv", "--since", "2000-01-01T00:00:00Z"])
        #expect(csv.split(separator: "\n").count == lines.count + 1 && csv.hasPrefix("seq,id,tenant_id"))
        let (_, future, _) = try await ServerProcess.run(["audit", "export", "--data-dir", directory, "--since", "2999-01-01T00:00:00Z"])
        #expect(future.isEmpty)

        let db = try await SQLiteConnection.open(storage: .file(path: directory + "/sandi.sqlite"))
        _ = try await db.query("UPDATE events SET data = '{\"to\":\"+62********999\"}' WHERE seq = 2", [])
        try await db.close()
        let (altered, alteredOut, _) = try await ServerProcess.run(["audit", "verify", "--data-dir", directory])
        #expect(altered != 0 && alteredOut.contains("BROKEN at record 2") && alteredOut.contains("altered"), "\(alteredOut)")

        let db2 = try await SQLiteConnection.open(storage: .file(path: directory + "/sandi.sqlite"))
        _ = try await db2.query("UPDATE events SET data = (SELECT data FROM events WHERE seq = 1) WHERE seq = 2", [])
        _ = try await db2.query("DELETE FROM events WHERE seq IN (1, 2)", [])
        try await db2.close()
        let (removed, removedOut, _) = try await ServerProcess.run(["audit", "verify", "--data-dir", directory])
        #expect(removed != 0 && removedOut.contains("BROKEN at record 3"), "\(removedOut)")
    }

    @Test("SIGKILL while fallback timers are pending: after a restart each pending step is sent exactly once")
    func killWithPendingFallbacks() async throws {
        let dir = directory + "-kill"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["SANDI_PLAN": "whatsapp:2,sms:2,voice"]
        try await withClient { client in
        var server = try ServerProcess(["serve", "--data-dir", dir, "--port", "0"], environment: env)
        var port = try await server.listeningPort()
        let key = try String(contentsOfFile: dir + "/demo-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let base = { "http://127.0.0.1:\(port)" }
        // No receipts: every step waits for its 2 s timer.
        #expect(try await call(client, .POST, base() + "/v1/dev/simulator", key: key, body: #"{"receipts":false}"#).0 == 200)
        var ids: [String] = []
        for i in 0..<20 {
            let (status, body) = try await call(client, .POST, base() + "/v1/verifications", key: key,
                                                body: #"{"to":"+62812345670\#(String(format: "%02d", i))","purpose":"login"}"#)
            #expect(status == 201)
            ids.append(body?.objectValue?["id"]?.stringValue ?? "")
        }
        // Wait until every first step went out, then kill the process before the timers fire.
        var firstSent = 0
        for _ in 0..<200 where firstSent < 20 {
            let (_, outbox) = try await call(client, .GET, base() + "/v1/dev/outbox?limit=100", key: key)
            firstSent = outbox?.objectValue?["messages"]?.arrayValue?.count ?? 0
            if firstSent < 20 { _ = await server.waitFor("\u{0}never", seconds: 0.02) }
        }
        #expect(firstSent == 20)
        _ = await server.stop(signal: SIGKILL)
        let restartedAt = ContinuousClock.now

        server = try ServerProcess(["serve", "--data-dir", dir, "--port", "0"], environment: env)
        port = try await server.listeningPort()
        _ = try await call(client, .POST, base() + "/v1/dev/simulator", key: key, body: #"{"receipts":false}"#)
        func deliveries(_ id: String) async throws -> [[String: JSONValue]] {
            try await call(client, .GET, base() + "/v1/verifications/\(id)", key: key).1?.objectValue?["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
        }
        // Done when every plan reached its end: SMS delivered, or voice sent.
        var done = false
        var takeover: Duration = .zero
        for _ in 0..<600 where !done {
            var all = true
            for id in ids {
                let d = try await deliveries(id)
                let finished = d.count >= 2 && !d.contains { $0["status"] == "queued" }
                    && (d.last?["channel"] == "voice" || d.last?["status"] == "delivered")
                if !finished { all = false; break }
            }
            done = all
            if !done { _ = await server.waitFor("\u{0}never", seconds: 0.05) } else { takeover = ContinuousClock.now - restartedAt }
        }
        #expect(done, "every pending step went out after the restart")
        var duplicates = 0, lost = 0, sentAfter = 0
        for id in ids {
            let d = try await deliveries(id)
            let channels = d.compactMap { $0["channel"]?.stringValue }
            duplicates += channels.count - Set(channels).count
            if !channels.starts(with: ["whatsapp", "sms"]) { lost += 1 }
            sentAfter += channels.count - 1
            let (_, read) = try await call(client, .GET, base() + "/v1/verifications/\(id)?include=events", key: key)
            let sends = read?.objectValue?["events"]?.arrayValue?.filter { $0.objectValue?["type"] == "delivery.sent" }.count ?? 0
            #expect(sends == channels.count, "one send event per delivery: \(sends) for \(channels)")
        }
        #expect(duplicates == 0 && lost == 0)
        print("SIGKILL with pending fallbacks: 20 verifications, \(sentAfter) steps sent after the restart, \(duplicates) duplicates, \(lost) lost, all done \(takeover) after the restart")
        // Outages start and end on command from the shell too.
        let (cliStatus, cliOut, _) = try await ServerProcess.run(["simulator", "--url", base(), "--data-dir", dir, "--channel", "whatsapp", "--outage", "true"])
        #expect(cliStatus == 0 && cliOut.contains(#""outage":true"#), "\(cliOut)")
        let (_, outageStart) = try await call(client, .POST, base() + "/v1/verifications", key: key, body: #"{"to":"+6281234567099","purpose":"login"}"#)
        let during = outageStart?.objectValue?["id"]?.stringValue ?? ""
        var channels: [String] = []
        for _ in 0..<100 where !channels.contains("sms") {
            channels = try await deliveries(during).compactMap { $0["channel"]?.stringValue }
            if !channels.contains("sms") { _ = await server.waitFor("\u{0}never", seconds: 0.05) }
        }
        #expect(channels == ["whatsapp", "sms"], "WhatsApp down: straight on to SMS")
        let (endStatus, endOut, _) = try await ServerProcess.run(["simulator", "--url", base(), "--data-dir", dir, "--channel", "whatsapp", "--outage", "false"])
        #expect(endStatus == 0 && endOut.contains(#""outage":false"#))
        _ = await server.stop()
        }
    }

    @Test("production refuses the simulator and generated or example secrets")
    func productionRefusals() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (status, _, err) = try await ServerProcess.run(
            ["serve", "--production", "--data-dir", directory, "--port", "0"], environment: ["SANDI_SIMULATOR_ENABLED": "true"])
        #expect(status != 0 && err.contains("simulator") && err.contains("SANDI_CODE_KEYS"))
        let (example, _, exampleErr) = try await ServerProcess.run(
            ["serve", "--data-dir", directory, "--port", "0"],
            environment: ["SANDI_ENV": "production", "SANDI_SIMULATOR_ENABLED": "false", "SANDI_CODE_KEYS": "k1:c2FuZGktZXhhbXBsZS1rZXktZG8tbm90LXVzZS1pbi1wcm9kISE="])
        #expect(example != 0 && exampleErr.contains("example code key"))
    }
}

enum NIOHTTP1Method {
    case GET, POST
    var ahc: NIOHTTP1.HTTPMethod { self == .GET ? .GET : .POST }
}
