#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto
import Crypto

/// Bring-your-own-key import with the material wrapped for transport.
///
/// The store holds one X25519 key pair, the *import wrapping key*, made on first use and sealed
/// under the root key like any key version. A client fetches its public half, seals the key
/// material to it as a Coffer envelope (HPKE, docs/FORMAT.md) with the encryption context
/// ``importContext(key:type:)``, and sends the envelope. The material is then never in clear
/// outside the client and this process — not in a TLS-terminating proxy's memory or logs — and
/// the context binds it to one key name and type, so a captured envelope cannot be imported
/// under another name or relabelled as another type.
///
/// The private half is not a key in the key namespace: no policy, however broad, lets a caller
/// decrypt with it.
extension KeyStore {
    static let importWrappingRecord = "import-wrapping-key"

    /// The recipient clients seal imported material to (`coffer-x25519-…`).
    public func importWrappingRecipient() async throws -> X25519Recipient {
        try await importWrappingIdentity(reload: false).recipient
    }

    /// The encryption context an import envelope must be sealed with: the key's name, its type
    /// and whether it may be exported. Binding `exportable` means a captured envelope cannot be
    /// replayed later (after the key is deleted) as an exportable key to read the material back.
    public static func importContext(key: KeyIdentifier, type: KeyType, exportable: Bool) -> EncryptionContext {
        ["coffer.import.key": key.rawValue, "coffer.import.type": type.rawValue, "coffer.import.exportable": exportable ? "true" : "false"]
    }

    /// Imports key material that arrives sealed to ``importWrappingRecipient()``.
    ///
    /// - Throws: ``KeyStoreError/Code/invalidKeyMaterial`` when the envelope does not open (wrong
    ///   recipient, other key name or type, tampered) — one error for all of these.
    public func importWrappedKey(
        _ name: KeyIdentifier, type: KeyType, wrappedMaterial: [UInt8], options: KeyCreationOptions = KeyCreationOptions()
    ) async throws -> KeyRecord {
        let material = try await unwrapImportedMaterial(wrappedMaterial, key: name, type: type, exportable: options.flags.exportable)
        return try await importKey(name, type: type, material: material, options: options)
    }

    func unwrapImportedMaterial(_ wrapped: [UInt8], key: KeyIdentifier, type: KeyType, exportable: Bool) async throws -> KeyMaterial {
        guard let envelope = try? Envelope(bytes: wrapped) else {
            throw KeyStoreError(.invalidKeyMaterial, detail: "the wrapped material is not a Coffer envelope")
        }
        let context = Self.importContext(key: key, type: type, exportable: exportable)
        // A second try after re-reading the key: another node may have replaced it (after a
        // root-key rotation) since this node cached it.
        for reload in [false, true] {
            let identity = try await importWrappingIdentity(reload: reload)
            if var bytes = try? envelope.open(with: identity, context: context) {
                defer { for index in bytes.indices { bytes[index] = 0 } }
                return KeyMaterial(bytes)
            }
        }
        throw KeyStoreError(.invalidKeyMaterial, detail: "the wrapped material does not open with this store's import wrapping key for this key name and type")
    }

    func importWrappingIdentity(reload: Bool) async throws -> X25519Identity {
        if !reload, let cached = cachedImportWrappingIdentity { return cached }
        let (rootKey, storeID) = try requireRootKey()
        let context = SealingContext.importWrappingKey(storeID: storeID)
        let identity: X25519Identity = try await write { tx in
            let existing = try await tx.record(.meta, Self.importWrappingRecord, forUpdate: true)
            if let existing {
                guard let document = try? StoredDocument.decode(ImportWrappingDocument.self, existing, what: "import wrapping key"),
                    let sealedBytes = Base64URL.decode(Substring(document.sealed)), let sealed = try? SealedKeyMaterial(bytes: sealedBytes)
                else { throw KeyStoreError(.integrityFailure, detail: "malformed import wrapping key row") }
                // Sealed under a root key this node still holds (the current one, or the one a
                // rotation in progress replaces): open it — an error here is an error (a damaged
                // row, an HSM that failed), never a reason to replace the key — and re-seal it
                // under the current root key if it is an older one.
                if let opener = try? self.unsealingKey(for: sealed) {
                    let material = try opener.unseal(sealed, context: context)
                    let privateKey = try material.withUnsafeBytes {
                        do { return try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: $0) } catch {
                            throw KeyStoreError(.integrityFailure, detail: "malformed import wrapping key")
                        }
                    }
                    if sealed.rootKeyID != rootKey.id {
                        let resealed = try rootKey.seal(material, context: context)
                        try await tx.updateRecord(.meta, Self.importWrappingRecord, try StoredDocument.encode(ImportWrappingDocument(sealed: Base64URL.encode(resealed.bytes))))
                    }
                    return X25519Identity(privateKey: privateKey)
                }
                // Sealed under a root key no node holds any more (a root-key rotation finished
                // without it): it can never open again, so a new one replaces it below. Clients
                // fetch the recipient just before importing; one import may need a retry.
            }
            let fresh = X25519Identity.generate()
            let sealed = try rootKey.seal(KeyMaterial(fresh.privateKeyBytes), context: context)
            let body = try StoredDocument.encode(ImportWrappingDocument(sealed: Base64URL.encode(sealed.bytes)))
            if existing == nil {
                guard try await tx.insertRecord(.meta, Self.importWrappingRecord, body) else {
                    throw KeyStoreError(.conflict, detail: "import wrapping key created concurrently")
                }
            } else {
                try await tx.updateRecord(.meta, Self.importWrappingRecord, body)
            }
            return fresh
        }
        cachedImportWrappingIdentity = identity
        return identity
    }
}

/// The `import-wrapping-key` meta row: `{"v":1,"sealed":"<base64url SealedKeyMaterial>"}`.
struct ImportWrappingDocument: Codable, Sendable {
    var v = 1
    var sealed: String
}
