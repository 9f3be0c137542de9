import Foundation
import SandiCore
import SandiPostgres
import SandiSQLite
import SandiTesting
import Testing

/// A fresh SQLite file in a temporary directory, removed afterwards.
struct TemporarySQLite {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "sandi-test-" + Identifier.randomBase32(bytes: 6)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var path: String { directory + "/sandi.sqlite" }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("Store contract")
struct StoreContractTests {
    @Test("in-memory store", arguments: StoreContract.all)
    func memory(_ check: StoreContract.Check) async throws {
        try await check.run(MemoryStore())
    }

    @Test("SQLite store", arguments: StoreContract.all)
    func sqlite(_ check: StoreContract.Check) async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let store = try await SQLiteStore.open(path: temp.path)
        do {
            try await check.run(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}

@Suite("SQLite specifics")
struct SQLiteSpecificTests {
    @Test("data survives closing and reopening the file")
    func survivesReopen() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let creation = try Fixtures.creation(now: now)
        var store = try await SQLiteStore.open(path: temp.path)
        _ = try await store.create(creation)
        try await store.close()
        store = try await SQLiteStore.open(path: temp.path)
        let read = try await store.verification(id: creation.verification.id, tenantID: "ten_a")
        #expect(read?.status == .pending)
        #expect(read?.digest == creation.verification.digest)
        #expect(try await store.pendingJobCount() == 1)
        try await store.close()
    }

    @Test("migrations are versioned and applied once")
    func migrations() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let fresh = try await SQLiteStore.open(path: temp.path, options: SQLiteStoreOptions(migrate: false))
        let before = try await fresh.migrationStatus()
        #expect(before.current == 0 && before.pending == [1, 2, 3, 4, 5])
        #expect(try await fresh.migrate() == [1, 2, 3, 4, 5])
        #expect(try await fresh.migrate() == [])
        let after = try await fresh.migrationStatus()
        #expect(after.current == 5 && after.pending.isEmpty)
        try await fresh.close()
    }

    @Test("a database of the first release upgrades in place: its data stays, new columns work")
    func upgradeFromFirstRelease() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let store = try await SQLiteStore.open(path: temp.path, options: SQLiteStoreOptions(migrate: false))
        #expect(try await store.migrate(upTo: 1) == [1])
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.createTenant(Tenant(id: "ten_old", name: "old", createdAt: now))
        #expect(try await store.migrate() == [2, 3, 4, 5])
        #expect(try await store.tenant(named: "old")?.id == "ten_old")
        var creation = try Fixtures.creation(tenant: "ten_old", purpose: .sensitiveAction, now: now)
        creation.verification.transaction = TransactionDetails(amount: "12.50", currency: "EUR", payee: "ACME")
        _ = try await store.create(creation)
        let read = try await store.verification(id: creation.verification.id, tenantID: "ten_old")
        #expect(read?.transaction == creation.verification.transaction)
        try await store.close()
    }

