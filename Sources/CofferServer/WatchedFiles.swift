import Foundation
import NIOConcurrencyHelpers

/// The parsed contents of files that are re-read when they change: the server's certificate and
/// key (``CertificateReloader``) and the client CA file (``ClientCertificateAuthority``).
///
/// A change is a different modification time, size or inode for any of the paths, so an atomic
/// rename counts. A changed file that does not load (caught half-written, or wrong) leaves the
/// previous value in use, and every later check tries it again until it loads.
final class WatchedFiles<Value: Sendable>: Sendable {
    enum Reload {
        case unchanged
        case reloaded(Value)
        case failed(any Error)
    }

    let paths: [String]
    private let load: @Sendable () throws -> Value
    private let state: NIOLockedValueBox<(value: Value, stamp: [Int])>

    init(_ paths: String..., load: @escaping @Sendable () throws -> Value) throws {
        self.paths = paths
        self.load = load
        // The stamp before the read: a change made while reading is seen by the next check.
        let stamp = Self.stamp(paths)
        state = NIOLockedValueBox((try load(), stamp))
    }

    var current: Value { state.withLockedValue { $0.value } }

    func reloadIfChanged() -> Reload {
        let stamp = Self.stamp(paths)
        guard stamp != state.withLockedValue({ $0.stamp }) else { return .unchanged }
        do {
            let value = try load()
            state.withLockedValue { $0 = (value, stamp) }
            return .reloaded(value)
        } catch {
            return .failed(error)
        }
    }

    static func stamp(_ paths: [String]) -> [Int] {
        paths.flatMap { path -> [Int] in
            var info = stat()
            guard stat(path, &info) == 0 else { return [0, 0, 0, 0] }
            return [Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_size), Int(info.st_ino)]
        }
    }
}
