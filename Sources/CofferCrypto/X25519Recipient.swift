import Crypto
import Foundation

/// An X25519 public key as a stream recipient: stanza type 0x03, HPKE DHKEM(X25519, HKDF-SHA256),
/// HKDF-SHA256, AES-256-GCM (see ``HPKEStanza``).
public struct X25519Recipient: Recipient, Hashable {
    public let publicKey: Curve25519.KeyAgreement.PublicKey

    public init(publicKey: Curve25519.KeyAgreement.PublicKey) {
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
/// An encapsulated key that is a low-order point makes X25519 produce the all-zero shared
/// secret; swift-crypto (BoringSSL) rejects it, so such a stanza simply does not open.
public struct X25519Identity: Identity {
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// A new key pair from the system CSPRNG.
    public static func generate() -> X25519Identity {
        X25519Identity(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    public var recipient: X25519Recipient { X25519Recipient(publicKey: privateKey.publicKey) }

    public func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey? {
        for stanza in stanzas where stanza.kind == .x25519 {
            let (enc, sealed) = try HPKEStanza.split(stanza.body, encapsulatedKeyByteCount: HPKEStanza.x25519EncapsulatedKeyByteCount)
            guard
                var recipient = try? HPKE.Recipient(
                    privateKey: privateKey, ciphersuite: HPKEStanza.x25519Suite, info: HPKEStanza.info(.x25519),
                    encapsulatedKey: enc)
            else { continue }
            if let key = HPKEStanza.inputKey(opening: sealed, with: &recipient) { return key }
        }
        return nil
    }
}
