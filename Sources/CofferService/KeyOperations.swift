#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import CofferCrypto
import CofferStore

/// What the server does with keys, independent of HTTP: the one implementation behind Coffer's
/// own API and any compatibility front end (Vault Transit, KES) added later as thin routes.
///
/// Ciphertexts are Coffer envelopes (docs/FORMAT.md, Format 1) sealed under the key version's
/// material: self-describing, so decrypt and rewrap need no version from the caller. Every
/// failure to open a ciphertext — wrong context, tampering, another store's key, a name that
/// does not exist — is the one ``OperationError/Code/decryptionFailed``, so the API is no oracle;
/// only a disabled or destroyed version named by a ciphertext is reported as such (decided from
/// the envelope's clear header before any key is used).
public struct KeyOperations: Sendable {
    public let store: KeyStore
    /// The largest plaintext `encrypt` accepts (the envelope allows 64 MiB; an API body limit is
    /// much lower, see the server's route table).
    public let maximumPlaintextByteCount: Int

    public init(store: KeyStore, maximumPlaintextByteCount: Int = 1 << 20) {
        self.store = store
        self.maximumPlaintextByteCount = maximumPlaintextByteCount
    }

    /// Seals `plaintext` under the key's primary version.
    public func encrypt(key name: KeyIdentifier, plaintext: [UInt8], context: EncryptionContext = .empty) async throws -> Envelope {
        try await encrypter(for: name).seal(plaintext, context: context)
    }

    /// The key's primary version ready to seal with, resolved once: a batch seals all its items
    /// under the same version without a lookup per item.
    public func encrypter(for name: KeyIdentifier) async throws -> Encrypter {
        let (kek, algorithm) = try Self.keyEncryptionKey(try await store.primaryVersion(of: name))
        return Encrypter(kek: kek, options: EnvelopeOptions(algorithm: algorithm), maximumPlaintextByteCount: maximumPlaintextByteCount)
    }

    /// Seals under one key version (``encrypter(for:)``).
    public struct Encrypter: Sendable {
        let kek: KeyEncryptionKey
        let options: EnvelopeOptions
        let maximumPlaintextByteCount: Int

        public var version: KeyVersion { kek.reference.version }

        public func seal(_ plaintext: [UInt8], context: EncryptionContext = .empty) throws -> Envelope {
            guard plaintext.count <= maximumPlaintextByteCount else {
                throw OperationError(.payloadTooLarge, detail: "plaintext over \(maximumPlaintextByteCount) bytes")
            }
            return try Envelope.seal(plaintext, using: kek, context: context, options: options)
        }
    }

    /// Opens an envelope sealed by ``encrypt(key:plaintext:context:)`` under any usable version.
    public func decrypt(_ envelope: Envelope, context: EncryptionContext = .empty) async throws -> (plaintext: [UInt8], key: KeyReference) {
        let (version, reference) = try await decryptionVersion(for: envelope)
        let (kek, _) = try Self.keyEncryptionKey(version)
        do {
            return (try envelope.open(using: kek, context: context), reference)
        } catch {
            throw OperationError(.decryptionFailed)
        }
    }

    /// Re-seals an envelope's data key under the key's current primary version without returning
    /// the plaintext (the payload bytes are unchanged). An envelope already under the primary is
    /// returned as it is.
    public func rewrap(_ envelope: Envelope, context: EncryptionContext = .empty) async throws -> Envelope {
        let (old, reference) = try await decryptionVersion(for: envelope)
        let primary = try await store.primaryVersion(of: reference.identifier)
        let (oldKEK, _) = try Self.keyEncryptionKey(old)
        // Prove the caller's context first: rewrap must not turn a ciphertext the caller cannot
        // open into one under a newer key.
        do { _ = try envelope.open(using: oldKEK, context: context) } catch { throw OperationError(.decryptionFailed) }
        guard primary.version != old.version else { return envelope }
        let (newKEK, _) = try Self.keyEncryptionKey(primary)
        do { return try envelope.rewrapped(from: oldKEK, to: newKEK) } catch { throw OperationError(.decryptionFailed) }
    }

