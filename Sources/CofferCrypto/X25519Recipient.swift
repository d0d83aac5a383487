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
        guard !X25519SmallOrder.isSmallOrder(publicKey.rawRepresentation) else {
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

    package init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// The private key's raw bytes, for a caller that stores the key sealed (the key store's
    /// import wrapping key). Treat as secret.
    package var privateKeyBytes: [UInt8] { [UInt8](privateKey.rawRepresentation) }

    /// A new key pair from the system CSPRNG.
    public static func generate() -> X25519Identity {
        X25519Identity(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    public var recipient: X25519Recipient { X25519Recipient(trusted: privateKey.publicKey) }

    public func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey? {
        for stanza in stanzas where stanza.kind == .x25519 {
            let (enc, sealed) = try HPKEStanza.split(stanza.body, encapsulatedKeyByteCount: HPKEStanza.x25519EncapsulatedKeyByteCount)
            guard !X25519SmallOrder.isSmallOrder(enc),
                var recipient = try? HPKE.Recipient(
                    privateKey: privateKey, ciphersuite: HPKEStanza.x25519Suite, info: HPKEStanza.info(.x25519),
                    encapsulatedKey: enc)
            else { continue }
            if let key = HPKEStanza.inputKey(opening: sealed, with: &recipient) { return key }
        }
        return nil
    }
}

/// The all-zero X25519 output check of RFC 9180 §7.1.4 (and RFC 7748 §6.1), made on the
/// encoding instead of by computing X25519.
///
/// Clamped X25519 scalars are multiples of the cofactor 8, so the output is all zeros for every
/// private key exactly when the input u-coordinate is a point of order dividing 8. With bit 255
/// ignored (X25519 ignores it) and values ≥ p reducing mod p, those inputs have exactly seven
/// encodings: 0, 1, the two points of order 8, p − 1, p and p + 1 (the list libsodium checks, and
/// exactly the distinct public keys of Wycheproof's ZeroSharedSecret cases, which the tests
/// confirm both ways). Comparing against them replaces a second scalar multiplication per unwrap.
/// The comparison runs over every entry without early exit; the values are public anyway.
enum X25519SmallOrder {
    static let encodings: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        [0xE0, 0xEB, 0x7A, 0x7C, 0x3B, 0x41, 0xB8, 0xAE, 0x16, 0x56, 0xE3, 0xFA, 0xF1, 0x9F, 0xC4, 0x6A,
         0xDA, 0x09, 0x8D, 0xEB, 0x9C, 0x32, 0xB1, 0xFD, 0x86, 0x62, 0x05, 0x16, 0x5F, 0x49, 0xB8, 0x00],
        [0x5F, 0x9C, 0x95, 0xBC, 0xA3, 0x50, 0x8C, 0x24, 0xB1, 0xD0, 0xB1, 0x55, 0x9C, 0x83, 0xEF, 0x5B,
         0x04, 0x44, 0x5C, 0xC4, 0x58, 0x1C, 0x8E, 0x86, 0xD8, 0x22, 0x4E, 0xDD, 0xD0, 0x9F, 0x11, 0x57],
        [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],  // p − 1
        [0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],  // p
        [0xEE] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],  // p + 1
    ]

    /// Whether the 32-byte u-coordinate encoding is one of ``encodings`` (bit 255 ignored).
    /// Anything not 32 bytes long is reported as small order: it is not a usable key either.
    static func isSmallOrder(_ encoding: some DataProtocol) -> Bool {
        let bytes = Array(encoding)
        guard bytes.count == 32 else { return true }
        var matches: UInt8 = 0
        for candidate in encodings {
            var difference: UInt8 = 0
            for index in 0..<31 { difference |= bytes[index] ^ candidate[index] }
            difference |= (bytes[31] & 0x7F) ^ candidate[31]
            matches |= difference == 0 ? 1 : 0
        }
        return matches != 0
    }
}
