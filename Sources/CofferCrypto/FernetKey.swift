import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Fernet key: 32 random bytes, the first 16 the HMAC-SHA256 signing key and the last 16 the
/// AES-128-CBC encryption key, exactly as in the Fernet spec and Python `cryptography`.
///
/// Its text form is 44 characters of url-safe base64 with padding, the form
/// `Fernet.generate_key()` prints and `Fernet(key)` reads, so keys move between Python and Coffer
/// unchanged. Like every Coffer key it never prints, dumps or encodes its bytes; the text form is
/// reachable only through the deliberately named ``unsafeSecretText``.
public struct FernetKey: SecretKeyMaterial {
    /// Key length in bytes (both halves).
    public static let byteCount = 32

    public let symmetricKey: SymmetricKey
    /// First half: the HMAC-SHA256 key.
    let signingKey: SymmetricKey
    /// Second half: the AES-128 key.
    let encryptionKey: SymmetricKey

    init(symmetricKey: SymmetricKey) {
        precondition(symmetricKey.bitCount == FernetKey.byteCount * 8)
        self.symmetricKey = symmetricKey
        (signingKey, encryptionKey) = symmetricKey.withUnsafeBytes { bytes in
            (SymmetricKey(data: UnsafeRawBufferPointer(rebasing: bytes[0..<16])),
             SymmetricKey(data: UnsafeRawBufferPointer(rebasing: bytes[16..<32])))
        }
    }

    /// A new key from the system CSPRNG (Python's `Fernet.generate_key()`).
    public static func generate() -> FernetKey {
        var bytes = randomBytes(byteCount)
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return FernetKey(symmetricKey: SymmetricKey(data: bytes))
    }

    /// Reads a key from its text form: 44 characters of canonical url-safe base64 with padding
    /// (what Python's `Fernet.generate_key()` returns).
    ///
    /// Stricter than Python, which skips stray characters: surrounding whitespace, `+`/`/`, a
    /// missing `=` or non-zero trailing bits are refused. Callers reading a key from a file or an
    /// environment variable trim the line ending first. The error never contains the text.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidKeySize`` when the text is not 32 bytes of
    ///   canonical padded base64url.
    public init(base64 text: String) throws {
        guard var bytes = FernetBase64.decode(text), bytes.count == FernetKey.byteCount else {
            throw CofferCryptoError(.invalidKeySize, detail: "a Fernet key is 32 bytes as 44 characters of url-safe base64 with padding")
        }
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        self.init(symmetricKey: SymmetricKey(data: bytes))
    }

    /// Restores a key from its 32 raw bytes (for example after unsealing it from a key store).
    public init(restoring bytes: some ContiguousBytes) throws {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == FernetKey.byteCount * 8 else { throw CofferCryptoError(.invalidKeySize) }
        self.init(symmetricKey: key)
    }

    /// The key's text form, to hand to Python or write to a protected file. The name is long on
    /// purpose: the returned `String` cannot be zeroized, so reading it should be rare and easy to
    /// find in review.
    public var unsafeSecretText: String {
        symmetricKey.withUnsafeBytes { FernetBase64.encode($0) }
    }

    public static func == (lhs: FernetKey, rhs: FernetKey) -> Bool { lhs.symmetricKey == rhs.symmetricKey }
}
