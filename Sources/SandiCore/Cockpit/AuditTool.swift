public import Foundation


/// `sandi audit verify|export`: proves the event log's hash chain intact (naming the first broken
/// record otherwise) and exports it.
public struct AuditTool: Sendable {
    public let store: any AuditStore
    public var pageSize = 5_000

    public init(store: any AuditStore) {
        self.store = store
    }

    /// Seals what is not sealed yet, then checks every record in order.
    public func verify() async throws -> AuditChain.Verdict {
        while try await store.sealAudit(limit: pageSize) == pageSize {}
        // After a retention purge the chain starts at the checkpoint: the first record left must
        // follow it directly and link to its hash.
        let checkpoint = try await store.auditCheckpoint()
        var after: Int64 = checkpoint?.seq ?? 0
        var previous: String? = checkpoint?.hash
        if let first = try await store.auditRecords(afterSeq: after, limit: 1).first, first.seq != after + 1 {
            return .broken(seq: first.seq, eventID: first.eventID, reason: "records before it were removed without a retention checkpoint")
        }
        var sealed = 0
        var unsealed = 0
        while true {
            let page = try await store.auditRecords(afterSeq: after, limit: pageSize)
            guard let last = page.last else { break }
            if unsealed > 0, let firstSealed = page.first(where: { $0.hash != nil }) {
                return .broken(seq: firstSealed.seq, eventID: firstSealed.eventID, reason: "sealed after an unsealed record")
            }
            switch AuditChain.verify(page, checkpoint: previous) {
            case .broken(let seq, let id, let reason):
                return .broken(seq: seq, eventID: id, reason: reason)
            case .intact(let s, let u):
                sealed += s
                unsealed += u
            }
            previous = page.last(where: { $0.hash != nil })?.hash ?? previous
            after = last.seq
        }
        return .intact(sealed: sealed, unsealed: unsealed)
    }

    /// Retention: removes events created before `before` (sealed, handed to webhooks) from the
    /// start of the log, keeping a checkpoint so `verify` still proves the rest. Returns how many.
    public func purge(before: Date) async throws -> Int {
        var total = 0
        while true {
            let removed = try await store.purgeAudit(before: before, limit: pageSize)
            total += removed
            if removed < pageSize { return total }
        }
    }

    /// Export formats.
    public enum Format: String, Sendable, CaseIterable {
        case jsonl, csv
    }

    /// Writes every record created at or after `since` to `write`, one line at a time.
    public func export(since: Date?, format: Format, write: (String) -> Void) async throws {
        let sinceMillis = since.map(Timestamp.millis) ?? .min
        if format == .csv { write("seq,id,tenant_id,verification_id,type,created_at,data,prev_hash,hash") }
        var after: Int64 = 0
        while true {
            let page = try await store.auditRecords(afterSeq: after, limit: pageSize)
            guard let last = page.last else { break }
            for record in page where record.createdAtMillis >= sinceMillis {
                write(format == .csv ? Self.csv(record) : try Self.json(record))
            }
            after = last.seq
        }
    }

    static func json(_ r: AuditRecord) throws -> String {
        let data = JSONValue.parse(Array(r.data.utf8)) ?? .string(r.data)
        let object: JSONValue = .object([
            "seq": .number(Double(r.seq)), "id": .string(r.eventID), "tenant_id": .string(r.tenantID),
            "verification_id": r.verificationID.map(JSONValue.string) ?? .null, "type": .string(r.type),
            "created_at": .string(Timestamp.format(millis: r.createdAtMillis)), "data": data,
            "prev_hash": r.previousHash.map(JSONValue.string) ?? .null, "hash": r.hash.map(JSONValue.string) ?? .null,
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }

    static func csv(_ r: AuditRecord) -> String {
        func field(_ value: String?) -> String {
            guard let value else { return "" }
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return [String(r.seq), r.eventID, r.tenantID, r.verificationID, r.type, Timestamp.format(millis: r.createdAtMillis),
                r.data, r.previousHash, r.hash].map(field).joined(separator: ",")
    }
}
