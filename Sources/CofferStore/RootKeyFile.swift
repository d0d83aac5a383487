#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CofferCrypto

/// The development default root key: 32 random bytes in a file, as one checksummed line
///
/// ```
/// COFFER-ROOT-KEY- || base64url(key (32) || checksum (4))
/// ```
/// created with mode 0600 (exclusively, so two nodes starting at once cannot each write a
/// different key) and fsynced with its directory before first use. Anyone who reads the file
/// can unseal the store: production deployments use a passphrase or an HSM.
public enum RootKeyFile {
    static let prefix = "COFFER-ROOT-KEY-"

    /// Reads the key at `path`, creating it first if no file exists.
    ///
    /// - Returns: the key, whether it was created now, and whether the file is readable by other
    ///   users (the caller warns).
    public static func loadOrCreate(at path: String) throws -> (key: SoftwareRootKey, created: Bool, permissive: Bool) {
        var bytes = randomBytes(32)
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            let text = Array((KeyText.encode(prefix: prefix, bytes) + "\n").utf8)
            let ok = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == text.count && fsync(fd) == 0
            close(fd)
            guard ok else {
                unlink(path)
                throw KeyStoreError(.unavailable, detail: "cannot write root key file \(path)")
            }
            syncDirectory(of: path)
            return (try SoftwareRootKey(bytes: bytes, kind: "key-file"), true, false)
        }
        guard errno == EEXIST else { throw KeyStoreError(.unavailable, detail: "cannot create root key file \(path) (errno \(errno))") }
        let (key, permissive) = try load(at: path)
        return (key, false, permissive)
    }

    /// Reads an existing key file.
    public static func load(at path: String) throws -> (key: SoftwareRootKey, permissive: Bool) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw KeyStoreError(.unavailable, detail: "cannot read root key file \(path)") }
        guard let data = FileManager.default.contents(atPath: path), data.count < 256 else {
            throw KeyStoreError(.unavailable, detail: "cannot read root key file \(path)")
        }
        var text = Array(data)
        defer { _ = text.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        guard var bytes = KeyText.decode(Substring(String(decoding: text, as: UTF8.self)).trimmingASCIIWhitespace(), prefix: prefix), bytes.count == 32 else {
            throw KeyStoreError(.invalidArgument, detail: "\(path) is not a Coffer root key file (wrong prefix, typo or truncation)")
        }
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return (try SoftwareRootKey(bytes: bytes, kind: "key-file"), info.st_mode & 0o077 != 0)
    }

    private static func syncDirectory(of path: String) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
