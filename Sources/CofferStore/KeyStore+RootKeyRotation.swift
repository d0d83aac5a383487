#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// Progress of a long store-wide pass (root-key rotation): rows done out of rows in total.
public typealias KeyStoreProgress = @Sendable (_ done: Int, _ total: Int) -> Void

extension KeyStore {
    /// Rows re-sealed per transaction during a root-key rotation.
    static let rotationBatchSize = 200

    /// Re-seals every key version under `newKey` (a new key file or an HSM key) and records it as
    /// the store's root key.
    ///
    /// Resumable: each batch is one transaction, and every row records which root key sealed it,
    /// so after an interruption the same call (with both keys available) skips the rows already
    /// done. Until it finishes, the store's recorded root key stays the old one. Run it with the
    /// other nodes stopped: they hold only the old key and cannot unseal re-sealed rows.
    public func rotateRootKey(to newKey: any RootKey, progress: KeyStoreProgress? = nil) async throws {
        try await rotateRootKey(newKey, kdf: nil, batchSize: Self.rotationBatchSize, stoppingAfterBatches: nil, progress: progress)
    }

    /// The same pass in smaller batches, stopping (as a crash would) after `stoppingAfterBatches`:
    /// for tests of resumption.
    package func rotateRootKey(to newKey: any RootKey, batchSize: Int, stoppingAfterBatches: Int?) async throws {
        try await rotateRootKey(newKey, kdf: nil, batchSize: batchSize, stoppingAfterBatches: stoppingAfterBatches, progress: nil)
    }

    /// Re-seals every key version under a root key derived from a new passphrase (see
    /// ``rotateRootKey(to:progress:)``). Resumable too: run it again with the same passphrase.
    public func rotateRootKey(toPassphrase passphrase: Passphrase, progress: KeyStoreProgress? = nil) async throws {
        try await rotateRootKey(toPassphrase: passphrase, batchSize: Self.rotationBatchSize, stoppingAfterBatches: nil, progress: progress)
    }

    /// The same pass in smaller batches, stopping (as a crash would) after `stoppingAfterBatches`.
    package func rotateRootKey(
        toPassphrase passphrase: Passphrase, batchSize: Int, stoppingAfterBatches: Int?, progress: KeyStoreProgress? = nil
    ) async throws {
        let kdf = try await pendingPassphraseKDF()
        guard let salt = Base64URL.decode(Substring(kdf.salt)) else { throw KeyStoreError(.integrityFailure, detail: "invalid store row") }
        let newKey = try Self.passphraseRootKey(passphrase, parameters: .scrypt(logN: kdf.logN, r: kdf.r, p: kdf.p), salt: salt)
        try await rotateRootKey(newKey, kdf: kdf, batchSize: batchSize, stoppingAfterBatches: stoppingAfterBatches, progress: progress)
    }

    /// The KDF and salt of the passphrase rotation under way, recorded in the store row before
    /// its first batch (a new one if none is). Without it an interrupted rotation could never
    /// finish: a fresh salt on the second run derives another key from the same passphrase,
    /// and the rows the first run re-sealed would open under neither.
    private func pendingPassphraseKDF() async throws -> PassphraseKDFDocument {
        guard case .scrypt(let logN, let r, let p) = configuration.passphraseKDF else {
            throw KeyStoreError(.invalidArgument, detail: "the unseal passphrase KDF must be scrypt")
        }
        try configuration.passphraseKDF.validateForNewData()
        return try await updateStoreRow { meta in
            if let pending = meta.pendingKDF { return pending }
            let kdf = PassphraseKDFDocument(logN: logN, r: r, p: p, salt: Base64URL.encode(randomBytes(16)))
            meta.pendingKDF = kdf
            return kdf
        }
    }

