import CofferCrypto

extension KeyStore {
    /// Rows read per page when every row is visited (all pages are one transaction).
    static let rewritePageSize = 500

    /// Upgrades a store written before rows were authenticated: makes its row key, tags every
    /// row, and writes the store row in its tagged form with a new check value — all inside
    /// `tx`, the transaction that holds the store row for update, so the store is either wholly
    /// upgraded or not at all and two nodes cannot both upgrade it.
    ///
    /// Every row is decoded first: an upgrade must not bless a row Coffer could not have
    /// written. It cannot tell a row a database writer added in Coffer's own format from a real
    /// one, which is why it runs only when asked (``KeyStoreConfiguration/upgradeUnauthenticatedRows``).
    static func authenticateRows(
        _ tx: any KeyStoreTransaction, meta: StoreMetaDocument, rootKey: any RootKey, storeID: StoreID, failures: IntegrityFailureCounter
    ) async throws -> (StoreMetaDocument, RowAuthenticator) {
        let rowKey = RowAuthenticator.generateKey()
        let rows = RowAuthenticator(key: rowKey, failures: failures)
        let writing = AuthenticatedTransaction(inner: tx, rows: rows)
        try await forEveryRow(tx, record: { kind, row in
            try checkUnauthenticated(kind, row)
            try await writing.updateRecord(kind, row.id, row.body)
        }, version: { row in
            guard !RowAuthenticator.isFramed(row.body) else { throw KeyStoreError(.integrityFailure, detail: "a tagged key version row in a store without a row key") }
            _ = try decodedVersion(row)
            try await writing.updateVersion(row.key, row.version, row.body)
        })
        var upgraded = meta
        upgraded.v = 2
        upgraded.rowKey = Base64URL.encode(try rootKey.seal(rowKey, context: .rowKey(storeID: storeID)).bytes)
        // A new check value under the tagged stores' purpose: this store row can no longer be
        // rewritten into an untagged one that passes for an older store.
        upgraded.check = Base64URL.encode(try rootKey.seal(KeyMaterial(randomBytes(32)), context: .rootKeyCheck(storeID: storeID)).bytes)
        try await tx.updateRecord(.meta, "store", rows.seal(.meta, "store", try StoredDocument.encode(upgraded)))
        return (upgraded, rows)
    }

    /// Calls `record` for every record but the store row and `version` for every key version,
    /// as `tx` reads them (checking tags, or not), a page at a time, all in `tx`'s transaction.
    static func forEveryRow(
        _ tx: any KeyStoreTransaction,
        record: (RecordKind, StoredRow) async throws -> Void, version: (StoredVersionRow) async throws -> Void
    ) async throws {
        for kind in RecordKind.allCases {
            var after: String?
            while true {
                let page = try await tx.records(kind, prefix: "", after: after, limit: rewritePageSize)
                for row in page where !(kind == .meta && row.id == "store") { try await record(kind, row) }
                guard page.count == rewritePageSize, let last = page.last else { break }
                after = last.id
            }
        }
        var cursor: (key: String, version: UInt32)?
        while true {
            let page = try await tx.allVersions(after: cursor, limit: rewritePageSize)
            for row in page { try await version(row) }
            guard page.count == rewritePageSize, let last = page.last else { break }
            cursor = (last.key, last.version)
        }
    }

    /// Whether the database holds no row at all (a store row missing from a database that holds
    /// rows was deleted: a new store must not be made on top of them).
    static func holdsNoRows(_ tx: any KeyStoreTransaction) async throws -> Bool {
        for kind in RecordKind.allCases where try await !tx.records(kind, prefix: "", after: nil, limit: 1).isEmpty {
            return false
        }
        return try await tx.allVersions(after: nil, limit: 1).isEmpty
    }

    /// A row of an unauthenticated store, checked to be one Coffer writes before it is tagged.
    private static func checkUnauthenticated(_ kind: RecordKind, _ row: StoredRow) throws {
        guard !RowAuthenticator.isFramed(row.body) else {
            throw KeyStoreError(.integrityFailure, detail: "a tagged \(kind) row in a store without a row key")
        }
        switch kind {
        case .key:
            guard try KeyRecord.decoded(row.body).name.rawValue == row.id else { throw KeyStoreError(.integrityFailure, detail: "invalid key row") }
        case .identity:
            guard try identity(from: row.body).id == row.id else { throw KeyStoreError(.integrityFailure, detail: "invalid identity row") }
        case .policy:
            guard try policy(from: row.body).name == row.id else { throw KeyStoreError(.integrityFailure, detail: "invalid policy row") }
        default:
            guard row.id == importWrappingRecord else { throw KeyStoreError(.integrityFailure, detail: "unknown meta row") }
            _ = try StoredDocument.decode(ImportWrappingDocument.self, row.body, what: "import wrapping key")
        }
    }
}
