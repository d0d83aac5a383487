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

    /// The key's record from this node's cache when fresh (for policy checks on labels), else
    /// from the backend.
    public func cachedKeyRecord(_ name: KeyIdentifier) async throws -> KeyRecord {
        try await cachedRecord(name, needing: nil)
    }

    private func cachedRecord(_ name: KeyIdentifier, needing version: KeyVersion?) async throws -> KeyRecord {
        _ = try requireRootKey()
        let now = self.now
        let record = try await cache.record(name.rawValue, now: now, usable: { record in version.map { $0 <= record.latestVersion } ?? true }) {
            try await self.describeKey(name)
        }
        guard let version, version > record.latestVersion else { return record }
        // A load that began before `version` existed (rotated on another node a moment ago).
        let stamp = cache.stamp(of: name.rawValue)
        let fresh = try await describeKey(name)
        cache.store(fresh, now: now, ifUnchangedSince: stamp)
        return fresh
    }

    private func cachedVersion(_ record: KeyRecord, _ version: KeyVersion) async throws -> (KeyMaterial, KeyVersionState) {
        let (_, storeID) = try requireRootKey()
        let now = self.now
        let name = record.name, type = record.type, incarnation = record.incarnation
        let cached = try await cache.version(name.rawValue, version.rawValue, now: now) {
            guard let body = try await self.transaction({ tx in try await tx.version(name.rawValue, version.rawValue) }) else {
                throw KeyStoreError(.versionNotFound, detail: "\(name) \(version)")
            }
            let stored = try KeyVersionRecord.decoded(key: name, version: version, body)
            guard let sealed = stored.sealedMaterial, stored.state.allowsDecryption else {
                throw KeyStoreError(.versionUnavailable, detail: "\(name) \(version) is \(stored.state)")
            }
            let material = try self.unsealingKey(for: sealed).unseal(
                sealed, context: .keyMaterial(storeID: storeID, key: name.rawValue, version: version.rawValue, type: type.rawValue, incarnation: incarnation))
            return KeyCache.CachedVersion(material: material, state: stored.state)
        }
        return (cached.material, cached.state)
    }
}

extension KeyStore {
    /// Unseals every usable key version into the cache (up to its capacity), so the first
    /// requests after start-up are served from memory. Returns how many versions were unsealed.
    @discardableResult
    public func preloadCache(progress: KeyStoreProgress? = nil) async throws -> Int {
        let (_, storeID) = try requireRootKey()
        let total = min(try await countVersions(), configuration.cacheCapacity)
        var loaded = 0
        var cursor: (key: String, version: UInt32)?
        var types: [String: KeyRecord] = [:]
        progress?(0, total)
        while loaded < total {
            let after = cursor
            let (rows, records) = try await transaction { tx in
                let rows = try await tx.allVersions(after: after, limit: 1000)
                var records: [String: [UInt8]] = [:]
                for name in Set(rows.map(\.key)) { records[name] = try await tx.record(.key, name, forUpdate: false) }
                return (rows, records)
            }
            let now = self.now
            for (name, body) in records { types[name] = try KeyRecord.decoded(body) }
            for row in rows where loaded < total {
                guard let record = types[row.key], !record.isDeleted, let version = try? KeyVersion(row.version) else { continue }
                let stored = try KeyVersionRecord.decoded(key: record.name, version: version, row.body)
                guard let sealed = stored.sealedMaterial, stored.state.allowsDecryption, version >= record.minimumDecryptionVersion else { continue }
                let material = try unsealingKey(for: sealed).unseal(
                    sealed, context: .keyMaterial(storeID: storeID, key: row.key, version: row.version, type: record.type.rawValue, incarnation: record.incarnation))
                cache.store(row.key, row.version, KeyCache.CachedVersion(material: material, state: stored.state), now: now)
                cache.store(record, now: now)
                loaded += 1
            }
            progress?(loaded, total)
            guard rows.count == 1000, let last = rows.last else { break }
            cursor = (last.key, last.version)
            types.removeAll(keepingCapacity: true)
        }
        return loaded
    }
}
