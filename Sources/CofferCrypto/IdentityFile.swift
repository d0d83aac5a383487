import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import _CryptoExtras

/// A private key that decrypts, paired with its public recipient.
public protocol KeyPairIdentity: Identity {
    /// The public half, to give to whoever encrypts to this identity.
    var publicRecipient: any PublicKeyRecipient { get }
}

extension X25519Identity: KeyPairIdentity {
    public var publicRecipient: any PublicKeyRecipient { recipient }
}

extension XWingIdentity: KeyPairIdentity {
    public var publicRecipient: any PublicKeyRecipient { recipient }
}

extension RSAIdentity: KeyPairIdentity {
    public var publicRecipient: any PublicKeyRecipient { recipient }
}

/// Identity files: private keys as they are stored and exported, always encrypted.
///
/// Inside, an identity file is text: one identity per line, blank lines and `#` comments
/// ignored:
/// - `COFFER-IDENTITY-X25519-…`: the 32-byte X25519 private key;
/// - `COFFER-IDENTITY-XWING-…`: the 32-byte X-Wing seed;
/// - `COFFER-IDENTITY-RSA-…`: the RSA private key, PKCS #1 DER;
///
/// each in the checksummed ``KeyText`` form. That text is never written anywhere in clear: the
/// file is a Coffer stream (armored) encrypted to a passphrase or a key-encryption key, with the
/// encryption context `coffer.content = identity-file`, so an ordinary encrypted file cannot be
/// passed off as an identity file and vice versa. This is what fixes the design this replaces,
/// which kept RSA private keys in clear on disk.
public enum IdentityFile {
    /// The encryption context every identity file is sealed with.
    public static let context: EncryptionContext = ["coffer.content": "identity-file"]

    static let x25519Prefix = "COFFER-IDENTITY-X25519-"
    static let xwingPrefix = "COFFER-IDENTITY-XWING-"
    static let rsaPrefix = "COFFER-IDENTITY-RSA-"

    /// Encrypts `identities` to `recipients` (a ``PassphraseRecipient`` or a ``KeyEncryptionKey``),
    /// armored. `comment` lines (not secret, e.g. a creation date) are written inside, prefixed `#`.
    public static func seal(
        _ identities: [any KeyPairIdentity], comments: [String] = [], to recipients: [any Recipient]
    ) throws -> [UInt8] {
        var text = ""
        for comment in comments { text += "# \(String(comment.map { $0.isNewline ? " " : $0 }))\n" }
        for identity in identities {
            text += "# recipient: \(identity.publicRecipient.text)\n"
            text += try secretText(identity) + "\n"
        }
        var plain = Array(text.utf8)
        defer { _ = plain.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return Armor.encode(try CofferStream.seal(plain, to: recipients, context: context))
    }

    /// Decrypts an identity file (armored or binary) with `unlockers` and parses its identities.
    /// Throws the authentication error for a wrong passphrase or a file that is not an identity
    /// file, and ``CofferCryptoError/Code/invalidParameter`` for a malformed line inside.
    public static func open(_ bytes: [UInt8], with unlockers: [any Identity]) throws -> [any KeyPairIdentity] {
        let binary = Armor.isArmored(bytes.prefix(16)) ? try Armor.decode(bytes) : bytes
        var plain = try CofferStream.open(binary, with: unlockers, context: context)
        defer { _ = plain.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return try parse(plain)
    }

    /// The kinds of stanza protecting an identity file — passphrase (`0x02`) or wrapping key
    /// (`0x01`) — read from its header without decrypting anything, so a caller asks for the
    /// right secret (and never prompts for a passphrase the file does not use). `nil` when the
    /// bytes are not an encrypted file.
    public static func protection(of bytes: [UInt8]) -> Set<RecipientStanza.Kind>? {
        guard let binary = Armor.isArmored(bytes.prefix(16)) ? try? Armor.decode(bytes) : bytes,
            let peeked = try? StreamHeader.peek(Array(binary.prefix(StreamHeader.maximumByteCount)))
        else { return nil }
        return Set(peeked.header.stanzas.map(\.kind))
    }

    /// Whether `prefix` looks like a Coffer-encrypted file (armored or binary) at all.
    public static func isEncrypted(_ prefix: [UInt8]) -> Bool {
        Armor.isArmored(prefix.prefix(16)) || { if case .stream = CofferFormat.detect(prefix) { true } else { false } }()
    }

    static func parse(_ plain: [UInt8]) throws -> [any KeyPairIdentity] {
        guard let text = String(validating: plain, as: UTF8.self) else {
            throw CofferCryptoError(.invalidParameter, detail: "identity file is not text")
        }
        var identities: [any KeyPairIdentity] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingASCIIWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let identity = parseLine(Substring(line)) else {
                throw CofferCryptoError(.invalidParameter, detail: "identity file line \(number + 1) is not a valid identity")
            }
            identities.append(identity)
        }
        guard !identities.isEmpty else {
            throw CofferCryptoError(.invalidParameter, detail: "identity file holds no identities")
        }
        return identities
    }

    static func parseLine(_ line: Substring) -> (any KeyPairIdentity)? {
        if let bytes = KeyText.decode(line, prefix: x25519Prefix) {
            return (try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)).map(X25519Identity.init)
        }
        if let bytes = KeyText.decode(line, prefix: xwingPrefix) {
            return (try? XWingMLKEM768X25519.PrivateKey(seedRepresentation: bytes, publicKey: nil)).map(XWingIdentity.init)
        }
        if let bytes = KeyText.decode(line, prefix: rsaPrefix) {
            return (try? _RSA.Encryption.PrivateKey(derRepresentation: bytes)).flatMap { try? RSAIdentity(privateKey: $0) }
        }
        return nil
    }

    static func secretText(_ identity: any KeyPairIdentity) throws -> String {
        switch identity {
        case let x as X25519Identity: KeyText.encode(prefix: x25519Prefix, [UInt8](x.privateKey.rawRepresentation))
        case let x as XWingIdentity: KeyText.encode(prefix: xwingPrefix, [UInt8](x.privateKey.seedRepresentation))
        case let x as RSAIdentity: KeyText.encode(prefix: rsaPrefix, [UInt8](x.privateKey.derRepresentation))
        default: throw CofferCryptoError(.invalidParameter, detail: "identity type cannot be exported")
        }
    }
}
