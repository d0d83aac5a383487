import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One HMAC-SHA256 key of a ``SigningKeyRing``, named by its ``id``, which every token it signs
/// records so the verifier picks the right key without trying them all.
///
/// 256 bits, as HMAC-SHA256's block-sized security calls for. Like every Coffer key it never
/// prints, dumps or encodes its bytes; its text form (unpadded base64url of the 32 bytes) is
/// reachable only through ``unsafeSecretText``, for writing it to a protected file.
public struct SigningKey: SecretKeyMaterial {
    public static let byteCount = 32
    public let symmetricKey: SymmetricKey
    /// The key id recorded in tokens; ids rise with each rotation, so the highest live id is
    /// the primary.
    public let id: KeyVersion

    init(symmetricKey: SymmetricKey, id: KeyVersion) {
        precondition(symmetricKey.bitCount == SigningKey.byteCount * 8)
        self.symmetricKey = symmetricKey
        self.id = id
    }

    /// A new uniformly random key from the system CSPRNG.
    public static func generate(id: KeyVersion) -> SigningKey {
        var bytes = randomBytes(byteCount)
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return SigningKey(symmetricKey: SymmetricKey(data: bytes), id: id)
    }

    /// Restores a key from its 32 raw bytes (for example unsealed from a key store).
    public init(restoring bytes: some ContiguousBytes, id: KeyVersion) throws {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == SigningKey.byteCount * 8 else { throw CofferCryptoError(.invalidKeySize) }
        self.init(symmetricKey: key, id: id)
    }

    /// Reads a key from its text form: 43 characters of canonical unpadded base64url
    /// (``unsafeSecretText``). Callers reading a file or environment variable trim the line ending.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidKeySize``; the error never contains the text.
    public init(id: KeyVersion, base64 text: String) throws {
        guard var bytes = Base64URL.decode(Substring(text)), bytes.count == SigningKey.byteCount else {
            throw CofferCryptoError(.invalidKeySize, detail: "a signing key is 32 bytes as 43 characters of unpadded base64url")
        }
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        self.init(symmetricKey: SymmetricKey(data: bytes), id: id)
    }

    /// The key's text form. The returned `String` cannot be zeroized, hence the long name.
    public var unsafeSecretText: String {
        symmetricKey.withUnsafeBytes { Base64URL.encode(Array($0)) }
    }

    public var description: String { "SigningKey(\(id), redacted)" }

    public static func == (lhs: SigningKey, rhs: SigningKey) -> Bool {
        lhs.id == rhs.id && lhs.symmetricKey == rhs.symmetricKey
    }
}
