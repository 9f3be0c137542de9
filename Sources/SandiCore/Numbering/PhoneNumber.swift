/// A validated phone number in E.164 form, with what number analysis found.
public struct PhoneNumber: Sendable, Hashable {
    /// `+` followed by the calling code and the national significant number.
    public let e164: String
    /// ISO 3166-1 alpha-2 code of the region the number belongs to.
    public let country: String
    public let callingCode: Int
    /// The national significant number (no trunk prefix).
    public let nationalNumber: String
    /// The operator from the prefix table, when known (a hint: numbers are ported).
    public let `operator`: String?

    /// The number with all but the calling code and the last three digits hidden: `+62********890`.
    public var masked: String { PhoneNumber.mask(e164) }

    /// Masks any E.164 string, keeping the `+`, up to 3 leading digits and the last 3 digits.
    public static func mask(_ e164: String) -> String {
        let digits = Array(e164.utf8.filter { $0 >= 48 && $0 <= 57 })
        guard digits.count > 6 else { return String(repeating: "*", count: digits.count) }
        let head = String(decoding: digits.prefix(2), as: UTF8.self)
        let tail = String(decoding: digits.suffix(3), as: UTF8.self)
        return "+" + head + String(repeating: "*", count: digits.count - 5) + tail
    }
}

/// Why a phone number was refused.
public enum PhoneNumberError: Error, Equatable, Sendable {
    case empty
    case invalidCharacters
    case unknownCountry(String)
    case countryRequired
    case unknownCallingCode
    case wrongLength
    case notMobile
}

/// Parses E.164 and national numbers against the numbering plan.
public struct PhoneNumberParser: Sendable {
    public let plan: NumberingPlan

    public init(plan: NumberingPlan = .generated) {
        self.plan = plan
    }

    /// Parses `text` (E.164 such as `+6281234567890`, with optional spaces, dashes, dots and
    /// brackets; or a national number such as `0812-3456-7890` when `country` is given; `00`
    /// international prefix accepted) into a validated mobile number.
    public func parse(_ text: String, country: String? = nil) throws(PhoneNumberError) -> PhoneNumber {
        guard text.utf8.count <= 40 else { throw .invalidCharacters }
        var digits: [UInt8] = []
        var plus = false
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case 48...57: digits.append(byte)
            case UInt8(ascii: "+"):
                guard index == 0 || (digits.isEmpty && !plus) else { throw .invalidCharacters }
                plus = true
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"):
                continue
            default: throw .invalidCharacters
            }
        }
        guard !digits.isEmpty else { throw .empty }
        var number = String(decoding: digits, as: UTF8.self)
        if !plus, number.hasPrefix("00") {
            plus = true
            number.removeFirst(2)
        }
        if plus {
            return try parseInternational(number, hint: country)
        }
        guard let country else { throw .countryRequired }
        guard let region = plan.region(iso: country) else { throw .unknownCountry(country) }
        var national = Substring(number)
        let code = String(region.callingCode)
        if let trunk = region.nationalPrefix, !trunk.isEmpty, national.hasPrefix(trunk),
           region.mobileLengths.contains(national.count - trunk.count) {
            national = national.dropFirst(trunk.count)
        } else if national.hasPrefix(code), region.mobileLengths.contains(national.count - code.count) {
            // A number written with its calling code but without the plus (e.g. 62812…).
            national = national.dropFirst(code.count)
        }
        return try validate(String(national), region: region)
    }

    private func parseInternational(_ number: String, hint: String?) throws(PhoneNumberError) -> PhoneNumber {
        for length in 1...3 where number.count > length {
            guard let code = Int(number.prefix(length)) else { continue }
            let regions = plan.regions(callingCode: code)
            guard !regions.isEmpty else { continue }
            let national = String(number.dropFirst(length))
            let ordered: [RegionInfo]
            if let hint, let match = regions.first(where: { $0.iso == hint.uppercased() }) {
                ordered = [match] + regions.filter { $0.iso != match.iso }
            } else {
                ordered = regions
            }
            var firstError: PhoneNumberError?
            for region in ordered {
                do throws(PhoneNumberError) {
                    return try validate(national, region: region)
                } catch {
                    if firstError == nil { firstError = error }
                }
            }
            throw firstError ?? .unknownCallingCode
        }
        throw .unknownCallingCode
    }

    private func validate(_ national: String, region: RegionInfo) throws(PhoneNumberError) -> PhoneNumber {
        guard region.mobileLengths.contains(national.count) || (region.mobileLengths.isEmpty && region.lengths.contains(national.count)) else {
            throw .wrongLength
        }
        if !region.mobileLeading.isEmpty, !region.mobileLeading.contains(where: { national.hasPrefix($0) }) {
            throw .notMobile
        }
        return PhoneNumber(
            e164: "+\(region.callingCode)\(national)",
            country: region.iso,
            callingCode: region.callingCode,
            nationalNumber: national,
            operator: plan.carrier(callingCode: region.callingCode, nationalNumber: national)
        )
    }
}
