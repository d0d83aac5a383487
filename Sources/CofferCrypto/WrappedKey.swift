import Crypto
import _CryptoExtras

/// A ``DataKey`` sealed under a ``KeyEncryptionKey``: `nonce (12) || ciphertext (32) || tag (16)`.
///
/// Sealing uses AES-256-GCM-SIV with a fresh random nonce. SIV is chosen over plain GCM because a
/// long-lived KEK may wrap billions of data keys: with random 96-bit nonces GCM's safety margin
/// shrinks with every wrap and a single repeat would leak the GHASH key, while GCM-SIV derives
/// per-nonce keys and degrades gracefully even if a nonce repeats. AES-KW (RFC 3394) was not chosen
/// because it cannot authenticate associated data, and the associated data is what binds a
/// wrapped key to its key name, key version and the format it sits in.
///
/// Associated data: `"coffer/v1/" || domain || 0x00 || binding` where `binding` is chosen by the
/// format (it always includes the KEK's ``KeyReference``). The domain keeps a key wrapped for one
/// format from being accepted by another.
public struct WrappedKey: Hashable, Sendable {
    public static let byteCount = AEADAlgorithm.nonceByteCount + DataKey.byteCount + AEADAlgorithm.tagByteCount

    /// Where a wrapped key lives; part of its associated data.
    enum Domain: String {
        case envelope = "envelope-data-key"
        case streamStanza = "stream-kek-stanza"
        case streamPassphraseStanza = "stream-passphrase-stanza"
    }

    /// The 60 wire bytes.
    public let bytes: [UInt8]

    init?(bytes: some Collection<UInt8>) {
        guard bytes.count == WrappedKey.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    static func associatedData(domain: Domain, binding: [UInt8]) -> [UInt8] {
        Array("coffer/v1/\(domain.rawValue)".utf8) + [0] + binding
    }

    static func wrap(_ key: DataKey, under kek: KeyEncryptionKey, domain: Domain, binding: [UInt8]) throws -> WrappedKey {
        try wrap(key, under: kek, domain: domain, binding: binding, nonce: randomBytes(AEADAlgorithm.nonceByteCount))
    }

    static func wrap(_ key: DataKey, under kek: KeyEncryptionKey, domain: Domain, binding: [UInt8], nonce: [UInt8]) throws -> WrappedKey {
        try wrap(key, under: kek.symmetricKey, domain: domain, binding: binding, nonce: nonce)
    }

    static func wrap(_ key: DataKey, under wrappingKey: SymmetricKey, domain: Domain, binding: [UInt8], nonce: [UInt8]) throws -> WrappedKey {
        // Seal straight from the key's zeroizing storage: no unzeroized copy of the key is made.
        let sealed = try key.withUnsafeSecretBytes { plain in
            try AEADAlgorithm.aes256GCMSIV.seal(
                plain, using: wrappingKey, nonce: nonce,
                authenticating: associatedData(domain: domain, binding: binding))
        }
        return WrappedKey(bytes: nonce + sealed)!
    }

    func unwrap(using kek: KeyEncryptionKey, domain: Domain, binding: [UInt8]) throws -> DataKey {
        try unwrap(using: kek.symmetricKey, domain: domain, binding: binding)
    }

    func unwrap(using wrappingKey: SymmetricKey, domain: Domain, binding: [UInt8]) throws -> DataKey {
        let nonce = bytes[..<AEADAlgorithm.nonceByteCount]
        let sealed = bytes[AEADAlgorithm.nonceByteCount...]
        var plain = try AEADAlgorithm.aes256GCMSIV.open(
            sealed, using: wrappingKey, nonce: nonce,
            authenticating: WrappedKey.associatedData(domain: domain, binding: binding))
        defer { _ = plain.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return DataKey(symmetricKey: SymmetricKey(data: plain))
    }
}
