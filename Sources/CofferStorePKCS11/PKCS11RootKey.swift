import Crypto
import CofferCrypto
import CofferPKCS11
import CofferStore

/// A root key that never leaves an HSM: a non-extractable AES-256 key inside a PKCS#11 token,
/// which seals and unseals key material itself (C_Encrypt / C_Decrypt with CKM_AES_GCM).
///
/// The process holds only a logged-in session; the root key's bytes are not in its memory, so a
/// memory dump or a copied database is not enough to unseal anything. AES-GCM rather than
/// GCM-SIV because that is what tokens implement; nonces are 96 random bits per seal, and a
/// store re-sealed under a new root key long before 2³² seals keeps the collision risk
/// negligible (NIST SP 800-38D's bound for random nonces).
public struct PKCS11RootKey: RootKey, CustomStringConvertible {
    static let scheme: UInt8 = 0x02

    let session: PKCS11Session
    let key: PKCS11Key
    public let id: RootKeyID
    public let kind: String

    /// Opens the key labelled `keyLabel` on the token labelled `tokenLabel`, generating it first
    /// (non-extractable, sensitive) when `createIfMissing` and it does not exist.
    ///
    /// - Throws: ``KeyStoreError/Code/unavailable`` when the module, token or login fails (the
    ///   message never contains the PIN); ``KeyStoreError/Code/invalidArgument`` for a key that
    ///   could leave the token (extractable or not sensitive) — Coffer refuses to trust it.
    public static func open(modulePath: String, tokenLabel: String, pin: [UInt8], keyLabel: String, createIfMissing: Bool) throws -> PKCS11RootKey {
        do {
            let module = try PKCS11Module(path: modulePath)
            let session = try PKCS11Session(module: module, tokenLabel: tokenLabel, pin: pin)
            var key = try session.findAESKey(label: keyLabel)
            if key == nil, createIfMissing { key = try session.generateAESKey(label: keyLabel) }
            guard let key else { throw KeyStoreError(.unavailable, detail: "no AES key labelled \(keyLabel) on token \(tokenLabel)") }
            guard try session.keyProperties(key).staysInsideToken else {
                throw KeyStoreError(.invalidArgument, detail: "HSM key \(keyLabel) is extractable or not sensitive; Coffer needs a key that cannot leave the token")
            }
            return PKCS11RootKey(session: session, key: key, tokenLabel: tokenLabel, keyLabel: keyLabel)
        } catch let error as PKCS11Error {
            throw KeyStoreError(.unavailable, detail: "HSM: \(error)")
        }
    }

    init(session: PKCS11Session, key: PKCS11Key, tokenLabel: String, keyLabel: String) {
        self.session = session
        self.key = key
        self.kind = "pkcs11:\(tokenLabel)/\(keyLabel)"
        // Named by token and key label: the key's bytes are out of reach, and whether the token
        // still holds the same key is proved by the store's check value, not by this id.
        let digest = SHA256.hash(data: Array("coffer-store/v1/pkcs11-root-key".utf8) + [0] + Array(tokenLabel.utf8) + [0] + Array(keyLabel.utf8))
        self.id = RootKeyID(bytes: Array(Array(digest).prefix(RootKeyID.byteCount)))!
    }

    public func seal(_ material: KeyMaterial, context: SealingContext) throws -> SealedKeyMaterial {
        let iv = randomBytes(SealedKeyMaterial.nonceByteCount)
        var plaintext = material.bytes
        defer { _ = plaintext.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        do {
            let sealed = try session.encryptAESGCM(key: key, iv: iv, additionalData: context.bytes, plaintext: plaintext)
            return SealedKeyMaterial(scheme: Self.scheme, rootKeyID: id, nonce: iv, ciphertextAndTag: sealed)
        } catch {
            throw KeyStoreError(.unavailable, detail: "HSM: \(error)")
        }
    }

    public func unseal(_ sealed: SealedKeyMaterial, context: SealingContext) throws -> KeyMaterial {
        guard sealed.scheme == Self.scheme, sealed.rootKeyID == id else {
            throw KeyStoreError(.integrityFailure, detail: "sealed under another root key")
        }
        do {
            var plaintext = try session.decryptAESGCM(key: key, iv: Array(sealed.nonce), additionalData: context.bytes, ciphertextAndTag: Array(sealed.ciphertextAndTag))
            defer { _ = plaintext.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            return KeyMaterial(plaintext)
        } catch let error where error.code == .authenticationFailed {
            throw KeyStoreError(.integrityFailure)
        } catch {
            throw KeyStoreError(.unavailable, detail: "HSM: \(error)")
        }
    }

    public var description: String { "PKCS11RootKey(\(kind), id \(id))" }
}
