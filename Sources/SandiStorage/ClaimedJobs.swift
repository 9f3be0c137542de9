public import Foundation
public import SandiCore

/// What a claim of due jobs hands the worker, decided the same way by every SQL adapter.
public enum ClaimedJobs {
    /// Pairs each claimed job with its delivery and verification. A job whose code may no longer
    /// travel (verification approved, canceled, locked, expired, or its send no longer queued) is
    /// returned in `withdrawn`, for the adapter to close. Receipt timers (`fallback`) get every
    /// delivery of their verification, in order, to judge against.
    ///
    /// - Parameters:
    ///   - jobs: the claimed jobs with their attempt numbers.
    ///   - verifications: the verifications of those jobs, by id.
    ///   - deliveries: the jobs' deliveries and, for timers, all deliveries of their verifications,
    ///     in queue order.
    public static func assemble(
        _ jobs: [(job: DeliveryJobRecord, attempt: Int)], verifications: [String: Verification], deliveries: [Delivery], now: Date
    ) -> (claimed: [ClaimedJob], withdrawn: [String]) {
        let watched = Set(jobs.filter { $0.job.kind == .fallback }.map(\.job.verificationID))
        var byID: [String: Delivery] = [:]
        var byVerification: [String: [Delivery]] = [:]
        for d in deliveries {
            byID[d.id] = d
            if watched.contains(d.verificationID) { byVerification[d.verificationID, default: []].append(d) }
        }
        var claimed: [ClaimedJob] = []
        var withdrawn: [String] = []
        for (job, attempt) in jobs {
            guard let v = verifications[job.verificationID], v.tenantID == job.tenantID,
                  let d = byID[job.deliveryID], job.kind == .fallback || d.status == .queued,
                  v.status == .pending, v.expiresAt > now
            else {
                withdrawn.append(job.id)
                continue
            }
            var verification = v
            verification.deliveries = byVerification[v.id] ?? []
            claimed.append(ClaimedJob(job: job, delivery: d, verification: verification, attempt: attempt))
        }
        return (claimed.sorted { ($0.job.dueAt, $0.job.id) < ($1.job.dueAt, $1.job.id) }, withdrawn)
    }
}
