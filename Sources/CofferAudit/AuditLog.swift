import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CofferCrypto

/// Where audit lines go: a file (appended, rotated by size, fsynced on flush) or stdout.
///
/// Lines are chained across rotations: the first line of a new file names the hash of the last
/// line of the previous one. On start, an existing file's chain is verified and continued; a file
/// that does not verify is moved aside (`.broken-<time>`) and reported, never appended to.
public final class AuditLog: @unchecked Sendable {
    public enum Sink: Sendable {
        case stdout
        case file(path: String, rotateAtBytes: Int)
    }

    private let sink: Sink
    private let lock = Lock()
    private var lastHash: String
    private var fd: Int32 = -1
    private var size = 0
    /// Set when start-up found a broken chain (the caller logs it loudly).
    public private(set) var startupProblem: String?

    public init(sink: Sink) throws {
        self.sink = sink
        lastHash = AuditChain.genesis
        if case .file(let path, _) = sink {
            if let existing = FileManager.default.contents(atPath: path) {
                let result = AuditChain.verify(Array(existing), startingAfter: nil)
                if let failure = result.failure {
                    let aside = path + ".broken-\(Int(Date().timeIntervalSince1970))"
                    rename(path, aside)
                    startupProblem = "audit log \(path) failed verification at line \(failure.line) (\(failure.reason)); moved to \(aside)"
                } else if result.verifiedLines > 0 {
                    lastHash = result.lastHash
                }
            }
            try open(path)
        }
    }

    /// Appends one record, chained to the previous line.
    public func append(_ record: AuditRecord) {
        lock.lock()
        defer { lock.unlock() }
        guard let (line, hash) = try? AuditChain.line(for: record, after: lastHash) else { return }
        let bytes = line + [0x0A]
        switch sink {
        case .stdout:
            bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
        case .file(let path, let rotateAt):
            if size + bytes.count > rotateAt && size > 0 { rotate(path) }
            bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            size += bytes.count
        }
        lastHash = hash
    }

    /// Forces written lines to disk (at shutdown and periodically).
    public func flush() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 { fsync(fd) }
    }

    public var currentHash: String {
        lock.lock()
        defer { lock.unlock() }
        return lastHash
    }

    deinit { if fd >= 0 { close(fd) } }

    private func open(_ path: String) throws {
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditLogError(description: "cannot open audit log \(path)") }
        var info = stat()
        fstat(fd, &info)
        size = Int(info.st_size)
    }

    /// `audit.log` → `audit.log.1` (older ones shift up); the chain continues in the new file.
    private func rotate(_ path: String) {
        // The full file's dirty pages reach the disk off the request path: an fsync of up to
        // `rotateAtBytes` here, under the lock every request's line waits on, stalled them all —
        // about every 20 s under wrk, as a p99 of 40–90 ms. Lines are written without fsync
        // anyway (``flush()`` at shutdown); the rotated file gets its fsync on another thread.
        let rotatedFD = fd
        DispatchQueue.global(qos: .utility).async {
            fsync(rotatedFD)
            close(rotatedFD)
        }
        var index = 1
        while FileManager.default.fileExists(atPath: "\(path).\(index)") { index += 1 }
        while index > 1 {
            rename("\(path).\(index - 1)", "\(path).\(index)")
            index -= 1
        }
        rename(path, "\(path).1")
        try? open(path)
    }
}

public struct AuditLogError: Error, CustomStringConvertible {
    public let description: String
}
