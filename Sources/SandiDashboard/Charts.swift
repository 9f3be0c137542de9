import Foundation
import SandiCore

/// Server-rendered SVG charts: no script, no CDN, readable at a glance.
enum Charts {
    /// Bars of verifications per bucket with the delivered count as a line over them.
    static func bars(_ points: [Overview.Point], span: Int) -> String {
        let width = 960.0, height = 220.0, left = 44.0, bottom = 26.0, top = 12.0
        let peak = max(1, points.map { max($0.verifications, $0.delivered) }.max() ?? 1)
        let plotHeight = height - bottom - top
        let slot = (width - left - 8) / Double(max(points.count, 1))
        var svg = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(Int(width)) \##(Int(height))" role="img" aria-label="Verifications and deliveries per \##(span == 60 ? "minute" : "hour")">"##
        for fraction in [0.0, 0.5, 1.0] {
            let y = top + plotHeight * (1 - fraction)
            svg += ##"<line x1="\##(left)" x2="\##(width - 8)" y1="\##(y)" y2="\##(y)" stroke="#e3e7ee"/>"##
            svg += ##"<text x="\##(left - 6)" y="\##(y + 4)" font-size="11" text-anchor="end" fill="#5b6577">\##(Int((Double(peak) * fraction).rounded()))</text>"##
        }
        var line: [String] = []
        for (index, point) in points.enumerated() {
            let x = left + Double(index) * slot
            let h = plotHeight * Double(point.verifications) / Double(peak)
            svg += ##"<rect x="\##(fmt(x + slot * 0.1))" y="\##(fmt(top + plotHeight - h))" width="\##(fmt(slot * 0.8))" height="\##(fmt(h))" fill="#4a7fc1"><title>\##(point.verifications) verifications</title></rect>"##
            line.append("\(fmt(x + slot / 2)),\(fmt(top + plotHeight * (1 - Double(point.delivered) / Double(peak))))")
            let every = max(1, points.count / 8)
            if index % every == 0 {
                svg += ##"<text x="\##(fmt(x + slot / 2))" y="\##(height - 8)" font-size="11" text-anchor="middle" fill="#5b6577">\##(label(point.at, span: span))</text>"##
            }
        }
        if !line.isEmpty {
            svg += ##"<polyline points="\##(line.joined(separator: " "))" fill="none" stroke="#1b6e3a" stroke-width="2"/>"##
        }
        svg += ##"<text x="\##(left + 6)" y="\##(top + 10)" font-size="11" fill="#5b6577">bars: verifications · line: delivered</text></svg>"##
        return svg
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    static func label(_ date: Date, span: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
        let hhmm = String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
        return span == 60 ? hhmm : String(format: "%02d/%02d %02dh", c.day ?? 0, c.month ?? 0, c.hour ?? 0)
    }
}
