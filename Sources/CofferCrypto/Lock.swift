import Foundation

/// A plain mutual-exclusion lock (Foundation's `NSLock`), behind a tiny closure API.
final class Lock: @unchecked Sendable {
    private let lock = NSLock()
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
