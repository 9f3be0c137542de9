import Crypto
import Foundation

/// One record of the audit trail: an event as stored, with its place in the hash chain.
public struct AuditRecord: Sendable, Equatable {
    /// Position in the append-only log.
    public var seq: Int64
    public var eventID: String
    public var tenantID: String
    public var verificationID: String?
    public var type: String
    public var createdAtMillis: Int64
    /// The event's data exactly as stored (JSON text).
    public var data: String
    /// Hash of the record before it (empty for the first).
    public var previousHash: String?
    /// This record's hash; nil while not sealed yet.
    public var hash: String?

    public init(seq: Int64, eventID: String, tenantID: String, verificationID: String?, type: String, createdAtMillis: Int64, data: String, previousHash: String?, hash: String?) {
        self.seq = seq
        self.eventID = eventID
        self.tenantID = tenantID
        self.verificationID = verificationID
        self.type = type
        self.createdAtMillis = createdAtMillis
        self.data = data
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// The hash chain over the event log: each record's hash covers its content and the previous
/// record's hash, so altering, removing or reordering any record breaks every link after it.
public enum AuditChain {
    /// The hash of a record's content chained to `previous` (hex SHA-256).
    public static func hash(_ record: AuditRecord, previous: String) -> String {
        let fields = [previous, String(record.seq), record.eventID, record.tenantID, record.verificationID ?? "",
                      record.type, String(record.createdAtMillis), record.data]
        // The same bytes as hashing each part in turn, gathered into one buffer.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(64) { $0 + $1.utf8.count })
        for field in fields {
            bytes.append(contentsOf: String(field.utf8.count).utf8)
            bytes.append(0x3A)
            bytes.append(contentsOf: field.utf8)
        }
        return hex(SHA256.hash(data: bytes))
    }

    /// Lowercase hex of a digest.
    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: SHA256.byteCount * 2) { out in
            var i = 0
            for byte in digest {
                out[i] = digits[Int(byte >> 4)]
                out[i + 1] = digits[Int(byte & 0x0F)]
                i += 2
            }
            return i
        }
    }

    /// Hashes for records not sealed yet, in order, continuing from `head` (the last sealed hash).
    public static func seal(_ records: [AuditRecord], after head: String?) -> [(seq: Int64, previous: String, hash: String)] {
        var previous = head ?? ""
        return records.map { record in
            let hash = hash(record, previous: previous)
            defer { previous = hash }
            return (record.seq, previous, hash)
        }
    }

    /// What verifying the chain found.
    public enum Verdict: Sendable, Equatable {
        /// Every sealed record links to the one before it and matches its content.
        case intact(sealed: Int, unsealed: Int)
        /// The first record whose link or content does not match, and why.
        case broken(seq: Int64, eventID: String, reason: String)
    }

    /// Checks sealed records in order (starting after `checkpoint`, the hash of the last record
    /// before them, when older records were purged).
    public static func verify(_ records: [AuditRecord], checkpoint: String? = nil) -> Verdict {
        var previous = checkpoint ?? ""
        var lastSeq: Int64 = .min
        var sealed = 0
        var unsealed = 0
        for record in records {
            guard record.seq > lastSeq else {
                return .broken(seq: record.seq, eventID: record.eventID, reason: "out of order")
            }
            lastSeq = record.seq
            guard let stored = record.hash else {
                unsealed += 1
                continue
            }
            if unsealed > 0 {
                return .broken(seq: record.seq, eventID: record.eventID, reason: "sealed after an unsealed record")
            }
            guard (record.previousHash ?? "") == previous else {
                return .broken(seq: record.seq, eventID: record.eventID, reason: "link to the previous record does not match (a record before it was removed, altered or moved)")
            }
            guard hash(record, previous: previous) == stored else {
                return .broken(seq: record.seq, eventID: record.eventID, reason: "content does not match its hash (altered)")
            }
            previous = stored
            sealed += 1
        }
        return .intact(sealed: sealed, unsealed: unsealed)
    }
}
