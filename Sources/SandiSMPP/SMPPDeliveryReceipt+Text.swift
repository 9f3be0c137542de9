extension SMPPDeliveryReceipt {
    /// Parses the SMPP 3.4 Appendix B text form,
    /// `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`,
    /// by `key:` tokens, case-insensitively, in any order, tolerating missing fields.
    /// `nil` when there is no `id:`; a missing or unknown `stat:` gives ``SMPPDeliveryState/unknown``.
    public static func parse(text: String) -> SMPPDeliveryReceipt? {
        let scalars = Array(text.unicodeScalars)
        let textStart = ReceiptKey.text.spellings.compactMap { find($0, in: scalars, before: scalars.count) }.min { $0.start < $1.start }
        let searchEnd = textStart?.start ?? scalars.count
        var found: [(key: ReceiptKey, start: Int, valueStart: Int)] = []
        for key in ReceiptKey.allCases {
            let limit = key == .text ? scalars.count : searchEnd
            if let match = key.spellings.compactMap({ find($0, in: scalars, before: limit) }).min(by: { $0.start < $1.start }) {
                found.append((key, match.start, match.valueStart))
            }
        }
        found.sort { $0.start < $1.start }
        var values: [ReceiptKey: String] = [:]
        for (index, entry) in found.enumerated() {
            let end = index + 1 < found.count ? found[index + 1].start : scalars.count
            let raw = String(String.UnicodeScalarView(scalars[entry.valueStart..<max(entry.valueStart, end)]))
            values[entry.key] = entry.key == .text ? raw : raw.trimmingWhitespace()
        }
        guard let id = values[.id], !id.isEmpty else { return nil }
        return SMPPDeliveryReceipt(
            messageID: id,
            state: values[.stat].map(SMPPDeliveryState.init(stat:)) ?? .unknown,
            errorCode: values[.err],
            submitted: values[.sub],
            delivered: values[.dlvrd],
            submitDate: values[.submitDate],
            doneDate: values[.doneDate],
            text: values[.text]
        )
    }

    /// The first occurrence of `key` (ASCII case-insensitive) that starts the text or follows
    /// whitespace, beginning before `limit`.
    private static func find(
        _ key: [Unicode.Scalar],
        in scalars: [Unicode.Scalar],
        before limit: Int
    ) -> (start: Int, valueStart: Int)? {
        guard !key.isEmpty, scalars.count >= key.count else { return nil }
        var index = 0
        while index < limit, index + key.count <= scalars.count {
            let atBoundary = index == 0 || scalars[index - 1].properties.isWhitespace
            if atBoundary, zip(scalars[index..<index + key.count], key).allSatisfy({ lower($0) == $1 }) {
                return (index, index + key.count)
            }
            index += 1
        }
        return nil
    }

    private static func lower(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        guard (65...90).contains(scalar.value), let lowered = Unicode.Scalar(scalar.value + 32) else { return scalar }
        return lowered
    }
}

/// The fields of the text receipt, with the spellings SMSCs use for each.
private enum ReceiptKey: CaseIterable {
    case id, sub, dlvrd, submitDate, doneDate, stat, err, text

    var spellings: [[Unicode.Scalar]] {
        let words: [String] =
            switch self {
            case .id: ["id:"]
            case .sub: ["sub:"]
            case .dlvrd: ["dlvrd:"]
            case .submitDate: ["submit date:", "submit_date:", "submitdate:"]
            case .doneDate: ["done date:", "done_date:", "donedate:"]
            case .stat: ["stat:"]
            case .err: ["err:"]
            case .text: ["text:"]
            }
        return words.map { Array($0.unicodeScalars) }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
