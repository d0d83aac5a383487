#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

// The JSON bodies of backend rows (docs/FORMAT.md, "Key store rows"). Every document carries
// `"v": 1`; a reader rejects versions it does not know instead of guessing. Times are whole
// seconds since the Unix epoch; byte strings are unpadded base64url.

/// The store row. `"v": 2` since rows are authenticated: it carries the sealed row key and is
/// itself tagged. `"v": 1` (no row key, bare JSON) is what older stores hold until
/// `coffer server upgrade-store`.
struct StoreMetaDocument: Codable, Sendable, Equatable {
    var v = 2
    var storeID: String
    var rootKind: String
    var rootKeyID: String
    var kdf: PassphraseKDFDocument?
    var check: String
    var rowKey: String?
    /// The KDF and salt of a passphrase root-key rotation under way (cleared when it ends).
    var pendingKDF: PassphraseKDFDocument?
    /// The id of the root key the rotation under way re-seals under, recorded by its first run.
    var pendingRootKeyID: String?
    /// Whether the first administrator was made (``KeyStore/markAdminBootstrapped()``).
    var adminBootstrapped: Bool?
}

struct PassphraseKDFDocument: Codable, Sendable, Hashable {
    var logN: UInt8
    var r: UInt32
    var p: UInt32
    var salt: String
}

struct KeyRecordDocument: Codable, Sendable {
    var v = 1
    var name: String
    var type: String
    var created: Int64
    var primary: UInt32
    var latest: UInt32
    var minDecrypt: UInt32
    var rotationPeriod: Int64?
    var lastRotated: Int64
    var labels: [String]
    var exportable: Bool
    var deletionProtected: Bool
    var deletedAt: Int64?
    var purgeAfter: Int64?
    var revision: UInt64
    /// base64url of ``KeyRecord/incarnation`` (absent for keys created before it existed).
    var incarnation: String?
}

struct KeyVersionDocument: Codable, Sendable {
    var v = 1
    var state: String
    var created: Int64
    var sealed: String?
}

enum StoredDocument {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return Array(try encoder.encode(value)) } catch {
            throw KeyStoreError(.invalidArgument, detail: "unencodable document")
        }
    }

    /// Decodes a row body. A body that does not decode is an integrity failure, not a crash:
    /// the backend holds something Coffer did not write.
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws -> T {
        guard let value = try? JSONDecoder().decode(T.self, from: Data(bytes)) else {
            throw KeyStoreError(.integrityFailure, detail: "unreadable \(what) row")
        }
        return value
    }

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
    static func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
}

extension KeyRecord {
    var document: KeyRecordDocument {
        KeyRecordDocument(
            name: name.rawValue, type: type.rawValue, created: StoredDocument.seconds(createdAt),
            primary: primaryVersion.rawValue, latest: latestVersion.rawValue, minDecrypt: minimumDecryptionVersion.rawValue,
            rotationPeriod: rotationPeriod.map { $0.components.seconds }, lastRotated: StoredDocument.seconds(lastRotatedAt),
            labels: labels.map(\.rawValue).sorted(), exportable: flags.exportable, deletionProtected: flags.deletionProtected,
            deletedAt: deletion.map { StoredDocument.seconds($0.deletedAt) }, purgeAfter: deletion.map { StoredDocument.seconds($0.purgeAfter) },
            revision: revision, incarnation: incarnation.map { Base64URL.encode($0) })
    }

    init(document d: KeyRecordDocument) throws {
        guard d.v == 1, let name = try? KeyIdentifier(d.name), let type = try? KeyType(validating: d.type),
            let primary = try? KeyVersion(d.primary), let latest = try? KeyVersion(d.latest),
            let minimum = try? KeyVersion(d.minDecrypt), let labels = try? d.labels.map(KeyLabel.init)
        else { throw KeyStoreError(.integrityFailure, detail: "invalid key row") }
        let deletion: KeyDeletion?
        switch (d.deletedAt, d.purgeAfter) {
        case (nil, nil): deletion = nil
        case (let at?, let purge?): deletion = KeyDeletion(deletedAt: StoredDocument.date(at), purgeAfter: StoredDocument.date(purge))
        default: throw KeyStoreError(.integrityFailure, detail: "invalid key row")
        }
        var incarnation: [UInt8]?
        if let text = d.incarnation {
            guard let bytes = Base64URL.decode(Substring(text)), bytes.count == KeyRecord.incarnationByteCount else {
                throw KeyStoreError(.integrityFailure, detail: "invalid key row")
            }
            incarnation = bytes
        }
        self.init(
            name: name, type: type, createdAt: StoredDocument.date(d.created), primaryVersion: primary, latestVersion: latest,
            minimumDecryptionVersion: minimum, rotationPeriod: d.rotationPeriod.map { .seconds($0) },
            lastRotatedAt: StoredDocument.date(d.lastRotated), labels: Set(labels),
            flags: KeyFlags(exportable: d.exportable, deletionProtected: d.deletionProtected), deletion: deletion, revision: d.revision,
            incarnation: incarnation)
        guard verifyInvariants() else { throw KeyStoreError(.integrityFailure, detail: "invalid key row") }
    }

    func encoded() throws -> [UInt8] { try StoredDocument.encode(document) }
    static func decoded(_ bytes: [UInt8]) throws -> KeyRecord {
        try KeyRecord(document: StoredDocument.decode(KeyRecordDocument.self, bytes, what: "key"))
    }
}

extension KeyVersionRecord {
    func encoded() throws -> [UInt8] {
        try StoredDocument.encode(KeyVersionDocument(
            state: state.description, created: StoredDocument.seconds(createdAt), sealed: sealedMaterial.map { Base64URL.encode($0.bytes) }))
    }

    static func decoded(key: KeyIdentifier, version: KeyVersion, _ bytes: [UInt8]) throws -> KeyVersionRecord {
        let d = try StoredDocument.decode(KeyVersionDocument.self, bytes, what: "key version")
        guard d.v == 1, let state = KeyVersionState(name: d.state) else {
            throw KeyStoreError(.integrityFailure, detail: "invalid key version row")
        }
        var sealed: SealedKeyMaterial?
        if let text = d.sealed {
            guard let bytes = Base64URL.decode(Substring(text)) else { throw KeyStoreError(.integrityFailure, detail: "invalid key version row") }
            sealed = try SealedKeyMaterial(bytes: bytes)
        }
        guard (sealed == nil) == (state == .destroyed) else { throw KeyStoreError(.integrityFailure, detail: "invalid key version row") }
        return KeyVersionRecord(key: key, version: version, createdAt: StoredDocument.date(d.created), state: state, sealedMaterial: sealed)
    }
}