    /// A new 256-bit data key and its envelope under the key (for client-side envelope
    /// encryption); `includePlaintext: false` returns only the sealed form.
    public func generateDataKey(key name: KeyIdentifier, context: EncryptionContext = .empty, includePlaintext: Bool) async throws
        -> (plaintext: KeyMaterial?, sealed: Envelope)
    {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeMutableBytes { buffer in
            SymmetricKey(size: .bits256).withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let sealed = try await encrypt(key: name, plaintext: bytes, context: context)
        return (includePlaintext ? KeyMaterial(bytes) : nil, sealed)
    }

    /// HMAC-SHA256 of `message` under the primary version of an `hmac-sha256` key; the result
    /// names the version, so verification needs no version from the caller.
    public func hmac(key name: KeyIdentifier, message: [UInt8]) async throws -> (mac: [UInt8], version: KeyVersion) {
        let version = try await store.primaryVersion(of: name)
        try Self.require(version, .hmacSHA256)
        let mac = version.material.withUnsafeBytes { HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: $0)) }
        return (Array(mac), version.version)
    }

    /// Checks an HMAC in constant time against the named version.
    public func verifyHMAC(key name: KeyIdentifier, version: KeyVersion, message: [UInt8], mac: [UInt8]) async throws -> Bool {
        let usable = try await store.decryptionVersion(of: name, version)
        try Self.require(usable, .hmacSHA256)
        return usable.material.withUnsafeBytes { HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: SymmetricKey(data: $0)) }
    }

    /// Signs `message` with the primary version of an `ed25519` or `ecdsa-p256` key (ECDSA over
    /// SHA-256, DER-encoded signature).
    public func sign(key name: KeyIdentifier, message: [UInt8]) async throws -> (signature: [UInt8], version: KeyVersion) {
        let version = try await store.primaryVersion(of: name)
        let signature: [UInt8]
        switch version.type {
        case .ed25519:
            signature = Array(try version.material.withUnsafeBytes { try Curve25519.Signing.PrivateKey(rawRepresentation: $0) }.signature(for: message))
        case .ecdsaP256:
            signature = Array(try version.material.withUnsafeBytes { try P256.Signing.PrivateKey(rawRepresentation: $0) }.signature(for: message).derRepresentation)
        default:
            throw OperationError(.wrongKeyType, detail: "\(name) is \(version.type); signing needs ed25519 or ecdsa-p256")
        }
        return (signature, version.version)
    }

    /// Verifies a signature made by ``sign(key:message:)`` with the named version.
    public func verify(key name: KeyIdentifier, version: KeyVersion, message: [UInt8], signature: [UInt8]) async throws -> Bool {
        let usable = try await store.decryptionVersion(of: name, version)
        switch usable.type {
        case .ed25519:
            let key = try usable.material.withUnsafeBytes { try Curve25519.Signing.PrivateKey(rawRepresentation: $0) }
            return key.publicKey.isValidSignature(signature, for: message)
        case .ecdsaP256:
            let key = try usable.material.withUnsafeBytes { try P256.Signing.PrivateKey(rawRepresentation: $0) }
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.publicKey.isValidSignature(parsed, for: message)
        default:
            throw OperationError(.wrongKeyType, detail: "\(name) is \(usable.type); verifying needs ed25519 or ecdsa-p256")
        }
    }

    /// `count` bytes from the system CSPRNG (through swift-crypto).
    public static func randomBytes(_ count: Int) throws -> [UInt8] {
        guard (1...1024).contains(count) else { throw OperationError(.invalidRequest, detail: "1–1024 random bytes") }
        var out: [UInt8] = []
        while out.count < count { SymmetricKey(size: .bits256).withUnsafeBytes { out += $0 } }
        return Array(out.prefix(count))
    }

    private func decryptionVersion(for envelope: Envelope) async throws -> (UsableKeyVersion, KeyReference) {
        guard let reference = envelope.keyReference else { throw OperationError(.decryptionFailed) }
        do {
            return (try await store.decryptionVersion(of: reference.identifier, reference.version), reference)
        } catch let error as KeyStoreError where [.keyNotFound, .versionNotFound, .integrityFailure].contains(error.code) {
            // Unknown names and versions look exactly like tampering: no oracle for what exists.
            throw OperationError(.decryptionFailed)
        }
    }

    /// The version's material as an envelope key-encryption key, and the payload AEAD its type
    /// asks for.
    static func keyEncryptionKey(_ version: UsableKeyVersion) throws -> (KeyEncryptionKey, AEADAlgorithm) {
        let algorithm: AEADAlgorithm
        switch version.type {
        case .aes256GCM: algorithm = .aes256GCM
        case .chaCha20Poly1305: algorithm = .chacha20Poly1305
        case .aes256GCMSIV: algorithm = .aes256GCMSIV
        default:
            throw OperationError(.wrongKeyType, detail: "\(version.key) is \(version.type); encryption needs aes256-gcm, chacha20-poly1305 or aes256-gcm-siv")
        }
        let kek = try version.material.withUnsafeBytes {
            try KeyEncryptionKey(restoring: $0, reference: KeyReference(identifier: version.key, version: version.version))
        }
        return (kek, algorithm)
    }

    static func require(_ version: UsableKeyVersion, _ type: KeyType) throws {
        guard version.type == type else {
            throw OperationError(.wrongKeyType, detail: "\(version.key) is \(version.type); this operation needs \(type)")
        }
    }
}
