public import SandiCore
import Synchronization

/// The rollup fields of events this process wrote and has not sealed yet, so that sealing counts
/// them without decoding their data's JSON again (that decoding was about 3 % of a start's CPU).
///
/// An entry is kept under the event's id with a hash of the data text written; sealing takes it
/// out, and uses it only if the text it read back has the same hash. Anything else (another
/// node's events, a restart, an entry dropped for room) is decoded as before, with the same
/// result. Bounded: past `capacity` entries (events written and never sealed here, e.g. in a
/// rolled-back batch) it starts over.
public final class EventRollupFields: Sendable {
    private struct Entry: Sendable {
        let textHash: Int
        let fields: Rollups.Fields
    }

    private let entries = Mutex<[String: Entry]>([:])
    public let capacity: Int

    public init(capacity: Int = 32_768) {
        self.capacity = capacity
    }

    /// The process's shared instance, used by every store.
    public static let shared = EventRollupFields()

    /// The JSON text of an event's data, as ``JSONColumn/encode(_:)`` writes it; keeps its rollup
    /// fields when the event's type counts.
    public func encode(_ event: Event) throws -> String {
        let text = try JSONColumn.encode(event.data)
        if Rollups.countedTypes.contains(event.type) {
            let entry = Entry(textHash: text.hashValue, fields: Rollups.Fields(event.data))
            entries.withLock { entries in
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[event.id] = entry
            }
        }
        return text
    }

    /// Takes out the fields kept for a record, if they were kept for the same data text.
    public func take(_ record: AuditRecord) -> Rollups.Fields? {
        guard let entry = entries.withLock({ $0.removeValue(forKey: record.eventID) }), entry.textHash == record.data.hashValue else { return nil }
        return entry.fields
    }

    /// Entries held now.
    public var count: Int { entries.withLock { $0.count } }
}
