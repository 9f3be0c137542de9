import Foundation

/// One step of a delivery plan: a channel, and how long to wait for a receipt before the next step.
public struct PlanStep: Sendable, Hashable, Codable {
    public var channel: Channel
    /// Seconds to wait for a delivery receipt before falling back; nil on the last step.
    public var timeoutSeconds: Int?

    public init(channel: Channel, timeoutSeconds: Int? = nil) {
        self.channel = channel
        self.timeoutSeconds = timeoutSeconds
    }
}

/// The ordered fallback plan of a verification.
public struct DeliveryPlan: Sendable, Hashable, Codable {
    public var steps: [PlanStep]

    public init(steps: [PlanStep]) {
        self.steps = steps
    }

    /// whatsapp (40 s) → sms (45 s) → voice.
    public static let standard = DeliveryPlan(steps: [
        PlanStep(channel: .whatsapp, timeoutSeconds: 40),
        PlanStep(channel: .sms, timeoutSeconds: 45),
        PlanStep(channel: .voice),
    ])

    /// Reads `whatsapp:40,sms:45,voice`: channels in order, each once, with the seconds to wait
    /// for a receipt (1–600) before the next; the last step needs none. Nil when malformed.
    public init?(parsing text: String) {
        var steps: [PlanStep] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count), let channel = Channel(rawValue: String(pieces[0])),
                  !steps.contains(where: { $0.channel == channel }) else { return nil }
            var timeout: Int?
            if pieces.count == 2 {
                guard let t = Int(pieces[1]), (1...600).contains(t) else { return nil }
                timeout = t
            }
            steps.append(PlanStep(channel: channel, timeoutSeconds: timeout))
        }
        guard !steps.isEmpty, steps.dropLast().allSatisfy({ $0.timeoutSeconds != nil }) else { return nil }
        steps[steps.count - 1].timeoutSeconds = nil
        self.init(steps: steps)
    }

    /// The plan restricted to channels that have a provider, starting at `forced` when given
    /// (the steps after it in the plan follow it).
    public func arranged(forced: Channel?, available: Set<Channel>) -> DeliveryPlan {
        var steps = self.steps.filter { available.contains($0.channel) }
        if let forced, available.contains(forced) {
            if let index = steps.firstIndex(where: { $0.channel == forced }) {
                steps = Array(steps[index...])
            } else {
                steps.insert(PlanStep(channel: forced, timeoutSeconds: 45), at: 0)
            }
        }
        if let last = steps.indices.last { steps[last].timeoutSeconds = nil }
        return DeliveryPlan(steps: steps)
    }

    /// The plan with `channel` moved to the front (its timeout kept, 45 s if it had none); the
    /// plan unchanged when it has no such step.
    public func preferring(_ channel: Channel) -> DeliveryPlan {
        guard let index = steps.firstIndex(where: { $0.channel == channel }), index > 0 else { return self }
        var steps = self.steps
        var step = steps.remove(at: index)
        step.timeoutSeconds = step.timeoutSeconds ?? 45
        steps.insert(step, at: 0)
        return DeliveryPlan(steps: steps)
    }

    /// The step after the one at `index`, if any.
    public func step(after index: Int) -> (index: Int, step: PlanStep)? {
        let next = index + 1
        return steps.indices.contains(next) ? (next, steps[next]) : nil
    }
}
