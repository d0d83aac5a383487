import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An X-Wing (ML-KEM-768 + X25519) public key as a stream recipient: stanza type 0x04, HPKE with
/// the X-Wing KEM, HKDF-SHA256, AES-256-GCM (see ``HPKEStanza``).
///
/// X-Wing is a hybrid: the input key stays secret unless *both* ML-KEM-768 and X25519 are broken,
/// so files sealed today resist a future quantum computer ("harvest now, decrypt later").
public struct XWingRecipient: Recipient, Hashable {
    public let publicKey: XWingMLKEM768X25519.PublicKey

    public init(publicKey: XWingMLKEM768X25519.PublicKey) {
        self.publicKey = publicKey
    }

    public func stanza(wrapping inputKey: DataKey) throws -> RecipientStanza {
        var sender = try HPKE.Sender(
            recipientKey: publicKey, ciphersuite: HPKEStanza.xwingSuite, info: HPKEStanza.info(.xwing))
        let sealed = try inputKey.withUnsafeSecretBytes { try sender.seal($0) }
        return try RecipientStanza(kind: .xwing, body: HPKEStanza.body(encapsulatedKey: sender.encapsulatedKey, sealed: sealed))
    }

    public static func == (lhs: XWingRecipient, rhs: XWingRecipient) -> Bool {
        lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(publicKey.rawRepresentation) }
}

/// The private half of an ``XWingRecipient``, kept as its 32-byte seed.
public struct XWingIdentity: Identity {
    let privateKey: XWingMLKEM768X25519.PrivateKey

    init(privateKey: XWingMLKEM768X25519.PrivateKey) {
        self.privateKey = privateKey
    }

    /// A new key pair from the system CSPRNG.
    public static func generate() throws -> XWingIdentity {
        XWingIdentity(privateKey: try XWingMLKEM768X25519.PrivateKey.generate())
    }

    public var recipient: XWingRecipient { XWingRecipient(publicKey: privateKey.publicKey) }

    public func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey? {
        for stanza in stanzas where stanza.kind == .xwing {
            let (enc, sealed) = try HPKEStanza.split(stanza.body, encapsulatedKeyByteCount: HPKEStanza.xwingEncapsulatedKeyByteCount)
            guard
                var recipient = try? HPKE.Recipient(
                    privateKey: privateKey, ciphersuite: HPKEStanza.xwingSuite, info: HPKEStanza.info(.xwing),
                    encapsulatedKey: enc)
            else { continue }
            if let key = HPKEStanza.inputKey(opening: sealed, with: &recipient) { return key }
        }
        return nil
    }
}
