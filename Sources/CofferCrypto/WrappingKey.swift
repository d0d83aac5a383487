#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A key-encryption key that protects secret files — ``KeyRingFile``s and ``IdentityFile``s —
/// instead of a passphrase, in a one-line, checksummed text form for key files:
///
/// ```
/// COFFER-WRAPPING-KEY- || base64url(key (32) || checksum (4))      (see KeyText)
/// ```
/// The text is the key itself, so it belongs where the deployment keeps its root secrets (a
/// secrets manager, systemd credentials, a file readable only by the service); Coffer writes it
/// with mode 0600. Every wrapping key has the same reference, ``reference``, which is what the
/// protected file's key-encryption-key stanza records, so one wrapping key may protect many
/// files (each is still bound to what it is — ring name, identity file — by its encryption
/// context, so files cannot be swapped for one another).
///
/// Why a wrapping key at all, when a passphrase works: scrypt is slow and memory-hungry by
/// design (128 MiB and a third of a second at the default cost), which is right for a human
/// secret and wrong for a service or script that opens its identity on every run. A wrapping key
/// is full-entropy, so opening with it costs one AES-GCM-SIV unwrap, and it can live apart from
/// the file it protects (identity file in a backup, wrapping key in the secrets manager).
public enum WrappingKey {
    /// `coffer-wrapping-key/v1`.
    public static let reference = try! KeyReference("coffer-wrapping-key", version: 1)
    static let textPrefix = "COFFER-WRAPPING-KEY-"

    /// A new random wrapping key from the system CSPRNG.
    public static func generate() -> KeyEncryptionKey {
        KeyEncryptionKey.generate(reference: reference)
    }

    /// The key's text form. It **is** the secret: write it only to protected storage.
    public static func text(of key: KeyEncryptionKey) -> String {
        key.withUnsafeSecretBytes { KeyText.encode(prefix: textPrefix, Array($0)) }
    }

    /// Parses the text form (surrounding whitespace and line breaks are ignored).
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` for a wrong prefix, non-canonical
    ///   base64url, a failed checksum or a wrong length. The message never repeats the text.
    public static func parse(_ text: String) throws -> KeyEncryptionKey {
        let trimmed = text.trimmingASCIIWhitespace()
        guard var bytes = KeyText.decode(Substring(trimmed), prefix: textPrefix), bytes.count == KeyEncryptionKey.byteCount else {
            throw CofferCryptoError(.invalidParameter, detail: "not a valid wrapping key (wrong prefix, typo or truncation)")
        }
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return try KeyEncryptionKey(restoring: bytes, reference: reference)
    }
}
