import Foundation
import SandiCore
import SandiStorage
import Testing

@Suite("Rollup fields kept from writing to sealing")
struct EventRollupFieldsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func record(_ event: Event, text: String) -> AuditRecord {
        AuditRecord(seq: 1, eventID: event.id, tenantID: event.tenantID, verificationID: event.verificationID, type: event.type,
                    createdAtMillis: Timestamp.millis(event.createdAt), data: text, previousHash: nil, hash: nil)
    }

    @Test("kept for counted events only, taken once, and only for the text that was written")
    func takeOnce() throws {
        let cache = EventRollupFields(capacity: 100)
        let sent = Event(tenantID: "ten_a", verificationID: "ver_1", type: "delivery.sent", createdAt: now,
                         data: ["channel": "sms", "provider": "simulator", "to": "+62812*****890"])
        let text = try cache.encode(sent)
        #expect(text == (try JSONColumn.encode(sent.data)), "the same text as before")
        let other = Event(tenantID: "ten_a", verificationID: "ver_1", type: "delivery.queued", createdAt: now, data: ["channel": "sms"])
        _ = try cache.encode(other)
        #expect(cache.count == 1, "an event that does not count is not kept")

        // Read back altered (or anything but the text written): decoded instead.
        #expect(cache.take(record(sent, text: text.replacingOccurrences(of: "sms", with: "voice"))) == nil)
        #expect(cache.count == 0, "taken out all the same")
        _ = try cache.encode(sent)
        let fields = try #require(cache.take(record(sent, text: text)))
        #expect(fields == (try JSONDecoder().decode(Rollups.Fields.self, from: Data(text.utf8))))
        #expect(cache.take(record(sent, text: text)) == nil, "taken once")
        #expect(Rollups.deltas(for: [record(sent, text: text)], known: { _ in fields }) == Rollups.deltas(for: [record(sent, text: text)]))
    }

    @Test("bounded: past its capacity it starts over")
    func bounded() throws {
        let cache = EventRollupFields(capacity: 10)
        for i in 0..<25 {
            _ = try cache.encode(Event(tenantID: "ten_a", verificationID: "ver_\(i)", type: "verification.approved", createdAt: now, data: ["purpose": "login"]))
            #expect(cache.count <= 10)
        }
        #expect(cache.count == 5)
    }
}
