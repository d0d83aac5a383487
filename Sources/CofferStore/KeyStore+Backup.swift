#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import CofferCrypto

/// Whole-store backups (docs/FORMAT.md, "Store backup"): JSON lines of the rows exactly as
/// stored — key material still sealed under the root key, so a backup is useless without it —
/// closed by a line with the counts and the SHA-256 of every byte before it.
///
/// ```
/// {"format":"coffer-store-backup","v":1,"storeID":"…","created":…}
/// {"t":"record","kind":"key","id":"…","body":"<base64url>"}      (all kinds, meta included)
/// {"t":"version","key":"…","version":1,"body":"<base64url>"}
/// {"t":"end","records":N,"versions":M,"sha256":"<hex>"}
/// ```
extension KeyStore {
    struct BackupHeader: Codable {
        var format = "coffer-store-backup"
        var v = 1
        var storeID: String
        var created: Int64
    }

    struct BackupLine: Codable {
        var t: String
        var kind: String?
        var id: String?
        var key: String?
        var version: UInt32?
        var body: String?
        var records: Int?
        var versions: Int?
        var sha256: String?
    }

    /// The largest backup ``restoreBackup(_:into:)`` reads (1 GiB).
    public static let maximumBackupByteCount = 1 << 30

    /// A backup of every row, read in one transaction. Rows are copied as stored, tags
    /// included; when the store is unsealed each is checked first, so a store that was tampered
    /// with fails here (`store_integrity_failure`) rather than after a restore.
    public func backup() async throws -> [UInt8] {
        guard let storeID else { throw KeyStoreError(.sealed) }
        let created = StoredDocument.seconds(now)
        let authenticator = try? requireRows()
        return try await backend.transaction { tx in
            var out = try StoredDocument.encode(BackupHeader(storeID: storeID.hex, created: created)) + [0x0A]
            var records = 0, versions = 0
            for kind in RecordKind.allCases {
                var after: String?
                while true {
                    let page = try await tx.records(kind, prefix: "", after: after, limit: 1000)
                    for row in page {
                        _ = try authenticator.map { try $0.open(kind, row.id, row.body) }
                        out += try StoredDocument.encode(BackupLine(t: "record", kind: kind.rawValue, id: row.id, body: Base64URL.encode(row.body))) + [0x0A]
                    }
                    records += page.count
                    guard page.count == 1000 else { break }
                    after = page.last?.id
                }
            }
            var cursor: (key: String, version: UInt32)?
            while true {
                let page = try await tx.allVersions(after: cursor, limit: 1000)
                for row in page {
                    _ = try authenticator.map { try $0.open(version: row.key, row.version, row.body) }
                    out += try StoredDocument.encode(BackupLine(t: "version", key: row.key, version: row.version, body: Base64URL.encode(row.body))) + [0x0A]
                }
                versions += page.count
                guard page.count == 1000, let last = page.last else { break }
                cursor = (last.key, last.version)
            }
            let digest = Hex.encode(SHA256.hash(data: out))
            out += try StoredDocument.encode(BackupLine(t: "end", records: records, versions: versions, sha256: digest)) + [0x0A]
            return out
        }
    }

    /// Restores a backup into an empty backend, in one transaction. Open the store afterwards
    /// with the root key the backup was sealed under.
    ///
    /// - Throws: ``KeyStoreError/Code/invalidBackup`` for a malformed, truncated or edited file
    ///   (nothing is written); ``KeyStoreError/Code/storeNotEmpty``.
    ///
    /// - Parameter expectedStoreID: the store the configuration pins (`store.id`), if any: a
    ///   backup of another store is refused (``KeyStoreError/Code/storeMismatch``) before anything
    ///   is written.
    public static func restoreBackup(_ bytes: [UInt8], into backend: any KeyStoreBackend, expectedStoreID: StoreID? = nil) async throws {
        guard bytes.count <= maximumBackupByteCount, bytes.last == 0x0A else { throw KeyStoreError(.invalidBackup, detail: "truncated") }
        let lines = bytes.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count >= 2, let endLine = lines.last else { throw KeyStoreError(.invalidBackup, detail: "truncated") }
        let bodyByteCount = bytes.count - endLine.count - 1
        guard let header = try? JSONDecoder().decode(BackupHeader.self, from: Data(lines[0])),
            header.format == "coffer-store-backup", header.v == 1,
            let end = try? JSONDecoder().decode(BackupLine.self, from: Data(endLine)), end.t == "end",
            let expected = end.sha256.flatMap(Hex.decode),
            constantTimeEquals(expected, Array(SHA256.hash(data: bytes[..<bodyByteCount])))
        else { throw KeyStoreError(.invalidBackup, detail: "header or checksum") }
        if let expectedStoreID, StoreID(hex: header.storeID) != expectedStoreID {
            throw KeyStoreError(.storeMismatch, detail: "the backup is of store \(header.storeID), not \(expectedStoreID.hex)")
        }

        var recordRows: [(RecordKind, StoredRow)] = []
        var versionRows: [StoredVersionRow] = []
        for line in lines.dropFirst().dropLast() {
            guard let entry = try? JSONDecoder().decode(BackupLine.self, from: Data(line)),
                let body = entry.body.flatMap({ Base64URL.decode(Substring($0)) })
            else { throw KeyStoreError(.invalidBackup, detail: "malformed line") }
            switch entry.t {
            case "record":
                guard let kind = entry.kind.flatMap(RecordKind.init(rawValue:)), let id = entry.id else {
                    throw KeyStoreError(.invalidBackup, detail: "malformed record line")
                }
                recordRows.append((kind, StoredRow(id: id, body: body)))
            case "version":
                guard let key = entry.key, let version = entry.version else { throw KeyStoreError(.invalidBackup, detail: "malformed version line") }
                versionRows.append(StoredVersionRow(key: key, version: version, body: body))
            default:
                throw KeyStoreError(.invalidBackup, detail: "unknown line type")
            }
        }
        guard recordRows.count == end.records, versionRows.count == end.versions,
            recordRows.contains(where: { $0.0 == .meta && $0.1.id == "store" })
        else { throw KeyStoreError(.invalidBackup, detail: "counts") }

        try await backend.migrate()
        let records = recordRows, versions = versionRows
        try await backend.transaction { tx in
            guard try await tx.record(.meta, "store", forUpdate: true) == nil,
                try await tx.records(.key, prefix: "", after: nil, limit: 1).isEmpty
            else { throw KeyStoreError(.storeNotEmpty) }
            for (kind, row) in records {
                guard try await tx.insertRecord(kind, row.id, row.body) else { throw KeyStoreError(.invalidBackup, detail: "duplicate row") }
            }
            for row in versions {
                guard try await tx.insertVersion(row.key, row.version, row.body) else { throw KeyStoreError(.invalidBackup, detail: "duplicate row") }
            }
        }
    }
}

