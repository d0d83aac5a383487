import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// The text file that holds a ``SigningKeyRing`` for `coffer token`:
///
/// ```
/// # coffer signing keys: ID:KEY (live) or ID:retired; the highest live id signs
/// 1:retired
/// 2:Jm9vYmFy...        (43 characters of unpadded base64url, 32 bytes)
/// ```
///
/// The keys are in clear, like a Fernet key file or a web framework's secret-key setting: the
/// file is created with mode 0600 and rewritten atomically (temporary file, fsync, rename), so a
/// crash during `rotate-key` leaves either the old ring or the new one, never a torn file that
/// would log every user out. Keep it out of version control; for keys sealed at rest use the
/// key store.
enum SigningKeyFile {
    static func read(file: String) throws -> SigningKeyRing {
        try parse(try KeyListInput.lines(file: file, environment: "", what: "signing keys"), source: file)
    }

    /// Parses entries (comments and blank lines already removed). Errors name the entry by its
    /// position, never its text, which may be a key.
    static func parse(_ entries: [String], source: String) throws -> SigningKeyRing {
        var keys: [SigningKey] = []
        var retired: Set<KeyVersion> = []
        var seen: Set<KeyVersion> = []
        for (index, entry) in entries.enumerated() {
            let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            func bad(_ why: String) -> CLIError {
                CLIError("\(source): entry \(index + 1) \(why)", status: ExitStatus.invalidInput)
            }
            guard parts.count == 2, let raw = UInt32(parts[0]), let id = try? KeyVersion(raw) else {
                throw bad("is not ID:KEY or ID:retired")
            }
            guard seen.insert(id).inserted else { throw bad("repeats key id \(raw)") }
            if parts[1] == "retired" {
                retired.insert(id)
            } else {
                guard let key = try? SigningKey(id: id, base64: String(parts[1])) else {
                    throw bad("does not hold a signing key (43 characters of unpadded base64url)")
                }
                keys.append(key)
            }
        }
        guard !keys.isEmpty else { throw CLIError("\(source) holds no live signing key", status: ExitStatus.invalidInput) }
        return try SigningKeyRing(keys: keys, retiredKeyIDs: retired)
    }

    static func render(_ ring: SigningKeyRing) -> [UInt8] {
        var lines = ["# coffer signing keys: ID:KEY (live) or ID:retired; the highest live id signs"]
        var entries: [(KeyVersion, String)] = ring.retiredKeyIDs.map { ($0, "\($0.rawValue):retired") }
        entries += ring.keys.map { ($0.id, "\($0.id.rawValue):\($0.unsafeSecretText)") }
        lines += entries.sorted { $0.0 < $1.0 }.map(\.1)
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    static func write(_ ring: SigningKeyRing, to path: String?, force: Bool) throws {
        var bytes = render(ring)
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        try OutputTarget.writeFile(path, bytes, force: force, mode: 0o600)
    }
}