    @Test("limit counters of schema 4 keep counting after the upgrade: their keys move to the digest-first layout")
    func limitKeysUpgrade() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let store = try await SQLiteStore.open(path: temp.path, options: SQLiteStoreOptions(migrate: false))
        #expect(try await store.migrate(upTo: 4) == [1, 2, 3, 4])
        try await LegacyLimitKeys.write(store)
        #expect(try await store.migrate() == [5])
        try await LegacyLimitKeys.expectMoved(store)
        try await store.close()
    }

    @Test("the writer's statements are not prepared again on every run: clearing a run's bindings would make SQLite do it")
    func statementsPreparedOnce() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let store = try await SQLiteStore.open(path: temp.path)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        // Four times over, with other values (the same limits, as the worker's): create, claim
        // (`LIMIT ?`), the send's outcome (its route), sealing, risk state.
        var afterFirst = 0
        for round in 0..<4 {
            // The first run of a statement may prepare it again once, with its bindings known.
            if round == 1 { afterFirst = try await store.writerReprepares() }
            let at = now.addingTimeInterval(Double(round) * 100)
            let creation = try Fixtures.creation(to: "+62812345678\(round)0", now: at)
            _ = try await store.create(creation)
            let claimed = try await store.claimDue(now: at, owner: "w\(round)", leaseSeconds: 30, limit: 10)
            let job = try #require(claimed.first)
            let outcome = SendOutcome(jobID: job.job.id, leaseOwner: "w\(round)", deliveryID: job.delivery.id, verificationID: creation.verification.id,
                                      tenantID: "ten_a", status: .delivered, providerMessageID: "m\(round)", error: nil, at: at.addingTimeInterval(1),
                                      events: [Event(tenantID: "ten_a", verificationID: creation.verification.id, type: "delivery.sent", createdAt: at)],
                                      fallback: nil)
            #expect(try await store.complete(outcome))
            _ = try await store.sealAudit(limit: 100)
            try await store.updateRiskState(keys: ["lim|ten_a|k\(round)"], now: at) { _ in
                ((), RiskStateWrite(values: ["lim|ten_a|k\(round)": RiskStateValue("\(round)", expiresAt: at.addingTimeInterval(60))]))
            }
        }
        #expect(try await store.writerReprepares() == afterFirst)
        try await store.close()
    }

    @Test("an answered write was synced to disk first (FULL); NORMAL syncs nothing itself")
    func answeredWritesAreSynced() async throws {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        for synchronous in ["FULL", "NORMAL"] {
            let temp = try TemporarySQLite()
            defer { temp.remove() }
            let store = try await SQLiteStore.open(path: temp.path, options: SQLiteStoreOptions(synchronous: synchronous))
            let before = try await store.logActivity().syncs
            // Concurrent writes share syncs, but none is answered before one covering it ran.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        _ = try await store.create(try Fixtures.creation(to: "+62812555\(String(format: "%04d", index))", now: now))
                        if synchronous == "FULL" { #expect(try await store.logActivity().syncs > before) }
                    }
                }
                try await group.waitForAll()
            }
            let syncs = try await store.logActivity().syncs
            if synchronous == "FULL" { #expect(syncs >= 1 && syncs <= 20) } else { #expect(syncs == 0) }
            try await store.close()
        }
    }

    @Test("checkpoints run on a connection of their own, and the data stays whole")
    func checkpointsBesideTheWriter() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let store = try await SQLiteStore.open(path: temp.path, options: SQLiteStoreOptions(checkpointPages: 4))
        var ids: [String] = []
        for index in 0..<40 {
            let creation = try Fixtures.creation(to: "+62812666\(String(format: "%04d", index))", now: now)
            _ = try await store.create(creation)
            ids.append(creation.verification.id)
        }
        #expect(try await store.logActivity().checkpoints >= 1)
        try await store.close()
        let reopened = try await SQLiteStore.open(path: temp.path)
        for id in ids { #expect(try await reopened.verification(id: id, tenantID: "ten_a")?.status == .pending) }
        try await reopened.close()
    }

    @Test("the database file holds no plaintext code")
    func noPlaintextCode() async throws {
        let temp = try TemporarySQLite()
        defer { temp.remove() }
        let store = try await SQLiteStore.open(path: temp.path)
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let code = "918273"
        _ = try await store.create(try Fixtures.creation(code: code, now: now))
        try await store.close()
        for suffix in ["", "-wal", "-shm"] {
            guard let data = FileManager.default.contents(atPath: temp.path + suffix) else { continue }
            #expect(data.range(of: Data(code.utf8)) == nil, "code found in sandi.sqlite\(suffix)")
        }
    }
}

/// A fresh schema on the test PostgreSQL server (`SANDI_TEST_DATABASE_URL`, started by
/// scripts/test.sh), dropped afterwards.
enum TestPostgres {
    struct NoDatabase: Error, CustomStringConvertible {
        var description: String { "SANDI_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, which starts a throw-away PostgreSQL" }
    }

    static var url: String? { ProcessInfo.processInfo.environment["SANDI_TEST_DATABASE_URL"] }

    /// Options for a new, empty schema.
    static func options() throws -> PostgresStoreOptions {
        guard let url else {
            throw NoDatabase()
        }
        var options = try PostgresStoreOptions(url: url).withFreshSchema()
        options.maxConnections = 4
        options.minConnections = 0
        return options
    }

    /// Runs `body` against a store on a fresh schema, then drops the schema.
    static func withStore(migrate: Bool = true, _ body: (PostgresStore) async throws -> Void) async throws {
        let store = try await PostgresStore.open(try options(), migrate: migrate)
        do {
            try await body(store)
        } catch {
            try? await store.dropOwnSchema()
            try? await store.close()
            throw error
        }
        try await store.dropOwnSchema()
        try await store.close()
    }
}

@Suite("PostgreSQL store")
struct PostgresStoreTests {
    @Test("store contract on PostgreSQL", arguments: StoreContract.all)
    func contract(_ check: StoreContract.Check) async throws {
        try await TestPostgres.withStore { store in try await check.run(store) }
    }

    @Test("migrations are versioned, listed before they are applied, and applied once")
    func migrations() async throws {
        try await TestPostgres.withStore(migrate: false) { store in
            try await store.migrate(upTo: 0)
            let before = try await store.migrationStatus()
            #expect(before.current == 0 && before.pending == [1, 2, 3, 4, 5])
            #expect(try await store.migrate() == [1, 2, 3, 4, 5])
            #expect(try await store.migrate() == [])
            #expect(try await store.migrationStatus().pending.isEmpty)
        }
    }

