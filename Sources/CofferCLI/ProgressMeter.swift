#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A one-line progress bar on stderr (bytes, rate, ETA), drawn only when stderr is a terminal
/// and the total is known, at most ten times a second.
struct ProgressMeter {
    private let total: Int
    private var done = 0
    private let start = ContinuousClock.now
    /// `nil` until the first frame, which is drawn at the first progress so even a short run
    /// shows (and then clears) the bar; later frames at most every 100 ms.
    private var lastDraw: ContinuousClock.Instant?

    /// `nil` (no meter) when quiet, when stderr is not a terminal, or when the size is unknown.
    init?(total: Int?, quiet: Bool) {
        guard !quiet, let total, total > 0, Terminal.stderrIsTerminal else { return nil }
        self.total = total
    }

    mutating func advance(by count: Int) {
        done += count
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < .milliseconds(100) { return }
        lastDraw = now
        draw(now)
    }

    func finish() {
        Terminal.writeStderr("\r\u{1B}[2K")
    }

    private func draw(_ now: ContinuousClock.Instant) {
        let elapsed = Double((now - start).components.attoseconds) / 1e18 + Double((now - start).components.seconds)
        let fraction = min(1, Double(done) / Double(total))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = String(Int(fraction * 100))
        let line = "\r\u{1B}[2K[\(bar)] \(String(repeating: " ", count: 3 - percent.count))\(percent)%  "
            + "\(Self.bytes(done)) / \(Self.bytes(total))  \(Self.bytes(Int(rate)))/s  ETA \(Self.duration(remaining))"
        Terminal.writeStderr(line)
    }

    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return unit == 0 ? "\(count) B" : "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        let seconds = whole % 60
        return "\(whole / 60):\(seconds < 10 ? "0" : "")\(seconds)"
    }
}
