#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Where symmetric keys for `coffer fernet` and `coffer token` come from: a key file or an
/// environment variable — never argv, where every user on the machine can read them in the
/// process list.
///
/// Both hold one key per entry, newest (the one that encrypts or signs) first in a Fernet key
/// list; lines may carry `#` comments. The returned lines are secrets: callers parse them into
/// key types at once and keep nothing else.
enum KeyListInput {
    /// Key files are tiny; anything larger is not a key file.
    static let maximumFileByteCount = 1024 * 1024

    /// The non-empty, non-comment lines of `file`, or else of the environment variable `name`
    /// (entries separated by newlines, commas or spaces, as in `FERNET_KEYS="k1,k2"`).
    static func lines(file: String?, environment name: String, what: String) throws -> [String] {
        if let file {
            let input = try InputSource.open(file)
            defer { input.close() }
            warnIfReadableByOthers(input, path: file)
            var bytes = try input.readAll(limit: maximumFileByteCount)
            defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
                .map { String($0.trimmingASCIIWhitespace()) }
                .filter { !$0.isEmpty }
            guard !lines.isEmpty else { throw CLIError("\(file) holds no \(what)", status: ExitStatus.invalidInput) }
            return lines
        }
        if let value = ProcessInfo.processInfo.environment[name] {
            let entries = value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }).map(String.init)
            guard !entries.isEmpty else { throw CLIError("\(name) is empty", status: ExitStatus.invalidInput) }
            return entries
        }
        throw CLIError("no \(what): give --key-file FILE or set \(name)", status: ExitStatus.usage)
    }

    /// A key file anyone else can read is a leaked key; say so (but do not refuse: the file may
    /// sit in a private directory, or a container where this does not matter).
    private static func warnIfReadableByOthers(_ input: InputSource, path: String) {
        var info = stat()
        guard fstat(input.fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o077 != 0 else { return }
        Terminal.printNote("warning: key file \(path) is accessible to other users (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
    }
}