    private func rotateRootKey(
        _ newKey: any RootKey, kdf: PassphraseKDFDocument?, batchSize: Int, stoppingAfterBatches: Int?, progress: KeyStoreProgress?
    ) async throws {
        let (_, storeID) = try requireRootKey()
        // Every row's tag is checked before anything changes: the last step re-tags every row and
        // would fail on one bad tag, after every version had been re-sealed under the new key —
        // leaving a store whose record names one root key and whose versions another.
        try await transaction { tx in try await Self.forEveryRow(tx, record: { _, _ in }, version: { _ in }) }
        try await claimRotation(to: newKey)
        let total = try await countVersions()
        // From here this node seals new material under the new key and unseals with either.
        adopt(newKey)
        var done = 0
        var batches = 0
        var cursor: (key: String, version: UInt32)?
        progress?(0, total)
        while true {
            let after = cursor
            let page: (count: Int, last: (key: String, version: UInt32)?) = try await write { [self] tx in
                let rows = try await tx.allVersions(after: after, limit: batchSize)
                for row in rows {
                    guard let name = try? KeyIdentifier(row.key) else { throw KeyStoreError(.integrityFailure, detail: "invalid version row") }
                    var stored = try KeyVersionRecord.decoded(key: name, version: try Self.version(row.version), row.body)
                    guard let sealed = stored.sealedMaterial, sealed.rootKeyID != newKey.id else { continue }
                    guard let recordBody = try await tx.record(.key, row.key, forUpdate: false) else { continue }
                    let record = try KeyRecord.decoded(recordBody)
                    let context = SealingContext.keyMaterial(
                        storeID: storeID, key: row.key, version: row.version, type: record.type.rawValue, incarnation: record.incarnation)
                    let material = try unsealingKey(for: sealed).unseal(sealed, context: context)
                    stored.sealedMaterial = try newKey.seal(material, context: context)
                    try await tx.updateVersion(row.key, row.version, try stored.encoded())
                }
                return (rows.count, rows.last.map { ($0.key, $0.version) })
            }
            done += page.count
            progress?(min(done, total), total)
            batches += 1
            if let stoppingAfterBatches, batches >= stoppingAfterBatches { return }
            guard page.count == batchSize, let last = page.last else { break }
            cursor = last
        }
        // The import wrapping key too (re-sealed if present; not created here), so clients'
        // recipient stays the same across the rotation.
        if try await transaction({ tx in try await tx.record(.meta, Self.importWrappingRecord, forUpdate: false) }) != nil {
            _ = try await importWrappingIdentity(reload: true)
        }
        // Last, in one transaction: a new row key, every row re-tagged under it (each checked
        // under the old one first), and the store's record of its root key with a new check
        // value and the new row key sealed under the new root key. A new row key, not the old
        // one re-sealed: a rotation is what an operator does when the old root key may be out,
        // and the old root key with any old copy of the store row opens the old row key — with
        // it, rows could still be forged after the rotation. If this transaction fails nothing
        // of it applies; running the rotation again redoes it (the batches above are done).
        let check = try newKey.seal(KeyMaterial(randomBytes(32)), context: .rootKeyCheck(storeID: storeID))
        let oldRows = try requireRows()
        let newRowKey = RowAuthenticator.generateKey()
        let newRows = RowAuthenticator(key: newRowKey, failures: rowFailures)
        let sealedRowKey = try newKey.seal(newRowKey, context: .rowKey(storeID: storeID))
        let sealedRowKeyText = Base64URL.encode(sealedRowKey.bytes)
        try await adopt(rows: newRows, sealed: sealedRowKeyText) { try await retryingConflicts { [backend] in
            try await backend.transaction { raw in
                let reading = AuthenticatedTransaction(inner: raw, rows: oldRows)
                let writing = AuthenticatedTransaction(inner: raw, rows: newRows)
                var meta = try await Self.storeRow(reading, forUpdate: true)
                guard meta.pendingRootKeyID == newKey.id.hex else {
                    // Not `conflict`: retrying cannot help, and `conflict` is retried.
                    throw KeyStoreError(.invalidArgument, detail: "another root-key rotation finished or took over meanwhile")
                }
                try await Self.forEveryRow(reading, record: { kind, row in
                    try await writing.updateRecord(kind, row.id, row.body)
                }, version: { row in
                    // The last step is also the check that the batches covered every version.
                    if let sealed = try Self.decodedVersion(row).sealedMaterial, sealed.rootKeyID != newKey.id {
                        throw KeyStoreError(.invalidArgument, detail: "key version \(row.key) v\(row.version) is not sealed under the new root key yet; run the rotation again")
                    }
                    try await writing.updateVersion(row.key, row.version, row.body)
                })
                meta.rootKind = Self.rootKind(newKey)
                meta.rootKeyID = newKey.id.hex
                meta.kdf = kdf
                meta.pendingKDF = nil
                meta.pendingRootKeyID = nil
                meta.check = Base64URL.encode(check.bytes)
                meta.rowKey = sealedRowKeyText
                try await writing.updateRecord(.meta, "store", try StoredDocument.encode(meta))
            }
        } }
        cache.evictAll()
    }

    /// Records `newKey` as the target of the rotation under way, or checks that it is the one
    /// already recorded. Rows re-sealed by an interrupted rotation open only under its key: a
    /// rotation to any other key would leave them under a key no single process holds with the
    /// rest, so it is refused until the first one is finished.
    private func claimRotation(to newKey: any RootKey) async throws {
        let target = newKey.id.hex
        try await updateStoreRow { meta in
            if let pending = meta.pendingRootKeyID, pending != target {
                throw KeyStoreError(.invalidArgument, detail: "a rotation to root key \(pending) is under way; finish it with that key (or passphrase) first")
            }
            meta.pendingRootKeyID = target
        }
    }

    static func decodedVersion(_ row: StoredVersionRow) throws -> KeyVersionRecord {
        guard let name = try? KeyIdentifier(row.key) else { throw KeyStoreError(.integrityFailure, detail: "invalid key version row") }
        return try KeyVersionRecord.decoded(key: name, version: try version(row.version), row.body)
    }

    /// How many key versions the store holds (all keys, all states).
    public func countVersions() async throws -> Int {
        var count = 0
        var cursor: (key: String, version: UInt32)?
        while true {
            let after = cursor
            let rows = try await backend.transaction { tx in try await tx.allVersions(after: after, limit: 1000) }
            count += rows.count
            guard rows.count == 1000, let last = rows.last else { return count }
            cursor = (last.key, last.version)
        }
    }
}
