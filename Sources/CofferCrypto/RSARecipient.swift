import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import _CryptoExtras

/// An RSA public key (2048, 3072 or 4096 bits) as a stream recipient: stanza type 0x05, the input
/// key encrypted with RSA-OAEP (SHA-256, MGF1-SHA-256, empty label). The body is the OAEP
/// ciphertext, exactly as long as the modulus.
///
/// For systems that can only hold RSA keys (older HSMs, corporate PKI). Prefer X25519 or X-Wing:
/// smaller, faster, and (X-Wing) post-quantum. PKCS#1 v1.5 encryption is never used (Bleichenbacher).
/// Keys outside the three sizes are refused: below 2048 is too weak, above 4096 buys nothing.
public struct RSARecipient: Recipient, Hashable {
    public static let allowedKeySizes: Set<Int> = [2048, 3072, 4096]

    // swift-crypto's RSA public key is an immutable BoringSSL handle; it is not marked Sendable,
    // so it is kept as its DER encoding and re-parsed (microseconds) per stanza.
    let derRepresentation: [UInt8]
    public let keySizeInBits: Int

    public init(publicKey: _RSA.Encryption.PublicKey) throws {
        guard Self.allowedKeySizes.contains(publicKey.keySizeInBits) else {
            throw CofferCryptoError(.invalidKeySize, detail: "RSA keys must be 2048, 3072 or 4096 bits")
        }
        self.derRepresentation = [UInt8](publicKey.derRepresentation)
        self.keySizeInBits = publicKey.keySizeInBits
    }

    /// The SubjectPublicKeyInfo DER encoding.
    public init(derRepresentation der: [UInt8]) throws {
        let key: _RSA.Encryption.PublicKey
        do { key = try _RSA.Encryption.PublicKey(derRepresentation: der) } catch {
            throw CofferCryptoError(.invalidParameter, detail: "RSA public key")
        }
        try self.init(publicKey: key)
    }

    public var publicKey: _RSA.Encryption.PublicKey {
        // Validated at init, so parsing again cannot fail.
        try! _RSA.Encryption.PublicKey(derRepresentation: derRepresentation)
    }

    public func stanza(wrapping inputKey: DataKey) throws -> RecipientStanza {
        let ciphertext = try inputKey.withUnsafeSecretBytes { try publicKey.encrypt($0, padding: .PKCS1_OAEP_SHA256) }
        return try RecipientStanza(kind: .rsaOAEP, body: [UInt8](ciphertext))
    }
}

/// The private half of an ``RSARecipient``.
public struct RSAIdentity: Identity, @unchecked Sendable {
    // @unchecked: swift-crypto's RSA private key wraps an immutable BoringSSL RSA object, which
    // BoringSSL documents as safe to use from several threads at once for private-key operations.
    let privateKey: _RSA.Encryption.PrivateKey

    init(privateKey: _RSA.Encryption.PrivateKey) throws {
        guard RSARecipient.allowedKeySizes.contains(privateKey.keySizeInBits) else {
            throw CofferCryptoError(.invalidKeySize, detail: "RSA keys must be 2048, 3072 or 4096 bits")
        }
        self.privateKey = privateKey
    }

    /// A new key pair of `bits` (2048, 3072 or 4096), from the system CSPRNG.
    public static func generate(bits: Int = 3072) throws -> RSAIdentity {
        guard RSARecipient.allowedKeySizes.contains(bits) else {
            throw CofferCryptoError(.invalidKeySize, detail: "RSA keys must be 2048, 3072 or 4096 bits")
        }
        return try RSAIdentity(privateKey: _RSA.Encryption.PrivateKey(keySize: .init(bitCount: bits)))
    }

    public var recipient: RSARecipient { try! RSARecipient(publicKey: privateKey.publicKey) }

    public func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey? {
        let modulusByteCount = privateKey.keySizeInBits / 8
        for stanza in stanzas where stanza.kind == .rsaOAEP && stanza.body.count == modulusByteCount {
            // A failed OAEP decoding is "not for this key": no detail leaves this function, so
            // the caller's single authentication error is the only signal (no Manger oracle).
            guard var plain = try? privateKey.decrypt(stanza.body, padding: .PKCS1_OAEP_SHA256) else { continue }
            defer { plain.resetBytes(in: 0..<plain.count) }
            guard plain.count == DataKey.byteCount else { continue }
            return DataKey(symmetricKey: SymmetricKey(data: plain))
        }
        return nil
    }
}
