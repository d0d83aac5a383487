/// A backend transaction seen through the store's ``RowAuthenticator``: every body written is
/// tagged for its position and every body read is checked before the store sees it. All of
/// ``KeyStore``'s reads and writes go through one of these (``KeyStore/transaction(_:)``), so no
/// path can forget the check. Raw rows are touched only where each says why: the store row
/// before unseal and at attach, counting, the background scan of key rows (which checks each
/// row itself and skips a bad one), backup (which checks each row itself) and restore.
struct AuthenticatedTransaction: KeyStoreTransaction {
    let inner: any KeyStoreTransaction
    let rows: RowAuthenticator

    func record(_ kind: RecordKind, _ id: String, forUpdate: Bool) async throws -> [UInt8]? {
        try await inner.record(kind, id, forUpdate: forUpdate).map { try rows.open(kind, id, $0) }
    }

    func recordSharingLock(_ kind: RecordKind, _ id: String) async throws -> [UInt8]? {
        try await inner.recordSharingLock(kind, id).map { try rows.open(kind, id, $0) }
    }

    func insertRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws -> Bool {
        try await inner.insertRecord(kind, id, rows.seal(kind, id, body))
    }

    func updateRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws {
        try await inner.updateRecord(kind, id, rows.seal(kind, id, body))
    }

    func deleteRecord(_ kind: RecordKind, _ id: String) async throws {
        try await inner.deleteRecord(kind, id)
    }

    func records(_ kind: RecordKind, prefix: String, after: String?, limit: Int) async throws -> [StoredRow] {
        try await inner.records(kind, prefix: prefix, after: after, limit: limit).map {
            StoredRow(id: $0.id, body: try rows.open(kind, $0.id, $0.body))
        }
    }

    func version(_ key: String, _ version: UInt32) async throws -> [UInt8]? {
        try await inner.version(key, version).map { try rows.open(version: key, version, $0) }
    }

    func versions(_ key: String) async throws -> [StoredVersionRow] {
        try await inner.versions(key).map(open)
    }

    func insertVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws -> Bool {
        try await inner.insertVersion(key, version, rows.seal(version: key, version, body))
    }

    func updateVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws {
        try await inner.updateVersion(key, version, rows.seal(version: key, version, body))
    }

    func deleteVersions(_ key: String) async throws {
        try await inner.deleteVersions(key)
    }

    func allVersions(after: (key: String, version: UInt32)?, limit: Int) async throws -> [StoredVersionRow] {
        try await inner.allVersions(after: after, limit: limit).map(open)
    }

    func announceChange(of key: String) async throws {
        try await inner.announceChange(of: key)
    }

    private func open(_ row: StoredVersionRow) throws -> StoredVersionRow {
        StoredVersionRow(key: row.key, version: row.version, body: try rows.open(version: row.key, row.version, row.body))
    }
}
