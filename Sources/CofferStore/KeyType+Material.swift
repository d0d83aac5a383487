#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import _CryptoExtras
import CofferCrypto

extension KeyType {
    /// New key material for this type from the system CSPRNG (through swift-crypto).
    public func generateMaterial() throws -> KeyMaterial {
        switch rawValue {
        case KeyType.aes256GCM.rawValue, KeyType.chaCha20Poly1305.rawValue, KeyType.aes256GCMSIV.rawValue,
            KeyType.hmacSHA256.rawValue:
            return KeyMaterial(randomBytes(32))
        case KeyType.rsa2048.rawValue, KeyType.rsa3072.rawValue, KeyType.rsa4096.rawValue:
            let key = try _RSA.Encryption.PrivateKey(keySize: .init(bitCount: rsaBitCount!))
            return KeyMaterial(key.derRepresentation)
        case KeyType.x25519HPKE.rawValue:
            return KeyMaterial(Curve25519.KeyAgreement.PrivateKey().rawRepresentation)
        case KeyType.xwingHPKE.rawValue:
            return KeyMaterial(try XWingMLKEM768X25519.PrivateKey.generate().seedRepresentation)
        case KeyType.ed25519.rawValue:
            return KeyMaterial(Curve25519.Signing.PrivateKey().rawRepresentation)
        case KeyType.ecdsaP256.rawValue:
            return KeyMaterial(P256.Signing.PrivateKey().rawRepresentation)
        default:
            throw KeyStoreError(.invalidArgument, detail: "key type \(rawValue) cannot be generated")
        }
    }

    /// Throws unless `material` is a well-formed key of this type — the check for imported
    /// ("bring your own") keys, so a malformed import fails now, not at first use.
    ///
    /// - Throws: ``KeyStoreError/Code/invalidKeyMaterial``; the message never contains the bytes.
    public func validate(_ material: KeyMaterial) throws {
        let bytes = material.bytes
        let valid: Bool
        switch rawValue {
        case KeyType.aes256GCM.rawValue, KeyType.chaCha20Poly1305.rawValue, KeyType.aes256GCMSIV.rawValue:
            valid = bytes.count == 32
        case KeyType.hmacSHA256.rawValue:
            // RFC 2104 allows any length; fewer than 32 bytes would weaken HMAC-SHA256.
            valid = bytes.count >= 32 && bytes.count <= 64
        case KeyType.rsa2048.rawValue, KeyType.rsa3072.rawValue, KeyType.rsa4096.rawValue:
            valid = (try? _RSA.Encryption.PrivateKey(derRepresentation: bytes))?.keySizeInBits == rsaBitCount
        case KeyType.x25519HPKE.rawValue:
            valid = (try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)) != nil
        case KeyType.xwingHPKE.rawValue:
            valid = bytes.count == 32 && (try? XWingMLKEM768X25519.PrivateKey(seedRepresentation: bytes, publicKey: nil)) != nil
        case KeyType.ed25519.rawValue:
            valid = (try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes)) != nil
        case KeyType.ecdsaP256.rawValue:
            valid = (try? P256.Signing.PrivateKey(rawRepresentation: bytes)) != nil
        default:
            valid = false
        }
        guard valid else { throw KeyStoreError(.invalidKeyMaterial, detail: "expected \(rawValue) key material") }
    }

    var rsaBitCount: Int? {
        switch rawValue {
        case KeyType.rsa2048.rawValue: 2048
        case KeyType.rsa3072.rawValue: 3072
        case KeyType.rsa4096.rawValue: 4096
        default: nil
        }
    }
}
