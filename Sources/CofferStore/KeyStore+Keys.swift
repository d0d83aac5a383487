#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// Settings of a new key.
public struct KeyCreationOptions: Sendable {
    public var labels: Set<KeyLabel> = []
    public var flags = KeyFlags()
    public var rotationPeriod: Duration?

    public init(labels: Set<KeyLabel> = [], flags: KeyFlags = KeyFlags(), rotationPeriod: Duration? = nil) {
        self.labels = labels
        self.flags = flags
        self.rotationPeriod = rotationPeriod
    }
}

/// A change to a key's settings; `nil` fields stay as they are.
public struct KeyConfigurationChange: Sendable {
    /// `.some(nil)` turns automatic rotation off.
    public var rotationPeriod: Duration??
    public var minimumDecryptionVersion: KeyVersion?
    public var labels: Set<KeyLabel>?
    public var flags: KeyFlags?

    public init(rotationPeriod: Duration?? = nil, minimumDecryptionVersion: KeyVersion? = nil, labels: Set<KeyLabel>? = nil, flags: KeyFlags? = nil) {
        self.rotationPeriod = rotationPeriod
        self.minimumDecryptionVersion = minimumDecryptionVersion
        self.labels = labels
        self.flags = flags
    }
}

/// One page of ``KeyStore/listKeys(prefix:label:after:limit:)``.
public struct KeyPage: Sendable {
    public let keys: [KeyRecord]
    /// Pass as `after` for the next page; `nil` on the last page.
    public let next: KeyIdentifier?
}

extension KeyStore {
    /// The shortest and longest automatic rotation periods accepted.
    public static let rotationPeriodRange: ClosedRange<Duration> = .seconds(1) ... .seconds(100 * 365 * 86400)
    /// The most keys one list call returns.
    public static let maximumPageSize = 1000

    /// Creates a key with a fresh version 1 of new material.
    ///
    /// - Throws: ``KeyStoreError/Code/keyExists`` when the name is taken (also by a soft-deleted
    ///   key, which may still be restored).
    @discardableResult
    public func createKey(_ name: KeyIdentifier, type: KeyType, options: KeyCreationOptions = KeyCreationOptions()) async throws -> KeyRecord {
        try await insertKey(name, type: type, material: try type.generateMaterial(), options: options)
    }

    /// Creates a key whose version 1 is caller-supplied material ("bring your own key"), after
    /// checking that it is a well-formed key of `type`.
    @discardableResult
    public func importKey(_ name: KeyIdentifier, type: KeyType, material: KeyMaterial, options: KeyCreationOptions = KeyCreationOptions()) async throws -> KeyRecord {
        try type.validate(material)
        return try await insertKey(name, type: type, material: material, options: options)
    }

    private func insertKey(_ name: KeyIdentifier, type: KeyType, material: KeyMaterial, options: KeyCreationOptions) async throws -> KeyRecord {
        try Self.validate(options.labels, options.rotationPeriod)
        let (rootKey, storeID) = try requireRootKey()
        let now = StoredDocument.date(StoredDocument.seconds(self.now))
        let record = KeyRecord(
            name: name, type: type, createdAt: now, primaryVersion: .first, latestVersion: .first, minimumDecryptionVersion: .first,
            rotationPeriod: options.rotationPeriod, lastRotatedAt: now, labels: options.labels, flags: options.flags, deletion: nil, revision: 1,
            incarnation: randomBytes(KeyRecord.incarnationByteCount))
        let version = KeyVersionRecord(
            key: name, version: .first, createdAt: now, state: .active,
            sealedMaterial: try rootKey.seal(
                material, context: .keyMaterial(storeID: storeID, key: name.rawValue, version: 1, type: type.rawValue, incarnation: record.incarnation)))
        try await write { tx in
            guard try await tx.insertRecord(.key, name.rawValue, try record.encoded()) else {
                throw KeyStoreError(.keyExists, detail: name.rawValue)
            }
            // A purged key's versions are deleted with it, so version 1 is free here.
            guard try await tx.insertVersion(name.rawValue, 1, try version.encoded()) else {
                throw KeyStoreError(.conflict, detail: name.rawValue)
            }
            try await tx.announceChange(of: name.rawValue)
        }
        cache.evict(name.rawValue)
        return record
    }

