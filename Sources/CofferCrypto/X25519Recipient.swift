import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An X25519 public key as a stream recipient: stanza type 0x03, HPKE DHKEM(X25519, HKDF-SHA256),
/// HKDF-SHA256, AES-256-GCM (see ``HPKEStanza``).
///
/// A public key of small order (one whose X25519 output is all zeros for every private key) is
/// refused: encrypting to it would derive the stanza key from a value every eavesdropper knows.
/// RFC 9180 §7.1.4 requires the check; swift-crypto's X25519 does not make it, so Coffer does.
public struct X25519Recipient: Recipient, Hashable {
    public let publicKey: Curve25519.KeyAgreement.PublicKey

    /// Throws ``CofferCryptoError/Code/invalidParameter`` for a small-order public key.
    public init(publicKey: Curve25519.KeyAgreement.PublicKey) throws {
        guard X25519SmallOrder.isContributory(Curve25519.KeyAgreement.PrivateKey(), publicKey) else {
            throw CofferCryptoError(.invalidParameter, detail: "X25519 public key of small order")
        }
        self.publicKey = publicKey
    }

    init(trusted publicKey: Curve25519.KeyAgreement.PublicKey) {
        self.publicKey = publicKey
    }

    public func stanza(wrapping inputKey: DataKey) throws -> RecipientStanza {
        var sender = try HPKE.Sender(
            recipientKey: publicKey, ciphersuite: HPKEStanza.x25519Suite, info: HPKEStanza.info(.x25519))
        let sealed = try inputKey.withUnsafeSecretBytes { try sender.seal($0) }
        return try RecipientStanza(kind: .x25519, body: HPKEStanza.body(encapsulatedKey: sender.encapsulatedKey, sealed: sealed))
    }

    public static func == (lhs: X25519Recipient, rhs: X25519Recipient) -> Bool {
        lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(publicKey.rawRepresentation) }
}

/// The private half of an ``X25519Recipient``.
///
/// An encapsulated key of small order makes X25519 produce the all-zero shared secret, which
/// RFC 9180 requires the recipient to reject; swift-crypto does not, so Coffer checks first and
/// such a stanza simply does not open.
public struct X25519Identity: Identity {
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// A new key pair from the system CSPRNG.
    public static func generate() -> X25519Identity {
        X25519Identity(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    public var recipient: X25519Recipient { X25519Recipient(trusted: privateKey.publicKey) }

    public func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey? {
        for stanza in stanzas where stanza.kind == .x25519 {
            let (enc, sealed) = try HPKEStanza.split(stanza.body, encapsulatedKeyByteCount: HPKEStanza.x25519EncapsulatedKeyByteCount)
            guard let ephemeral = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: enc),
                X25519SmallOrder.isContributory(privateKey, ephemeral),
                var recipient = try? HPKE.Recipient(
                    privateKey: privateKey, ciphersuite: HPKEStanza.x25519Suite, info: HPKEStanza.info(.x25519),
                    encapsulatedKey: enc)
            else { continue }
            if let key = HPKEStanza.inputKey(opening: sealed, with: &recipient) { return key }
        }
        return nil
    }
}

/// The all-zero X25519 output check of RFC 9180 §7.1.4 (and RFC 7748 §6.1).
enum X25519SmallOrder {
    /// Whether X25519(`privateKey`, `publicKey`) is not the all-zero value. Clamped scalars are
    /// multiples of the cofactor, so a small-order point gives zero for every private key and
    /// any one private key detects it.
    static func isContributory(_ privateKey: Curve25519.KeyAgreement.PrivateKey, _ publicKey: Curve25519.KeyAgreement.PublicKey) -> Bool {
        guard let shared = try? privateKey.sharedSecretFromKeyAgreement(with: publicKey) else { return false }
        return !constantTimeEquals(shared, [UInt8](repeating: 0, count: 32))
    }
}
