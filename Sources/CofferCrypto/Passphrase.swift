import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A passphrase held in zeroizing storage: it cannot print itself and is wiped when released.
///
/// Swift strings cannot be wiped, so callers should build this from bytes read straight from a
/// file or terminal where they can.
public struct Passphrase: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Passphrases longer than this are rejected (scrypt would accept them; nobody types them).
    public static let maximumByteCount = 4096

    let storage: SymmetricKey

    /// Throws ``CofferCryptoError/Code/invalidParameter`` for an empty or over-long passphrase.
    public init(_ bytes: some ContiguousBytes) throws {
        let count = bytes.withUnsafeBytes { $0.count }
        guard count >= 1, count <= Self.maximumByteCount else {
            throw CofferCryptoError(.invalidParameter, detail: "passphrase length (1–\(Self.maximumByteCount) bytes)")
        }
        storage = SymmetricKey(data: bytes)
    }

    public init(_ text: String) throws {
        try self.init(Array(text.utf8))
    }

    /// A new random passphrase to show the user once: 26 characters from a 32-symbol alphabet
    /// without look-alikes (130 bits from the system CSPRNG), in groups of five for reading aloud.
    public static func generateReadable() -> (passphrase: Passphrase, text: String) {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")  // Crockford's base32, lower case
        let random = randomBytes(26)
        var text = ""
        for (index, byte) in random.enumerated() {
            if index > 0 && index % 5 == 0 { text += "-" }
            // 256 is a multiple of 32, so taking the low five bits is unbiased.
            text.append(alphabet[Int(byte & 31)])
        }
        return (try! Passphrase(text), text)
    }

    /// Derives a 32-byte key with `record`'s KDF, under `limits`.
    func deriveKey(_ record: PasswordKDFRecord, limits: PasswordKDFLimits) throws -> SymmetricKey {
        try storage.withUnsafeBytes { try record.deriveKey(from: $0, limits: limits) }
    }

    /// The passphrase's bytes, for a caller that runs its own KDF (the key store's unseal).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    public var description: String { "Passphrase(redacted)" }
    public var debugDescription: String { description }
}