    @Test("limit counters of schema 4 keep counting after the upgrade (PostgreSQL)")
    func limitKeysUpgrade() async throws {
        try await TestPostgres.withStore(migrate: false) { store in
            #expect(try await store.migrate(upTo: 4) == [1, 2, 3, 4])
            try await LegacyLimitKeys.write(store)
            #expect(try await store.migrate() == [5])
            try await LegacyLimitKeys.expectMoved(store)
        }
    }

    @Test("database URLs: user, password, port, database, TLS mode and schema; bad ones refused")
    func urls() throws {
        let o = try PostgresStoreOptions(url: "postgresql://app%40x:p%2Fss@db.internal:6543/otp?sslmode=require&schema=sandi_a&pool_max=7")
        #expect(o.username == "app@x" && o.password == "p/ss" && o.host == "db.internal" && o.port == 6543)
        #expect(o.database == "otp" && o.tls == .require && o.schema == "sandi_a" && o.maxConnections == 7)
        #expect(try PostgresStoreOptions(url: "postgres://x@db/z?sslmode=require&sslrootcert=/etc/sandi/ca.pem").rootCertificatePath == "/etc/sandi/ca.pem")
        #expect(throws: PostgresOptionsError.self) { try PostgresStoreOptions(url: "mysql://x@y/z") }
        #expect(throws: PostgresOptionsError.self) { try PostgresStoreOptions(url: "postgres://x@y/z?schema=a;drop") }
        #expect(throws: PostgresOptionsError.self) { try PostgresStoreOptions(url: "postgres://x@y/z?sslmode=sometimes") }
    }

    @Test("the database clock is one time source for every node")
    func clock() async throws {
        try await TestPostgres.withStore { store in
            let before = Date()
            let db = try await store.databaseNow()
            #expect(abs(db.timeIntervalSince(before)) < 5, "same machine: the clocks agree within seconds")
        }
    }
}

/// Limit counters as schema 4 named them (`lim|tenant|rule[|purpose]|digest`), for the upgrade
/// tests: after migration 5 each must sit under the key the risk engine names it by now.
enum LegacyLimitKeys {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// The engine's keys for a start (every rule that applies), each with the key schema 4 gave it.
    static func keys() throws -> [(old: String, new: String)] {
        let facts = StartFacts(tenantID: "ten_old", purpose: .passwordReset, number: try PhoneNumberParser().parse("+6281234567890"),
                               userRef: "u1", context: ClientContext(ip: "203.0.113.9", deviceID: "dev-1"), now: now)
        var settings = RiskSettings()
        settings.limits.append(LimitRule(key: .destination, max: 3, windowSeconds: 600, purposes: [.passwordReset, .login]))
        let keys = RiskEngine().limitKeys(facts, settings).compactMap { $0 }
        return keys.map { key in
            // lim|tenant|digest|rule[|purpose] → lim|tenant|rule[|purpose]|digest
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return (old: ([parts[0], parts[1]] + parts[3...] + [parts[2]]).joined(separator: "|"), new: key)
        }
    }

    static func write(_ store: some RiskStateStore) async throws {
        let keys = try keys()
        try #require(keys.count >= 8 && keys.contains { $0.new.hasSuffix("|password_reset") }, "every rule, one scoped to purposes")
        try await store.updateRiskState(keys: keys.map(\.old), now: now) { _ in
            ((), RiskStateWrite(values: Dictionary(uniqueKeysWithValues: keys.enumerated().map { index, key in
                (key.old, RiskStateValue("count-\(index)", expiresAt: now.addingTimeInterval(3600)))
            })))
        }
        // Other kinds of state are left as they are.
        try await store.updateRiskState(keys: ["pump.s|ten_old|62812"], now: now) { _ in
            ((), RiskStateWrite(values: ["pump.s|ten_old|62812": RiskStateValue("pump", expiresAt: now.addingTimeInterval(3600))]))
        }
    }

    static func expectMoved(_ store: some RiskStateStore) async throws {
        let keys = try keys()
        let all = try await store.riskStates(prefix: "", now: now, limit: 100)
        #expect(all.count == keys.count + 1, "nothing lost, nothing doubled: \(all.keys.sorted())")
        for (index, key) in keys.enumerated() {
            #expect(all[key.new] == "count-\(index)", "\(key.old) → \(key.new)")
            #expect(all[key.old] == nil)
        }
        #expect(all["pump.s|ten_old|62812"] == "pump")
    }
}
