#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// A key version ready for use: its number, its type and its unsealed material.
public struct UsableKeyVersion: Sendable, CustomStringConvertible {
    public let key: KeyIdentifier
    public let type: KeyType
    public let version: KeyVersion
    public let material: KeyMaterial
    public var description: String { "\(key) \(version) (\(type))" }
}

extension KeyStore {
    /// The primary version, to encrypt, sign or MAC with. Served from the node's cache when fresh.
    ///
    /// - Throws: ``KeyStoreError/Code/keyNotFound``, ``KeyStoreError/Code/keyDeleted``,
    ///   ``KeyStoreError/Code/sealed``.
    public func primaryVersion(of name: KeyIdentifier) async throws -> UsableKeyVersion {
        let record = try await cachedRecord(name, needing: nil)
        guard !record.isDeleted else { throw KeyStoreError(.keyDeleted, detail: name.rawValue) }
        let (material, state) = try await cachedVersion(record, record.primaryVersion)
        guard state == .active else { throw KeyStoreError(.versionUnavailable, detail: "\(name) \(record.primaryVersion) is \(state)") }
        return UsableKeyVersion(key: name, type: record.type, version: record.primaryVersion, material: material)
    }

    /// A version named by a ciphertext, to decrypt or verify with. A version newer than this
    /// node's cached record (rotated on another node a moment ago) is loaded, not refused.
    ///
    /// - Throws: ``KeyStoreError/Code/versionUnavailable`` for a disabled or destroyed version or
    ///   one below the minimum decryption version; ``KeyStoreError/Code/versionNotFound``.
    public func decryptionVersion(of name: KeyIdentifier, _ version: KeyVersion) async throws -> UsableKeyVersion {
        let record = try await cachedRecord(name, needing: version)
        guard !record.isDeleted else { throw KeyStoreError(.keyDeleted, detail: name.rawValue) }
        guard version <= record.latestVersion else { throw KeyStoreError(.versionNotFound, detail: "\(name) \(version)") }
        guard version >= record.minimumDecryptionVersion else {
            throw KeyStoreError(.versionUnavailable, detail: "\(name) \(version) is below the minimum decryption version")
        }
        let (material, state) = try await cachedVersion(record, version)
        guard state.allowsDecryption else { throw KeyStoreError(.versionUnavailable, detail: "\(name) \(version) is \(state)") }
        return UsableKeyVersion(key: name, type: record.type, version: version, material: material)
    }

    /// The material of one version for export. Refused unless the key is flagged exportable.
    public func exportVersion(of name: KeyIdentifier, _ version: KeyVersion) async throws -> UsableKeyVersion {
        let record = try await describeKey(name)
        guard record.flags.exportable else { throw KeyStoreError(.notExportable, detail: name.rawValue) }
        return try await decryptionVersion(of: name, version)
    }

    private func cachedRecord(_ name: KeyIdentifier, needing version: KeyVersion?) async throws -> KeyRecord {
        _ = try requireRootKey()
        let now = self.now
        if let record = cache.record(name.rawValue, now: now), version.map({ $0 <= record.latestVersion }) ?? true {
            return record
        }
        let record = try await describeKey(name)
        cache.store(record, now: now)
        return record
    }

    private func cachedVersion(_ record: KeyRecord, _ version: KeyVersion) async throws -> (KeyMaterial, KeyVersionState) {
        let (_, storeID) = try requireRootKey()
        let now = self.now
        if let hit = cache.version(record.name.rawValue, version.rawValue, now: now) { return (hit.material, hit.state) }
        let name = record.name
        guard let body = try await backend.transaction({ tx in try await tx.version(name.rawValue, version.rawValue) }) else {
            throw KeyStoreError(.versionNotFound, detail: "\(name) \(version)")
        }
        let stored = try KeyVersionRecord.decoded(key: name, version: version, body)
        guard let sealed = stored.sealedMaterial, stored.state.allowsDecryption else {
            throw KeyStoreError(.versionUnavailable, detail: "\(name) \(version) is \(stored.state)")
        }
        let material = try unsealingKey(for: sealed).unseal(sealed, context: .keyMaterial(storeID: storeID, key: name.rawValue, version: version.rawValue, type: record.type.rawValue))
        cache.store(name.rawValue, version.rawValue, KeyCache.CachedVersion(material: material, state: stored.state), now: now)
        return (material, stored.state)
    }
}