    /// The key's record, read from the backend (not the cache).
    public func describeKey(_ name: KeyIdentifier) async throws -> KeyRecord {
        try await transaction { tx in try await Self.loadRecord(tx, name, forUpdate: false) }
    }

    /// Keys whose names start with `prefix` (and carry `label`, if given), in name order.
    public func listKeys(prefix: String = "", label: KeyLabel? = nil, after: KeyIdentifier? = nil, limit: Int = 100) async throws -> KeyPage {
        guard (1...Self.maximumPageSize).contains(limit) else {
            throw KeyStoreError(.invalidArgument, detail: "limit must be 1–\(Self.maximumPageSize)")
        }
        return try await transaction { tx in
            var keys: [KeyRecord] = []
            var cursor = after?.rawValue
            var exhausted = false
            // Label filtering happens here, so a page may need several backend pages.
            while keys.count < limit && !exhausted {
                let rows = try await tx.records(.key, prefix: prefix, after: cursor, limit: limit)
                exhausted = rows.count < limit
                for row in rows {
                    cursor = row.id
                    let record = try KeyRecord.decoded(row.body)
                    if let label, !record.labels.contains(label) { continue }
                    keys.append(record)
                    if keys.count == limit { break }
                }
            }
            // A full page may be followed by an empty one; callers stop at `next == nil`.
            let next = keys.count == limit ? keys.last?.name : nil
            return KeyPage(keys: keys, next: next)
        }
    }

    /// Changes a key's settings in one transaction.
    ///
    /// The minimum decryption version may not pass the primary (that would make the key unable to
    /// decrypt what it encrypts now).
    @discardableResult
    public func configureKey(_ name: KeyIdentifier, _ change: KeyConfigurationChange) async throws -> KeyRecord {
        try Self.validate(change.labels ?? [], change.rotationPeriod ?? nil)
        return try await modifyKey(name) { record in
            guard !record.isDeleted else { throw KeyStoreError(.keyDeleted, detail: name.rawValue) }
            if let period = change.rotationPeriod { record.rotationPeriod = period }
            if let labels = change.labels { record.labels = labels }
            if let flags = change.flags { record.flags = flags }
            if let minimum = change.minimumDecryptionVersion {
                guard minimum <= record.primaryVersion else {
                    throw KeyStoreError(.invalidArgument, detail: "the minimum decryption version may not exceed the primary \(record.primaryVersion)")
                }
                record.minimumDecryptionVersion = minimum
            }
            return true
        }
    }

    /// Loads the key's record under its row lock, lets `change` edit it, and — unless `change`
    /// returns `false` (nothing to do) — writes it back with the next revision, announces the
    /// change to other nodes and evicts it from this node's cache.
    private func modifyKey(_ name: KeyIdentifier, _ change: @Sendable @escaping (inout KeyRecord) throws -> Bool) async throws -> KeyRecord {
        let record = try await write { tx in
            var record = try await Self.loadRecord(tx, name, forUpdate: true)
            guard try change(&record) else { return record }
            record.revision += 1
            try await tx.updateRecord(.key, name.rawValue, try record.encoded())
            try await tx.announceChange(of: name.rawValue)
            return record
        }
        cache.evict(name.rawValue)
        return record
    }

    /// Adds a new version of fresh material and makes it the primary, in one transaction: two
    /// nodes rotating at once get two consecutive versions, never one number twice.
    @discardableResult
    public func rotateKey(_ name: KeyIdentifier) async throws -> KeyRecord {
        try await rotate(name, onlyIfDue: false)!
    }

    /// Rotates the key if its rotation period has passed; `nil` when it was not due (possibly
    /// because another node just rotated it: the check runs inside the transaction, so a due key
    /// is rotated exactly once however many nodes' schedulers race).
    public func rotateIfDue(_ name: KeyIdentifier) async throws -> KeyRecord? {
        try await rotate(name, onlyIfDue: true)
    }

    /// Names of keys whose automatic rotation is due now.
    public func keysDueForRotation(limit: Int = 1000) async throws -> [KeyIdentifier] {
        let now = self.now
        var due: [KeyIdentifier] = []
        var after: String?
        repeat {
            let page = try await scanKeyRecords(after: after)
            due += page.records.filter { !$0.isDeleted && ($0.nextRotation.map { $0 <= now } ?? false) }.map(\.name)
            after = page.next
        } while after != nil && due.count < limit
        return Array(due.prefix(limit))
    }

