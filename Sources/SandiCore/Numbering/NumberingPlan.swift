/// What one region's numbering looks like (from libphonenumber's metadata, see `NumberingData.swift`).
public struct RegionInfo: Sendable {
    /// ISO 3166-1 alpha-2 code.
    public let iso: String
    /// Country calling code (E.164).
    public let callingCode: Int
    /// The trunk prefix dialled before national numbers (e.g. "0"), if any.
    public let nationalPrefix: String?
    /// Possible lengths of a national significant number.
    public let lengths: [Int]
    /// Possible lengths of a mobile national significant number.
    public let mobileLengths: [Int]
    /// First digits a mobile national significant number can start with (empty: unknown).
    public let mobileLeading: [String]
    /// Whether this region is the main one for its calling code (+1 → US).
    public let isMainForCode: Bool

    public init(
        iso: String, callingCode: Int, nationalPrefix: String?, lengths: [Int], mobileLengths: [Int],
        mobileLeading: [String], isMainForCode: Bool
    ) {
        self.iso = iso
        self.callingCode = callingCode
        self.nationalPrefix = nationalPrefix
        self.lengths = lengths
        self.mobileLengths = mobileLengths
        self.mobileLeading = mobileLeading
        self.isMainForCode = isMainForCode
    }
}

/// A number prefix assigned to an operator (a hint only: numbers are ported).
public struct CarrierPrefix: Sendable {
    public let callingCode: Int
    /// Digits after the calling code.
    public let prefix: String
    public let name: String

    public init(callingCode: Int, prefix: String, name: String) {
        self.callingCode = callingCode
        self.prefix = prefix
        self.name = name
    }
}

/// The numbering plan: regions by ISO code and calling code, and operator prefixes.
public struct NumberingPlan: Sendable {
    public let dataVersion: String
    let byISO: [String: RegionInfo]
    let byCallingCode: [Int: [RegionInfo]]
    let carriers: [Int: [String: String]]
    let longestCarrierPrefix: [Int: Int]

    public init(dataVersion: String, regions: [RegionInfo], carriers: [CarrierPrefix]) {
        self.dataVersion = dataVersion
        var byISO: [String: RegionInfo] = [:]
        var byCode: [Int: [RegionInfo]] = [:]
        for region in regions {
            byISO[region.iso] = region
            byCode[region.callingCode, default: []].append(region)
        }
        for (code, list) in byCode {
            byCode[code] = list.sorted { ($0.isMainForCode ? 0 : 1, $0.iso) < ($1.isMainForCode ? 0 : 1, $1.iso) }
        }
        var table: [Int: [String: String]] = [:]
        var longest: [Int: Int] = [:]
        for carrier in carriers {
            table[carrier.callingCode, default: [:]][carrier.prefix] = carrier.name
            longest[carrier.callingCode] = max(longest[carrier.callingCode] ?? 0, carrier.prefix.count)
        }
        self.byISO = byISO
        self.byCallingCode = byCode
        self.carriers = table
        self.longestCarrierPrefix = longest
    }

    /// The region for an ISO code (case-insensitive).
    public func region(iso: String) -> RegionInfo? { byISO[iso.uppercased()] }

    /// The regions that share a calling code, the main one first.
    public func regions(callingCode: Int) -> [RegionInfo] { byCallingCode[callingCode] ?? [] }

    /// The operator whose prefix is the longest match for a national significant number.
    public func carrier(callingCode: Int, nationalNumber: String) -> String? {
        guard let table = carriers[callingCode], let longest = longestCarrierPrefix[callingCode] else { return nil }
        var length = min(longest, nationalNumber.count)
        while length > 0 {
            if let name = table[String(nationalNumber.prefix(length))] { return name }
            length -= 1
        }
        return nil
    }
}

extension CarrierPrefix {
    /// Reads a table of `callingCode|prefix|name` lines (the generated data's compact form).
    public static func parse(table: String) -> [CarrierPrefix] {
        table.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "|", maxSplits: 2)
            guard parts.count == 3, let code = Int(parts[0]) else { return nil }
            return CarrierPrefix(callingCode: code, prefix: String(parts[1]), name: String(parts[2]))
        }
    }
}
