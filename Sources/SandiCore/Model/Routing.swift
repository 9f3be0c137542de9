/// A rule choosing the plan for some starts: by purpose, destination country and operator, the
/// user's group, and whether the number is foreign to the tenant's home country (each optional:
/// absent matches all). The first matching rule of a tenant wins.
public struct PlanRule: Sendable, Equatable, Codable {
    public var name: String?
    public var purposes: [Purpose]?
    public var countries: [String]?
    public var operators: [String]?
    /// The users' groups the rule is for (a start without a group matches none of them).
    public var groups: [String]?
    /// true: only numbers of a country other than the tenant's `home_country`; false: only
    /// numbers of the home country.
    public var international: Bool?
    /// Steps as `whatsapp:40,sms:45,voice`.
    public var plan: String

    public init(name: String? = nil, purposes: [Purpose]? = nil, countries: [String]? = nil, operators: [String]? = nil,
                groups: [String]? = nil, international: Bool? = nil, plan: String) {
        self.name = name
        self.purposes = purposes
        self.countries = countries
        self.operators = operators
        self.groups = groups
        self.international = international
        self.plan = plan
    }

    public func matches(purpose: Purpose, country: String, operator: String?, group: String? = nil, homeCountry: String? = nil) -> Bool {
        (purposes.map { $0.contains(purpose) } ?? true)
            && (countries.map { $0.map { $0.uppercased() }.contains(country) } ?? true)
            && (operators.map { list in `operator`.map { op in list.contains { $0.caseInsensitiveCompare(op) == .orderedSame } } ?? false } ?? true)
            && (groups.map { list in group.map(list.contains) ?? false } ?? true)
            && (international.map { wanted in homeCountry.map { ($0.uppercased() != country) == wanted } ?? false } ?? true)
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
    /// The tenant's own country (ISO 3166-1 alpha-2): rules with `international` compare the
    /// number's country with it.
    public var homeCountry: String?

    public init(rules: [PlanRule] = [], preferLastWorked: Bool = true, lastWorkedDays: Int = 30, homeCountry: String? = nil) {
        self.rules = rules
        self.preferLastWorked = preferLastWorked
        self.lastWorkedDays = lastWorkedDays
        self.homeCountry = homeCountry
    }

    enum CodingKeys: String, CodingKey { case rules, preferLastWorked = "prefer_last_worked", lastWorkedDays = "last_worked_days", homeCountry = "home_country" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rules = try c.decodeIfPresent([PlanRule].self, forKey: .rules) ?? []
        preferLastWorked = try c.decodeIfPresent(Bool.self, forKey: .preferLastWorked) ?? true
        lastWorkedDays = try c.decodeIfPresent(Int.self, forKey: .lastWorkedDays) ?? 30
        homeCountry = try c.decodeIfPresent(String.self, forKey: .homeCountry)
    }

    public var problems: [FieldError] {
        var out: [FieldError] = []
        if rules.count > 100 { out.append(FieldError(field: "rules", reason: "at most 100 rules")) }
        for (i, rule) in rules.enumerated() where DeliveryPlan(parsing: rule.plan) == nil {
            out.append(FieldError(field: "rules[\(i)].plan", reason: "must be steps like whatsapp:40,sms:45,voice (each channel once, timeouts 1–600 s)"))
        }
        if !(1...365).contains(lastWorkedDays) { out.append(FieldError(field: "last_worked_days", reason: "must be 1–365")) }
        if let homeCountry, homeCountry.utf8.count != 2 || !homeCountry.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) {
            out.append(FieldError(field: "home_country", reason: "must be an ISO 3166-1 alpha-2 code in capitals"))
        }
        for (i, rule) in rules.enumerated() where rule.international != nil && homeCountry == nil {
            out.append(FieldError(field: "rules[\(i)].international", reason: "needs home_country"))
        }
        return out
    }

    /// The first rule that matches a start, with its index.
    public func rule(purpose: Purpose, country: String, operator: String?, group: String? = nil) -> (index: Int, rule: PlanRule)? {
        rules.enumerated().first {
            $0.element.matches(purpose: purpose, country: country, operator: `operator`, group: group, homeCountry: homeCountry)
        }.map { ($0.offset, $0.element) }
    }
}
