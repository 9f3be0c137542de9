/// A rule choosing the plan for some starts: by purpose, destination country and operator (each
/// optional: absent matches all). The first matching rule of a tenant wins.
public struct PlanRule: Sendable, Equatable, Codable {
    public var name: String?
    public var purposes: [Purpose]?
    public var countries: [String]?
    public var operators: [String]?
    /// Steps as `whatsapp:40,sms:45,voice`.
    public var plan: String

    public init(name: String? = nil, purposes: [Purpose]? = nil, countries: [String]? = nil, operators: [String]? = nil, plan: String) {
        self.name = name
        self.purposes = purposes
        self.countries = countries
        self.operators = operators
        self.plan = plan
    }

    public func matches(purpose: Purpose, country: String, operator: String?) -> Bool {
        (purposes.map { $0.contains(purpose) } ?? true)
            && (countries.map { $0.map { $0.uppercased() }.contains(country) } ?? true)
            && (operators.map { list in `operator`.map { op in list.contains { $0.caseInsensitiveCompare(op) == .orderedSame } } ?? false } ?? true)
    }
}

/// A tenant's routing settings: plan rules, and whether a number's last working channel goes first.
public struct RoutingSettings: Sendable, Equatable, Codable {
    public var rules: [PlanRule]
    /// Put the channel that last delivered a code to this number first (unless a rule or the
    /// caller forced the start).
    public var preferLastWorked: Bool
    /// How long what worked is remembered.
    public var lastWorkedDays: Int

    public init(rules: [PlanRule] = [], preferLastWorked: Bool = true, lastWorkedDays: Int = 30) {
        self.rules = rules
        self.preferLastWorked = preferLastWorked
        self.lastWorkedDays = lastWorkedDays
    }

    enum CodingKeys: String, CodingKey { case rules, preferLastWorked = "prefer_last_worked", lastWorkedDays = "last_worked_days" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rules = try c.decodeIfPresent([PlanRule].self, forKey: .rules) ?? []
        preferLastWorked = try c.decodeIfPresent(Bool.self, forKey: .preferLastWorked) ?? true
        lastWorkedDays = try c.decodeIfPresent(Int.self, forKey: .lastWorkedDays) ?? 30
    }

    public var problems: [FieldError] {
        var out: [FieldError] = []
        if rules.count > 100 { out.append(FieldError(field: "rules", reason: "at most 100 rules")) }
        for (i, rule) in rules.enumerated() where DeliveryPlan(parsing: rule.plan) == nil {
            out.append(FieldError(field: "rules[\(i)].plan", reason: "must be steps like whatsapp:40,sms:45,voice (each channel once, timeouts 1–600 s)"))
        }
        if !(1...365).contains(lastWorkedDays) { out.append(FieldError(field: "last_worked_days", reason: "must be 1–365")) }
        return out
    }

    /// The first rule that matches a start, with its index.
    public func rule(purpose: Purpose, country: String, operator: String?) -> (index: Int, rule: PlanRule)? {
        rules.enumerated().first { $0.element.matches(purpose: purpose, country: country, operator: `operator`) }.map { ($0.offset, $0.element) }
    }
}
