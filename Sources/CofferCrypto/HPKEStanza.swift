import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The HPKE (RFC 9180, base mode) parameters of Coffer's public-key stanzas.
///
/// Each stanza seals the 32-byte input key in one HPKE message: `body = enc || ciphertext (48)`.
/// The KEM binds the recipient's public key into the shared secret, and `info` names the stanza
/// type and format version, so a stanza cannot be replayed as another kind or into another
/// protocol that uses the same key. AES-256-GCM is the AEAD (one message per context, so its
/// nonce limits are irrelevant); HKDF-SHA256 is the KDF.
///
/// No recipient identifier is written: a stanza does not reveal which public key it is for.
/// Readers try their keys on every stanza of the kind, which costs one X25519 (or X-Wing
/// decapsulation) per pair.
enum HPKEStanza {
    static let x25519Suite = HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: .AES_GCM_256)
    static let xwingSuite = HPKE.Ciphersuite.XWingMLKEM768X25519_SHA256_AES_GCM_256

    static let x25519EncapsulatedKeyByteCount = 32
    static let xwingEncapsulatedKeyByteCount = 1120
    static let sealedKeyByteCount = DataKey.byteCount + AEADAlgorithm.tagByteCount

    static func info(_ kind: RecipientStanza.Kind) -> Data {
        switch kind {
        case .x25519: Data("coffer/v1/stream-x25519-stanza".utf8)
        default: Data("coffer/v1/stream-xwing-stanza".utf8)
        }
    }

    static func body(encapsulatedKey: Data, sealed: Data) -> [UInt8] {
        [UInt8](encapsulatedKey) + [UInt8](sealed)
    }

    /// Splits a body of `kind`; a body of the wrong length is a malformed header.
    static func split(_ body: [UInt8], encapsulatedKeyByteCount: Int) throws -> (enc: Data, sealed: Data) {
        guard body.count == encapsulatedKeyByteCount + sealedKeyByteCount else {
            throw CofferCryptoError.authenticationFailed
        }
        return (Data(body[..<encapsulatedKeyByteCount]), Data(body[encapsulatedKeyByteCount...]))
    }

    /// The recovered input key, or `nil` when the HPKE message does not open (a stanza for
    /// someone else, or an invalid encapsulation such as a low-order X25519 point).
    static func inputKey(opening sealed: Data, with recipient: inout HPKE.Recipient) -> DataKey? {
        guard var plain = try? recipient.open(sealed) else { return nil }
        defer { plain.resetBytes(in: 0..<plain.count) }
        guard plain.count == DataKey.byteCount else { return nil }
        return DataKey(symmetricKey: SymmetricKey(data: plain))
    }
}
