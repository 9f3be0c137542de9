import Foundation
import SandiCore
import SandiTesting
import Testing

extension APIClient {
    func put(_ path: String, _ body: String) async throws -> Answer {
        try await request(.put, path, body: body)
    }

    /// The tenant's audit records of one type, newest first (their data parsed).
    func audit(_ type: String) async throws -> [[String: JSONValue]] {
        try await harness.system.store.latestAudit(beforePosition: nil, limit: 1000)
            .filter { $0.type == type }
            .map { (try? JSONDecoder().decode(JSONValue.self, from: Data($0.data.utf8)))?.objectValue ?? [:] }
    }

    /// Texts the simulated phone received, newest first.
    func texts(to: String) async throws -> [String] {
        try await deliver()
        let outbox = try await get("/v1/dev/outbox?to=" + to.replacingOccurrences(of: "+", with: "%2B"))
        return (outbox["messages"]?.arrayValue ?? []).compactMap { $0.objectValue?["text"]?.stringValue }
    }

    /// The risk reasons of a verification answer.
    func reasons(_ answer: Answer) -> [String] {
        (answer["risk"]?.objectValue?["reasons"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// Approves a verification with the code its phone received.
    func approve(_ id: String, to: String) async throws {
        let answer = try await post("/v1/verifications/\(id)/check", #"{"code":"\#(try await code(to: to))"}"#)
        guard answer["valid"] == true else { throw TestFailure("check failed: \(answer.text)") }
    }
}

@Suite("Accounts: users, groups, number changes, recovery")
struct AccountAPITests {
    // A Bangladeshi worker's home SIM, and the Malaysian SIM they get on site.
    static let home = "+8801712345678"
    static let local = "+60123456789"

    @Test("users: register, read, update, clear fields, validation, a number is changed only by a phone change, delete; every change audited")
    func users() async throws {
        try await APIHarness.make().run { api in
            let created = try await api.put("/v1/users/w-1", #"{"phone":"\#(Self.home)","group":"worker","locale":"bn","preferred_channel":"whatsapp","supervisor_ref":"s-1","display_name":"Rahim (site B)"}"#)
            #expect(created.status == 201, "\(created.text)")
            #expect(created["phone"] == .string(Self.home) && created["country"] == "BD" && created["group"] == "worker" && created["locale"] == "bn")
            #expect(created["number_history"] == .array([]) && created["cooling_off_until"] == .null && created["recovery_codes_left"] == .null)
            let read = try await api.get("/v1/users/w-1")
            #expect(read.status == 200 && read["display_name"] == "Rahim (site B)" && read["supervisor_ref"] == "s-1")
            let updated = try await api.put("/v1/users/w-1", #"{"preferred_channel":"sms","display_name":null}"#)
            #expect(updated.status == 200 && updated["preferred_channel"] == "sms" && updated["display_name"] == .null && updated["group"] == "worker")
            #expect(try await api.put("/v1/users/w-1", #"{"phone":"\#(Self.home)"}"#).status == 200, "the same number is no change")
            let moved = try await api.put("/v1/users/w-1", #"{"phone":"\#(Self.local)"}"#)
            #expect(moved.status == 409 && moved.code == "phone_change_required")
            // Validation: every problem at once, as problem+json.
            let bad = try await api.put("/v1/users/w-2", #"{"phone":"12345","group":"Boss!","preferred_channel":"pigeon","locale":"x"}"#)
            #expect(bad.status == 422 && bad.code == "invalid_request", "\(bad.text)")
            #expect(Set((bad["errors"]?.arrayValue ?? []).compactMap { $0.objectValue?["field"]?.stringValue }) == ["group", "locale"])
            let badGroup = try await api.put("/v1/users/w-2", #"{"group":"guests","preferred_channel":"pigeon"}"#)
            #expect(badGroup.status == 422 && Set((badGroup["errors"]?.arrayValue ?? []).compactMap { $0.objectValue?["field"]?.stringValue }) == ["group", "preferred_channel"])
            #expect(try await api.put("/v1/users/w-2", #"{"phone":"12345"}"#).code == "invalid_phone_number")
            #expect(try await api.put("/v1/users/w-2", #"{"phone":null}"#).status == 422)
            #expect(try await api.put("/v1/users/w-2", #"{"supervisor_ref":"w-2"}"#).status == 422)
            #expect(try await api.put("/v1/users/w-2", "[1]").status == 400)
            #expect(try await api.get("/v1/users/nobody").status == 404)
            #expect(try await api.get("/v1/users/w-1", key: api.harness.otherKey).status == 404, "another tenant sees nothing")
            // A user_ref with spaces and non-ASCII letters, percent-encoded in the path.
            #expect(try await api.put("/v1/users/Nguy%E1%BB%85n%20V%C4%83n%20A", #"{"locale":"vi"}"#)["user_ref"] == "Nguyễn Văn A")
            let audit = try await api.audit("user.created") + api.audit("user.updated")
            #expect(audit.count == 3)
            #expect(!(try await api.harness.system.store.latestAudit(beforePosition: nil, limit: 1000)).contains { $0.data.contains(Self.home) },
                    "no full number in the audit trail")
            #expect(try await api.request(.delete, "/v1/users/w-1").status == 204)
            #expect(try await api.get("/v1/users/w-1").status == 404)
            #expect(try await api.request(.delete, "/v1/users/w-1").status == 404)
        }
    }

    @Test("number change with the old number: codes to both numbers; nothing moves until both are approved; the old number is told in the user's language; cooling-off steps up sensitive purposes; history feeds risk")
    func changeWithOldNumber() async throws {
        let clock = ManualClock()
        try await APIHarness.make(clock: clock).run { api in
            #expect(try await api.put("/v1/users/w-1", #"{"phone":"\#(Self.home)","locale":"bn"}"#).status == 201)
            let started = try await api.post("/v1/phone-changes", #"{"user_ref":"w-1","new_to":"0123456789","country":"MY"}"#)
            #expect(started.status == 201, "\(started.text)")
            #expect(started["status"] == "pending" && started["method"] == "old_number" && started["new_to"] == .string(Self.local))
            #expect(started["requires"] == .array(["new_number_code", "old_number_code"]))
            let id = started["id"]?.stringValue ?? ""
            let newID = started["new_verification_id"]?.stringValue ?? ""
            let oldID = started["old_verification_id"]?.stringValue ?? ""
            #expect(id.hasPrefix("pcr_") && newID.hasPrefix("ver_") && oldID.hasPrefix("ver_"))
            #expect(try await api.get("/v1/verifications/\(newID)")["purpose"] == "phone_change")
            let early = try await api.post("/v1/phone-changes/\(id)/complete")
            #expect(early.status == 409 && early.code == "phone_change_incomplete")
            try await api.approve(newID, to: Self.local)
            let half = try await api.post("/v1/phone-changes/\(id)/complete")
            #expect(half.status == 409 && half["detail"]?.stringValue?.contains("old_number_code") == true)
            #expect(try await api.get("/v1/users/w-1")["phone"] == .string(Self.home), "nothing moved yet")
            try await api.approve(oldID, to: Self.home)
            let done = try await api.post("/v1/phone-changes/\(id)/complete")
            #expect(done.status == 200 && done["status"] == "completed" && done["requires"] == .array([]), "\(done.text)")
            #expect(try await api.post("/v1/phone-changes/\(id)/complete")["status"] == "completed", "completing again changes nothing")
            let user = try await api.get("/v1/users/w-1")
            #expect(user["phone"] == .string(Self.local) && user["country"] == "MY")
            let history = user["number_history"]?.arrayValue?.first?.objectValue
            #expect(history?["method"] == "old_number" && history?["from"]?.stringValue?.hasSuffix("78") == true && history?["from"] != .string(Self.home))
            #expect(user["cooling_off_until"]?.stringValue != nil)
            // The old number is told, in Bengali.
            let told = try await api.texts(to: Self.home)
            #expect(told.filter { $0.hasPrefix("Sandi: আপনার অ্যাকাউন্টের ফোন নম্বর এইমাত্র পরিবর্তন করা হয়েছে।") }.count == 1, "told once, when the change completed: \(told)")
            #expect(try await api.texts(to: Self.local).count == 1, "the new number got its code and no notice")
            #expect(try await api.audit("phone_change.completed").first?["method"] == "old_number")
            // Cooling-off: a password reset steps up (reasons say why); a login does not.
            let reset = try await api.post("/v1/verifications", #"{"to":"\#(Self.local)","purpose":"password_reset","user_ref":"w-1"}"#)
            #expect(reset["risk"]?.objectValue?["action"] == "step_up", "\(reset.text)")
            let reasons = api.reasons(reset)
            #expect(reasons.contains("cooling_off") && reasons.contains("number_changed_recently"), "\(reasons)")
            #expect(reset["locale"] == "bn", "the user's language, not Malaysia's")
            let login = try await api.post("/v1/verifications", #"{"to":"\#(Self.local)","purpose":"login","user_ref":"w-1"}"#)
            #expect(!api.reasons(login).contains("cooling_off"))
            // A code to a number other than the registered one is a risk signal.
            let elsewhere = try await api.post("/v1/verifications", #"{"to":"+60123456780","purpose":"login","user_ref":"w-1"}"#)
            #expect(api.reasons(elsewhere).contains("unregistered_number"))
            // After 72 h (a worker's cooling-off) the reset is no longer stepped up for it.
            clock.advance(by: 73 * 3600)
            let later = try await api.post("/v1/verifications", #"{"to":"\#(Self.local)","purpose":"password_reset","user_ref":"w-1"}"#)
            #expect(!api.reasons(later).contains("cooling_off"), "\(later.text)")
            // Problems.
            #expect(try await api.post("/v1/phone-changes", #"{"user_ref":"w-1","new_to":"\#(Self.local)"}"#).status == 422, "already the number")
            #expect(try await api.post("/v1/phone-changes", #"{"user_ref":"nobody","new_to":"\#(Self.local)"}"#).status == 404)
            #expect(try await api.post("/v1/phone-changes", #"{"user_ref":"w-1"}"#).status == 422)
            #expect(try await api.get("/v1/phone-changes/pcr_nope").status == 404)
            #expect(try await api.get("/v1/phone-changes/\(id)", key: api.harness.otherKey).status == 404)
            #expect(try await api.put("/v1/users/no-phone", #"{"group":"worker"}"#).status == 201)
            #expect(try await api.post("/v1/phone-changes", #"{"user_ref":"no-phone","new_to":"\#(Self.local)"}"#).code == "no_registered_number")
            // An ended change stays readable for a week (the audit trail keeps it for good).
            #expect(try await api.get("/v1/phone-changes/\(id)")["status"] == "completed")
            clock.advance(by: 4 * 86_400)
            #expect(try await api.get("/v1/phone-changes/\(id)").status == 404)
            #expect(try await api.get("/v1/users/w-1")["number_history"]?.arrayValue?.count == 1, "the history stays with the account")
        }
    }

    @Test("number change without the old number: a supervisor approves (not the user, not a worker); a rejection cancels; the dashboard's list shows what waits")
    func changeWithApproval() async throws {
        try await APIHarness.make().run { api in
            _ = try await api.put("/v1/users/w-1", #"{"phone":"\#(Self.home)","group":"worker"}"#)
            _ = try await api.put("/v1/users/w-2", #"{"phone":"+8801712345679","group":"worker"}"#)
            _ = try await api.put("/v1/users/s-1", #"{"phone":"+60123456788","group":"supervisor"}"#)
            let started = try await api.post("/v1/phone-changes", #"{"user_ref":"w-1","new_to":"\#(Self.local)","old_number_available":false}"#)
            #expect(started["status"] == "pending" && started["method"] == "approval" && started["old_verification_id"] == .null)
            #expect(started["requires"] == .array(["new_number_code", "approval"]))
            let id = started["id"]?.stringValue ?? ""
            #expect(try await api.outboxCount(Self.home) == 0, "no code goes to the lost number")
            let waiting = try await api.get("/v1/phone-changes?status=awaiting_approval")
            #expect(waiting["items"]?.arrayValue?.count == 1)
            let selfApproval = try await api.post("/v1/phone-changes/\(id)/approve", #"{"approver_ref":"w-1"}"#)
            #expect(selfApproval.status == 403 && selfApproval.code == "approver_not_allowed")
            #expect(try await api.post("/v1/phone-changes/\(id)/approve", #"{"approver_ref":"w-2"}"#).status == 403, "workers may not approve")
            #expect(try await api.post("/v1/phone-changes/\(id)/approve", #"{"approver_ref":"ghost"}"#).status == 403)
            #expect(try await api.post("/v1/phone-changes/\(id)/approve", #"{}"#).status == 422)
            let approved = try await api.post("/v1/phone-changes/\(id)/approve", #"{"approver_ref":"s-1","note":"seen his passport at the site office"}"#)
            #expect(approved.status == 200 && approved["approved_by"] == "s-1" && approved["requires"] == .array(["new_number_code"]), "\(approved.text)")
            #expect(try await api.post("/v1/phone-changes/\(id)/approve", #"{"approver_ref":"s-1"}"#).code == "phone_change_not_pending")
            try await api.approve(started["new_verification_id"]?.stringValue ?? "", to: Self.local)
            let done = try await api.post("/v1/phone-changes/\(id)/complete")
            #expect(done["status"] == "completed")
            let history = try await api.get("/v1/users/w-1")["number_history"]?.arrayValue?.first?.objectValue
            #expect(history?["method"] == "approval" && history?["approved_by"] == "s-1")
            #expect(try await api.audit("phone_change.approved").first?["actor"] == "s-1")
            // A rejection: the change ends, its code is withdrawn.
            let second = try await api.post("/v1/phone-changes", #"{"user_ref":"w-2","new_to":"+60123456787","old_number_available":false}"#)
            let rejected = try await api.post("/v1/phone-changes/\(second["id"]?.stringValue ?? "")/reject", #"{"approver_ref":"s-1","note":"not our worker's request"}"#)
            #expect(rejected["status"] == "rejected" && rejected["rejected_by"] == "s-1")
            #expect(try await api.get("/v1/verifications/\(second["new_verification_id"]?.stringValue ?? "")")["status"] == "canceled")
            #expect(try await api.get("/v1/phone-changes")["items"]?.arrayValue?.count == 0)
            // An approval after the new code was approved completes at once.
            let third = try await api.post("/v1/phone-changes", #"{"user_ref":"w-2","new_to":"+60123456786","old_number_available":false}"#)
            try await api.approve(third["new_verification_id"]?.stringValue ?? "", to: "+60123456786")
            #expect(try await api.post("/v1/phone-changes/\(third["id"]?.stringValue ?? "")/approve", #"{"approver_ref":"s-1"}"#)["status"] == "completed")
            #expect(try await api.get("/v1/users/w-2")["phone"] == "+60123456786")
        }
    }

    @Test("recovery codes: ten shown once, stored as keyed hashes, each works once (typed loosely); a good one signs devices out and gives a grant; wrong ones lock out")
    func recoveryCodes() async throws {
        let clock = ManualClock()
        try await APIHarness.make(clock: clock).run { api in
            _ = try await api.put("/v1/users/u-1", #"{"phone":"+6281234567890","locale":"id"}"#)
            // A trusted device first.
            let login = try await api.start("+6281234567890", purpose: "login", extra: #","user_ref":"u-1","context":{"device_id":"d-1"}"#)
            try await api.approve(login, to: "+6281234567890")
            #expect(try await api.post("/v1/devices/trust", #"{"verification_id":"\#(login)"}"#).status == 201)
            let made = try await api.post("/v1/users/u-1/recovery-codes")
            #expect(made.status == 201 && made.headers["cache-control"] == "no-store")
            let codes = (made["codes"]?.arrayValue ?? []).compactMap(\.stringValue)
            #expect(codes.count == 10 && Set(codes).count == 10 && codes.allSatisfy { $0.count == 11 && $0.dropFirst(5).first == "-" })
            #expect(try await api.get("/v1/users/u-1")["recovery_codes_left"] == 10)
            let wrong = try await api.post("/v1/users/u-1/recovery-codes/redeem", #"{"code":"aaaaa-bbbbb"}"#)
            #expect(wrong.status == 200 && wrong["valid"] == false && wrong["tries_left"] == 4)
            // Typed in capitals, without the dash, with spaces.
            let typed = " " + codes[3].uppercased().replacingOccurrences(of: "-", with: " ")
            let good = try await api.post("/v1/users/u-1/recovery-codes/redeem", #"{"code":"\#(typed)"}"#)
            #expect(good["valid"] == true && good["devices_revoked"] == 1 && good["codes_left"] == 9, "\(good.text)")
            let grant = good["grant_token"]?.stringValue ?? ""
            let redeemed = try await api.post("/v1/grants/redeem", #"{"token":"\#(grant)"}"#)
            #expect(redeemed.status == 200 && redeemed["purpose"] == "new_device" && redeemed["user_ref"] == "u-1", "\(redeemed.text)")
            #expect(try await api.post("/v1/users/u-1/recovery-codes/redeem", #"{"code":"\#(codes[3])"}"#)["valid"] == false, "once only")
            #expect(try await api.post("/v1/devices/check", #"{"user_ref":"u-1","device_id":"d-1","purpose":"login"}"#)["code_required"] == true)
            #expect(try await api.texts(to: "+6281234567890").first?.contains("dipulihkan") == true, "the user is told, in Indonesian")
            #expect(try await api.get("/v1/users/u-1")["cooling_off_until"]?.stringValue != nil)
            // Four more wrong codes: locked for 15 minutes, even for a good code.
            for _ in 0..<4 { _ = try await api.post("/v1/users/u-1/recovery-codes/redeem", #"{"code":"zzzzz-zzzzz"}"#) }
            let locked = try await api.post("/v1/users/u-1/recovery-codes/redeem", #"{"code":"\#(codes[0])"}"#)
            #expect(locked.status == 429 && locked.code == "rate_limited" && locked["retry_after_s"] != nil, "\(locked.text)")
            clock.advance(by: 901)
            #expect(try await api.post("/v1/users/u-1/recovery-codes/redeem", #"{"code":"\#(codes[0])"}"#)["valid"] == true)
            // No recovery code, in any form, in the database or the logs.
            let records = try await api.harness.system.store.latestAudit(beforePosition: nil, limit: 1000)
            for code in codes {
                let bare = code.replacingOccurrences(of: "-", with: "")
                #expect(!api.harness.logs.text.contains(bare) && !api.harness.logs.text.contains(code))
                #expect(!records.contains { $0.data.contains(bare) || $0.data.contains(code) })
            }
            #expect(try await api.harness.system.store.riskStates(prefix: "acct|", now: clock.now, limit: 10).values.allSatisfy { value in
                codes.allSatisfy { !value.contains($0) && !value.contains($0.replacingOccurrences(of: "-", with: "")) }
            })
            // A new set replaces the old one.
            let renewed = try await api.post("/v1/users/u-1/recovery-codes")
            #expect(renewed["count"] == 10)
            #expect(try await api.post("/v1/users/u-1/recovery-codes/redeem", #"{"code":"\#(codes[1])"}"#)["valid"] == false)
            #expect(try await api.post("/v1/users/nobody/recovery-codes").status == 404)
            #expect(try await api.post("/v1/users/u-2/recovery-codes/redeem", #"{"code":"x"}"#).status == 404)
            _ = try await api.put("/v1/users/u-2", #"{"locale":"en"}"#)
            #expect(try await api.post("/v1/users/u-2/recovery-codes/redeem", #"{"code":"x"}"#).code == "no_recovery_codes")
        }
    }

    @Test("admin-assisted recovery: audited with actor and reason, devices signed out, a new number with history and cooling-off, both numbers told, a grant")
    func adminRecovery() async throws {
        try await APIHarness.make().run { api in
            _ = try await api.put("/v1/users/w-1", #"{"phone":"\#(Self.home)","locale":"bn","group":"worker"}"#)
            let login = try await api.start(Self.home, purpose: "login", extra: #","user_ref":"w-1","context":{"device_id":"old-phone"}"#)
            try await api.approve(login, to: Self.home)
            _ = try await api.post("/v1/devices/trust", #"{"verification_id":"\#(login)"}"#)
            #expect(try await api.post("/v1/users/w-1/recover", #"{"actor":"hr-admin-7"}"#).status == 422, "a reason is required")
            let done = try await api.post("/v1/users/w-1/recover", #"{"actor":"hr-admin-7","reason":"phone stolen at dormitory; identity checked in person","new_to":"\#(Self.local)"}"#)
            #expect(done.status == 200 && done["devices_revoked"] == 1 && done["grant_token"]?.stringValue?.hasPrefix("grt_") == true, "\(done.text)")
            let user = done["user"]?.objectValue ?? [:]
            #expect(user["phone"] == .string(Self.local) && user["cooling_off_until"]?.stringValue != nil)
            #expect(user["number_history"]?.arrayValue?.first?.objectValue?["method"] == "admin_recovery")
            let audit = try await api.audit("account.recovered").first ?? [:]
            #expect(audit["actor"] == "api:hr-admin-7" && audit["method"] == "admin" && audit["number_changed"] == true)
            #expect(audit["reason"]?.stringValue?.contains("identity checked") == true)
            #expect(try await api.texts(to: Self.local).first?.contains("পুনরুদ্ধার") == true, "the new number is told, in Bengali")
            #expect(try await api.texts(to: Self.home).first?.contains("ফোন নম্বর") == true, "the old number is told of the change")
            #expect(try await api.post("/v1/users/ghost/recover", #"{"actor":"a","reason":"b"}"#).status == 404)
        }
    }

    @Test("groups: stricter defaults for supervisors and admins, a tenant's own groups (channels, plan, step-ups), validation and audit; a code at every login for supervisors")
    func groups() async throws {
        try await APIHarness.make().run { api in
            let defaults = try await api.get("/v1/settings/groups")
            #expect(defaults["source"] == "defaults")
            #expect(defaults["settings"]?.objectValue?["groups"]?.objectValue?["admin"]?.objectValue?["code_length"] == 8)
            _ = try await api.put("/v1/users/adm-1", #"{"phone":"+6281234567801","group":"admin"}"#)
            let admin = try await api.post("/v1/verifications", #"{"to":"+6281234567801","purpose":"login","user_ref":"adm-1"}"#)
            #expect(admin["code_length"] == 8 && admin["attempts_remaining"] == 3, "\(admin.text)")
            #expect(try await api.code(to: "+6281234567801").count == 8)
            let adminChange = try await api.post("/v1/verifications", #"{"to":"+6281234567801","purpose":"phone_change","user_ref":"adm-1"}"#)
            #expect(adminChange["risk"]?.objectValue?["action"] == "step_up" && adminChange["risk"]?.objectValue?["reasons"] == .array(["group_rule"]))
            // A tenant's own groups: plantation workers get SMS then voice, never WhatsApp.
            let bad = try await api.request(.put, "/v1/settings/groups", body: #"{"groups":{"Bad Name":{},"x":{"code_length":4,"channels":[],"plan":"fax"}},"default_group":"nope"}"#)
            #expect(bad.status == 422, "\(bad.text)")
            let fields = Set((bad["errors"]?.arrayValue ?? []).compactMap { $0.objectValue?["field"]?.stringValue })
            #expect(fields.isSuperset(of: ["groups.Bad Name", "groups.x.code_length", "groups.x.channels", "groups.x.plan", "default_group"]), "\(fields)")
            let saved = try await api.request(.put, "/v1/settings/groups", body: #"{"groups":{"plantation":{"channels":["sms","voice"],"plan":"sms:45,voice","ttl_s":600},"supervisor":{"code_length":8,"two_factor":"always","can_approve":true}},"default_group":"plantation"}"#)
            #expect(saved.status == 200, "\(saved.text)")
            #expect(try await api.audit("settings.groups_updated").first?["actor"] == "api")
            // No group of their own: the default group applies.
            _ = try await api.put("/v1/users/p-1", #"{"phone":"+6281234567802"}"#)
            let field = try await api.post("/v1/verifications", #"{"to":"+6281234567802","purpose":"login","user_ref":"p-1"}"#)
            #expect(field["channel"] == "sms" && field["plan"]?.arrayValue?.count == 2, "\(field.text)")
            let expires = field["expires_at"].flatMap(\.stringValue).flatMap(Timestamp.parse)
            let created = field["created_at"].flatMap(\.stringValue).flatMap(Timestamp.parse)
            #expect(expires.flatMap { e in created.map { e.timeIntervalSince($0) } } == 600)
            let forced = try await api.post("/v1/verifications", #"{"to":"+6281234567802","purpose":"login","user_ref":"p-1","channel":"whatsapp"}"#)
            #expect(forced.status == 422 && forced.code == "channel_unavailable")
            // A supervisor needs a code at every login, even on a trusted device.
            _ = try await api.put("/v1/users/s-1", #"{"phone":"+6281234567803","group":"supervisor"}"#)
            let check = try await api.post("/v1/devices/check", #"{"user_ref":"s-1","device_id":"d","purpose":"login"}"#)
            #expect(check["reasons"]?.arrayValue?.contains("group_policy") == true)
            let worker = try await api.post("/v1/devices/check", #"{"user_ref":"p-1","device_id":"d","purpose":"login"}"#)
            #expect(worker["reasons"] == .array(["unknown_device"]))
            // Without user_ref nothing of the groups applies.
            let anonymous = try await api.post("/v1/verifications", #"{"to":"+6281234567804","purpose":"login"}"#)
            #expect(anonymous["channel"] == "whatsapp" && anonymous["code_length"] == 6)
        }
    }

    @Test("channel choice: the user's saved channel first; foreign numbers by the tenant's rule for international SIMs; rules per group")
    func channelChoice() async throws {
        try await APIHarness.make().run { api in
            _ = try await api.put("/v1/users/u-1", #"{"phone":"+6281234567810","preferred_channel":"voice"}"#)
            let preferred = try await api.post("/v1/verifications", #"{"to":"+6281234567810","purpose":"login","user_ref":"u-1"}"#)
            #expect(preferred["channel"] == "voice", "\(preferred.text)")
            #expect(try await api.audit("verification.created").first?["plan_reasons"] == .array(["user_preference:voice"]))
            let routing = try await api.request(.put, "/v1/settings/routing", body: #"{"home_country":"ID","rules":[{"name":"foreign-sim","international":true,"plan":"whatsapp:40,sms:45,voice"},{"name":"site-workers","groups":["worker"],"international":false,"plan":"sms:45,voice"}]}"#)
            #expect(routing.status == 200, "\(routing.text)")
            #expect(try await api.request(.put, "/v1/settings/routing", body: #"{"rules":[{"international":true,"plan":"sms"}]}"#).status == 422, "international needs home_country")
            _ = try await api.put("/v1/users/w-1", #"{"phone":"+6281234567811","group":"worker"}"#)
            let domestic = try await api.post("/v1/verifications", #"{"to":"+6281234567811","purpose":"login","user_ref":"w-1"}"#)
            #expect(domestic["channel"] == "sms", "a worker on a domestic SIM: SMS first")
            let foreign = try await api.post("/v1/verifications", #"{"to":"\#(Self.home)","purpose":"login","user_ref":"w-1"}"#)
            #expect(foreign["channel"] == "whatsapp", "an international SIM: WhatsApp first")
            #expect(try await api.audit("verification.created").first?["plan_reasons"] == .array(["rule:foreign-sim"]))
        }
    }

    @Test("suspicious logins: the worker is told in their language, their supervisor in the supervisor's, naming the worker; none without an account")
    func suspiciousLogins() async throws {
        try await APIHarness.make().run { api in
            #expect(try await api.request(.put, "/v1/settings/groups", body: #"{"groups":{"worker":{"step_up_purposes":["login","password_reset"]},"supervisor":{"can_approve":true}}}"#).status == 200)
            _ = try await api.put("/v1/users/s-1", #"{"phone":"+6281234567820","group":"supervisor","locale":"id"}"#)
            _ = try await api.put("/v1/users/w-1", #"{"phone":"+9779841234567","group":"worker","locale":"ne","supervisor_ref":"s-1","display_name":"Bikash T."}"#)
            let login = try await api.post("/v1/verifications", #"{"to":"+9779841234567","purpose":"login","user_ref":"w-1"}"#)
            #expect(login["risk"]?.objectValue?["action"] == "step_up", "\(login.text)")
            let supervisor = try await api.texts(to: "+6281234567820")
            #expect(supervisor.count == 1 && supervisor.first?.contains("Bikash T.") == true && supervisor.first?.contains("mencurigakan") == true, "\(supervisor)")
            let worker = try await api.texts(to: "+9779841234567")
            #expect(worker.contains { $0.contains("अतिरिक्त") || $0.contains("थप") }, "a notice in Nepali besides the code: \(worker)")
            #expect(worker.count == 2, "the code and the notice")
            // A password reset stepped up is not a login: no supervisor alert.
            let reset = try await api.post("/v1/verifications", #"{"to":"+9779841234567","purpose":"password_reset","user_ref":"w-1"}"#)
            #expect(reset["risk"]?.objectValue?["action"] == "step_up")
            #expect(try await api.texts(to: "+6281234567820").count == 1)
            // Turned off by the tenant: nothing.
            #expect(try await api.request(.put, "/v1/settings/risk", body: #"{"notifications":{"suspicious_login":false}}"#).status == 200)
            _ = try await api.post("/v1/verifications", #"{"to":"+9779841234567","purpose":"login","user_ref":"w-1"}"#)
            #expect(try await api.texts(to: "+6281234567820").count == 1)
        }
    }
}