    /// A page of key records for the background passes (scheduled rotation, purge). A row that
    /// fails its check is skipped — counted in ``integrityFailures``, and refused wherever it is
    /// used — so that one tampered key does not stop the rotation of every other.
    private func scanKeyRecords(after: String?) async throws -> (records: [KeyRecord], next: String?) {
        let (rows, sealedRowKey) = try requireRowsAndSealedKey()
        let limit = Self.maximumPageSize
        let page = try await backend.transaction { tx in try await tx.records(.key, prefix: "", after: after, limit: limit) }
        let records = page.compactMap { row -> KeyRecord? in
            guard let body = try? rows.open(.key, row.id, row.body) else { return nil }
            // A tagged body that does not decode was written by Coffer and damaged since, or by
            // a Coffer this one does not understand: counted like a failed tag.
            guard let record = try? KeyRecord.decoded(body) else { rows.failures.increment(); return nil }
            return record
        }
        // Rows that all fail at once are most likely re-tagged by a root-key rotation elsewhere.
        if records.count < page.count { try await sealIfRowKeyChanged(since: sealedRowKey) }
        return (records, page.count == limit ? page.last?.id : nil)
    }

    private func rotate(_ name: KeyIdentifier, onlyIfDue: Bool) async throws -> KeyRecord? {
        let (rootKey, storeID) = try requireRootKey()
        let probe = try await describeKey(name)
        // Generated outside the transaction (RSA-4096 takes a while) and sealed inside, once the
        // number is known; a retry after a conflict reuses the material under the new number.
        let material = try probe.type.generateMaterial()
        let now = StoredDocument.date(StoredDocument.seconds(self.now))
        let record: KeyRecord? = try await write { tx in
            var record = try await Self.loadRecord(tx, name, forUpdate: true)
            guard !record.isDeleted else { throw KeyStoreError(.keyDeleted, detail: name.rawValue) }
            if onlyIfDue {
                guard let next = record.nextRotation, next <= now else { return nil }
            }
            let number = try record.latestVersion.next()
            let version = KeyVersionRecord(
                key: name, version: number, createdAt: now, state: .active,
                sealedMaterial: try rootKey.seal(material, context: .keyMaterial(storeID: storeID, key: name.rawValue, version: number.rawValue, type: record.type.rawValue, incarnation: record.incarnation)))
            guard try await tx.insertVersion(name.rawValue, number.rawValue, try version.encoded()) else {
                throw KeyStoreError(.conflict, detail: name.rawValue)
            }
            record.latestVersion = number
            record.primaryVersion = number
            record.lastRotatedAt = now
            record.revision += 1
            try await tx.updateRecord(.key, name.rawValue, try record.encoded())
            try await tx.announceChange(of: name.rawValue)
            return record
        }
        cache.evict(name.rawValue)
        return record
    }

    /// Every version of the key, oldest first (no material).
    public func versions(of name: KeyIdentifier) async throws -> [KeyVersionInfo] {
        try await transaction { tx in
            _ = try await Self.loadRecord(tx, name, forUpdate: false)
            return try await tx.versions(name.rawValue).map { row in
                let record = try KeyVersionRecord.decoded(key: name, version: try Self.version(row.version), row.body)
                return KeyVersionInfo(version: record.version, createdAt: record.createdAt, state: record.state)
            }
        }
    }

    /// Enables (`active`), phases out (`decrypt-only`), disables or destroys a version.
    ///
    /// The primary must stay active (rotate first); destroyed is terminal and drops the sealed
    /// material in the same transaction, so no backup taken afterwards contains it.
    public func setVersionState(_ name: KeyIdentifier, version: KeyVersion, to newState: KeyVersionState) async throws {
        try await write { tx in
            let record = try await Self.loadRecord(tx, name, forUpdate: true)
            guard !record.isDeleted else { throw KeyStoreError(.keyDeleted, detail: name.rawValue) }
            guard let body = try await tx.version(name.rawValue, version.rawValue) else {
                throw KeyStoreError(.versionNotFound, detail: "\(name) \(version)")
            }
            var stored = try KeyVersionRecord.decoded(key: name, version: version, body)
            guard stored.state != .destroyed || newState == .destroyed else {
                throw KeyStoreError(.stateChangeRefused, detail: "\(name) \(version) is destroyed")
            }
            guard version != record.primaryVersion || newState == .active else {
                throw KeyStoreError(.stateChangeRefused, detail: "\(name) \(version) is the primary; rotate first")
            }
            stored.state = newState
            if newState == .destroyed { stored.sealedMaterial = nil }
            try await tx.updateVersion(name.rawValue, version.rawValue, try stored.encoded())
            try await tx.announceChange(of: name.rawValue)
        }
        cache.evict(name.rawValue)
    }

