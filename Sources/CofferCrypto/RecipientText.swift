import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import _CryptoExtras

/// Text and PEM forms of public keys (recipients), for command lines, config files and other tools.
///
/// One-line forms (see ``KeyText`` for the checksum):
/// - `coffer-x25519-…`: the 32-byte X25519 public key;
/// - `coffer-xwing-…`: the 1216-byte X-Wing public key;
/// - `coffer-rsa-…`: the RSA SubjectPublicKeyInfo DER.
///
/// PEM: X25519 and RSA use the standard `PUBLIC KEY` (SubjectPublicKeyInfo) that OpenSSL reads;
/// X-Wing has no registered SPKI form yet, so it is `COFFER XWING PUBLIC KEY` around the raw key.
public enum RecipientText {
    static let x25519Prefix = "coffer-x25519-"
    static let xwingPrefix = "coffer-xwing-"
    static let rsaPrefix = "coffer-rsa-"
    static let xwingPEMLabel = "COFFER XWING PUBLIC KEY"

    /// Parses a one-line recipient, or a PEM public key. Throws
    /// ``CofferCryptoError/Code/invalidParameter`` naming what is wrong, never echoing the input.
    public static func parse(_ text: String) throws -> any Recipient {
        let trimmed = String(text.trimmingASCIIWhitespace())
        if trimmed.hasPrefix("-----BEGIN") { return try parsePEM(trimmed) }
        let line = Substring(trimmed)
        let candidates: [(String, ([UInt8]) throws -> any Recipient)] = [
            (x25519Prefix, { try X25519Recipient(publicKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: $0)) }),
            (xwingPrefix, { XWingRecipient(publicKey: try XWingMLKEM768X25519.PublicKey(rawRepresentation: $0)) }),
            (rsaPrefix, { try RSARecipient(derRepresentation: $0) }),
        ]
        for (prefix, make) in candidates where line.hasPrefix(prefix) {
            guard let bytes = KeyText.decode(line, prefix: prefix) else {
                throw CofferCryptoError(.invalidParameter, detail: "recipient checksum or encoding is wrong (mistyped or truncated?)")
            }
            do { return try make(bytes) } catch let error as CofferCryptoError { throw error } catch {
                throw CofferCryptoError(.invalidParameter, detail: "recipient is not a valid public key")
            }
        }
        throw CofferCryptoError(.invalidParameter, detail: "unknown recipient type (expected coffer-x25519-, coffer-xwing-, coffer-rsa- or a PEM public key)")
    }

    static func parsePEM(_ text: String) throws -> any Recipient {
        guard let (label, bytes) = PEM.decode(text) else {
            throw CofferCryptoError(.invalidParameter, detail: "malformed PEM")
        }
        switch label {
        case "PUBLIC KEY":
            if let key = try? Curve25519.KeyAgreement.PublicKey(pemRepresentation: text) {
                return try X25519Recipient(publicKey: key)
            }
            return try RSARecipient(derRepresentation: bytes)
        case xwingPEMLabel:
            guard let key = try? XWingMLKEM768X25519.PublicKey(rawRepresentation: bytes) else {
                throw CofferCryptoError(.invalidParameter, detail: "not an X-Wing public key")
            }
            return XWingRecipient(publicKey: key)
        default:
            throw CofferCryptoError(.invalidParameter, detail: "unsupported PEM type (expected PUBLIC KEY or \(xwingPEMLabel))")
        }
    }
}

/// A recipient with a text and PEM form (every public-key recipient).
public protocol PublicKeyRecipient: Recipient, CustomStringConvertible {
    /// The one-line form, e.g. `coffer-x25519-…`.
    var text: String { get }
    /// The PEM form.
    var pemRepresentation: String { get }
}

extension PublicKeyRecipient {
    public var description: String { text }
}

extension X25519Recipient: PublicKeyRecipient {
    public var text: String { KeyText.encode(prefix: RecipientText.x25519Prefix, [UInt8](publicKey.rawRepresentation)) }
    public var pemRepresentation: String { publicKey.pemRepresentation }
}

extension XWingRecipient: PublicKeyRecipient {
    public var text: String { KeyText.encode(prefix: RecipientText.xwingPrefix, [UInt8](publicKey.rawRepresentation)) }
    public var pemRepresentation: String { PEM.encode(label: RecipientText.xwingPEMLabel, [UInt8](publicKey.rawRepresentation)) }
}

extension RSARecipient: PublicKeyRecipient {
    public var text: String { KeyText.encode(prefix: RecipientText.rsaPrefix, derRepresentation) }
    public var pemRepresentation: String { PEM.encode(label: "PUBLIC KEY", derRepresentation) }
}
