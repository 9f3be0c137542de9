import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SandiCore
import Testing

/// Runs `psql` against the test server and returns its unaligned output.
func psql(_ url: String, _ sql: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["psql", url, "-Atc", sql]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

extension BinaryTests {
    @Test("three nodes on one PostgreSQL: SIGKILL one mid-work; every step sent once, limits and idempotency shared, takeover within the lease")
    func threeNodes() async throws {
        guard let base = ProcessInfo.processInfo.environment["SANDI_TEST_DATABASE_URL"] else {
            throw TestFailure("SANDI_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
        }
        let schema = "mn_" + Identifier.randomBase32(bytes: 6).lowercased()
        let url = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
        let dir = directory + "-nodes"
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            _ = try? psql(base, "DROP SCHEMA IF EXISTS \(schema) CASCADE")
        }
        let keyBytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        var env = ["SANDI_DATABASE_URL": url, "SANDI_CODE_KEYS": "k1:" + Data(keyBytes).base64EncodedString(),
                   "SANDI_PLAN": "whatsapp:3,sms:3,voice", "SANDI_WORKER_LEASE_SECONDS": "6", "SANDI_DEMO_TENANT": "false",
                   "SANDI_DATA_DIR": dir + "/admin"]

        // The schema changes only by an explicit, listed migration.
        let (refused, _, refusedErr) = try await ServerProcess.run(["serve", "--port", "0"], environment: env)
        #expect(refused != 0 && refusedErr.contains("sandi migrate --apply"), "\(refusedErr)")
        let (_, dry, _) = try await ServerProcess.run(["migrate"], environment: env)
        #expect(dry.contains("pending: 1, 2, 3, 4, 5") && dry.contains("dry run"), "\(dry)")
        let (_, applied, _) = try await ServerProcess.run(["migrate", "--apply"], environment: env)
        #expect(applied.contains("applied: 1, 2, 3, 4, 5"), "\(applied)")
        _ = try await ServerProcess.run(["tenant", "create", "acme"], environment: env)
        let key = try await ServerProcess.run(["key", "create", "--tenant", "acme"], environment: env).1.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("sandi_"), "a key: \(key)")

        var nodes: [ServerProcess] = []
        var ports: [Int] = []
        for i in 0..<3 {
            env["SANDI_DATA_DIR"] = dir + "/node\(i)"
            let node = try ServerProcess(["serve", "--port", "0"], environment: env)
            nodes.append(node)
            ports.append(try await node.listeningPort())
        }
        let listening = ports
        @Sendable func endpoint(_ node: Int, _ path: String) -> String { "http://127.0.0.1:\(listening[node])\(path)" }
        try await withClient { client in
            for node in 0..<3 {
                // Slow sends (a node holds its claimed jobs for 1.5 s, well within the 6 s lease, so
                // node 1 dies holding work); no receipts on WhatsApp and SMS, so every step waits
                // for its timer and the plan ends with a delivered voice call.
                #expect(try await call(client, .POST, endpoint(node, "/v1/dev/simulator"), key: key, body: #"{"latency_ms":1500}"#).0 == 200)
                for channel in ["whatsapp", "sms"] {
                    #expect(try await call(client, .POST, endpoint(node, "/v1/dev/simulator"), key: key, body: #"{"channel":"\#(channel)","receipts":false}"#).0 == 200)
                }
            }
            // Limits are shared: starts to one number spread over the three nodes get the allowance once.
            var limited: [Int] = []
            for i in 0..<9 {
                limited.append(try await call(client, .POST, endpoint(i % 3, "/v1/verifications"), key: key, body: #"{"to":"+6281777000001","purpose":"login"}"#).0)
            }
            #expect(limited.filter { $0 == 201 }.count == 5 && limited.filter { $0 == 429 }.count == 4, "destination_5_per_600s across nodes: \(limited)")
            // An idempotency key holds across nodes.
            let once = #"{"to":"+6281777000002","purpose":"login"}"#
            let first = try await call(client, .POST, endpoint(0, "/v1/verifications"), key: key, body: once, headers: ["Idempotency-Key": "same-on-every-node"])
            let again = try await call(client, .POST, endpoint(2, "/v1/verifications"), key: key, body: once, headers: ["Idempotency-Key": "same-on-every-node"])
            #expect(first.0 == 201 && again.0 == 201 && first.1?.objectValue?["id"] == again.1?.objectValue?["id"], "replayed by another node")

            // Load over every node; node 1 gets its share last and dies while it sends it (a node
            // claims the jobs of its own requests at once).
            let numbers = (0..<60).map { i in ["+62812", "+62813", "+62857"][i % 3] + String(format: "%07d", 4_100_000 + i) }
            var accepted: [String] = []
            for nodeSet in [[0, 2], [1]] {
                accepted += try await withThrowingTaskGroup(of: String?.self) { group in
                    for (i, number) in numbers.enumerated() where nodeSet.contains(i % 3) {
                        group.addTask {
                            let (status, body) = try await self.call(client, .POST, endpoint(i % 3, "/v1/verifications"), key: key, body: #"{"to":"\#(number)","purpose":"login"}"#)
                            return status == 201 ? body?.objectValue?["id"]?.stringValue : nil
                        }
                    }
                    return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
                }
            }
            #expect(accepted.count == 60)
            let loadCount = accepted.count
            guard let ownerRange = nodes[1].stderr.range(of: #"owner=worker-[a-z0-9]+"#, options: .regularExpression) else {
                throw TestFailure("no worker owner in node 1's log")
            }
            let owner = String(nodes[1].stderr[ownerRange].dropFirst("owner=".count))
            let heldSQL = "SELECT count(*) FROM \(schema).jobs WHERE NOT done AND lease_owner = '\(owner)' AND lease_until IS NOT NULL"
            // Node 1 dies the moment it holds work (a claimed job whose send is under way). A node
            // claims the jobs of its own requests at once, unless a busier node polled first: one
            // more start to node 1 at a time until it holds one.
            var extra = 0
            while try psql(base, heldSQL) == "0", extra < 40 {
                let number = "+62858" + String(format: "%07d", 4_200_000 + extra)
                let (status, body) = try await call(client, .POST, endpoint(1, "/v1/verifications"), key: key, body: #"{"to":"\#(number)","purpose":"login"}"#)
                if status == 201, let id = body?.objectValue?["id"]?.stringValue { accepted.append(id) }
                extra += 1
                for _ in 0..<10 where try psql(base, heldSQL) == "0" { _ = await nodes[0].waitFor("\u{0}never", seconds: 0.02) }
            }
            _ = await nodes[1].stop(signal: SIGKILL)
            let killedAt = ContinuousClock.now
            let held = try psql(base, heldSQL)
            var takeover: Duration = .zero
            for _ in 0..<200 {
                if try psql(base, "SELECT count(*) FROM \(schema).jobs WHERE NOT done AND lease_owner = '\(owner)'") == "0" {
                    takeover = ContinuousClock.now - killedAt
                    break
                }
                _ = await nodes[0].waitFor("\u{0}never", seconds: 0.1)
            }
            #expect(Int(held) ?? 0 > 0, "node 1 (\(owner)) died holding leased jobs: \(held)")
            #expect(takeover > .zero && takeover < .seconds(10), "the survivors took node 1's jobs over within the 6 s lease (+ margin): \(takeover)")

            // Every accepted verification runs its whole plan: WhatsApp, SMS, voice, each sent once.
            func deliveries(_ id: String) async throws -> [[String: JSONValue]] {
                try await call(client, .GET, endpoint(0, "/v1/verifications/\(id)"), key: key).1?.objectValue?["deliveries"]?.arrayValue?.compactMap(\.objectValue) ?? []
            }
            var done = false
            for _ in 0..<400 where !done {
                done = true
                for id in accepted {
                    let d = try await deliveries(id)
                    if d.count < 3 || d.contains(where: { $0["status"] == "queued" }) || d.last?["status"] != "delivered" { done = false; break }
                }
                if !done { _ = await nodes[0].waitFor("\u{0}never", seconds: 0.1) }
            }
            let finishedAt = ContinuousClock.now - killedAt
            #expect(done, "every plan ran to its end")
            var duplicates = 0, lost = 0, steps = 0, delivered = 0
            for id in accepted {
                let d = try await deliveries(id)
                let channels = d.compactMap { $0["channel"]?.stringValue }
                if d.last?["status"] == "delivered" { delivered += 1 }
                steps += channels.count
                duplicates += channels.count - Set(channels).count
                if channels != ["whatsapp", "sms", "voice"] { lost += 1 }
                let (_, read) = try await call(client, .GET, endpoint(2, "/v1/verifications/\(id)?include=events"), key: key)
                let sent = read?.objectValue?["events"]?.arrayValue?.filter { $0.objectValue?["type"] == "delivery.sent" }.count ?? 0
                #expect(sent == channels.count, "one send event per step: \(sent) for \(channels)")
            }
            #expect(duplicates == 0 && lost == 0 && delivered == accepted.count)
            print("three nodes on PostgreSQL: \(accepted.count) accepted (\(loadCount) in the load, \(accepted.count - loadCount) more to node 1 until it held work), \(delivered) delivered (by voice, the last step), \(steps) steps sent, \(duplicates) duplicates, \(lost) lost; node 1 killed holding \(held) leased jobs, taken over after \(takeover) (lease 6 s), every plan done \(finishedAt) after the kill; limit across nodes: \(limited.filter { $0 == 201 }.count) of 9 accepted (limit 5)")
        }
        for node in [nodes[0], nodes[2]] { #expect(await node.stop() == 0) }
    }
}