    /// Soft-deletes a key: it refuses every use at once and is destroyed by
    /// ``purgeDeletedKeys()`` after the recovery window, unless restored before.
    ///
    /// - Throws: ``KeyStoreError/Code/deletionProtected`` while the flag is set.
    @discardableResult
    public func deleteKey(_ name: KeyIdentifier) async throws -> KeyRecord {
        let now = StoredDocument.date(StoredDocument.seconds(self.now))
        let window = TimeInterval(configuration.recoveryWindow.components.seconds)
        return try await modifyKey(name) { record in
            guard !record.flags.deletionProtected else { throw KeyStoreError(.deletionProtected, detail: name.rawValue) }
            guard !record.isDeleted else { return false }
            record.deletion = KeyDeletion(deletedAt: now, purgeAfter: now.addingTimeInterval(window))
            return true
        }
    }

    /// Undoes a soft deletion within the recovery window.
    @discardableResult
    public func restoreKey(_ name: KeyIdentifier) async throws -> KeyRecord {
        try await modifyKey(name) { record in
            guard record.isDeleted else { return false }
            record.deletion = nil
            return true
        }
    }

    /// Destroys every soft-deleted key whose recovery window has passed: its record and all its
    /// versions go in one transaction per key. Returns the names purged.
    public func purgeDeletedKeys() async throws -> [KeyIdentifier] {
        let now = self.now
        var purged: [KeyIdentifier] = []
        var after: String?
        repeat {
            let page = try await scanKeyRecords(after: after)
            for candidate in page.records where (candidate.deletion.map { $0.purgeAfter <= now } ?? false) {
                let done: Bool = try await write { tx in
                    // Re-checked under the row lock: a restore may have won the race.
                    guard let body = try await tx.record(.key, candidate.name.rawValue, forUpdate: true) else { return false }
                    let record = try KeyRecord.decoded(body)
                    guard let deletion = record.deletion, deletion.purgeAfter <= now else { return false }
                    try await tx.deleteVersions(record.name.rawValue)
                    try await tx.deleteRecord(.key, record.name.rawValue)
                    try await tx.announceChange(of: record.name.rawValue)
                    return true
                }
                if done {
                    cache.evict(candidate.name.rawValue)
                    purged.append(candidate.name)
                }
            }
            after = page.next
        } while after != nil
        return purged
    }

    static func loadRecord(_ tx: any KeyStoreTransaction, _ name: KeyIdentifier, forUpdate: Bool) async throws -> KeyRecord {
        guard let body = try await tx.record(.key, name.rawValue, forUpdate: forUpdate) else {
            throw KeyStoreError(.keyNotFound, detail: name.rawValue)
        }
        let record = try KeyRecord.decoded(body)
        guard record.name == name else { throw KeyStoreError(.integrityFailure, detail: "key row under the wrong name") }
        return record
    }

    static func version(_ raw: UInt32) throws -> KeyVersion {
        guard let version = try? KeyVersion(raw) else { throw KeyStoreError(.integrityFailure, detail: "invalid version row") }
        return version
    }

    static func validate(_ labels: Set<KeyLabel>, _ period: Duration?) throws {
        guard labels.count <= KeyLabel.maximumCount else {
            throw KeyStoreError(.invalidArgument, detail: "at most \(KeyLabel.maximumCount) labels")
        }
        if let period {
            guard rotationPeriodRange.contains(period), period.components.attoseconds == 0 else {
                throw KeyStoreError(.invalidArgument, detail: "rotation period must be whole seconds, 1 s to 100 years")
            }
        }
    }
}
