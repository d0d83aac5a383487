import Foundation
import Crypto
import CofferCrypto
@testable import CofferStore
import Testing

/// Someone who can write to the database but does not hold the root key: every row they add,
/// edit or move is refused, on every backend; and a store from before rows were tagged is
/// upgraded only when asked, all at once.
@Suite("Row authentication")
struct RowAuthenticationTests {
    static let backends = StoreBackendKind.selected

    func open(_ database: TestDatabase, _ root: any RootKey, upgrade: Bool = false) async throws -> KeyStore {
        var configuration = testConfiguration(ttl: .zero)
        configuration.upgradeUnauthenticatedRows = upgrade
        return try await KeyStore.open(backend: try await database.open(), root: .key(root), configuration: configuration)
    }

    /// A store with one of every kind of row: keys and versions in several states, a policy, an
    /// API key bound to it, the import wrapping key.
    func populate(_ store: KeyStore) async throws -> (apiKey: String, identity: CofferStore.Identity, material: KeyMaterial) {
        try await store.createKey(name("orders"), type: .aes256GCM, options: KeyCreationOptions(flags: KeyFlags(exportable: false, deletionProtected: true)))
        try await store.rotateKey(name("orders"))
        try await store.setVersionState(name("orders"), version: .first, to: .disabled)
        try await store.createKey(name("signing"), type: .ed25519)
        try await store.putPolicy(try Policy(name: "reader", statements: [try PolicyStatement(effect: .allow, operations: ["decrypt"], keys: ["orders"])]))
        try await store.putPolicy(try Policy(name: "admin", statements: [try PolicyStatement(effect: .allow, operations: ["*"], keys: ["*"])]))
        let (identity, apiKey) = try await store.createAPIKey(policy: "reader")
        _ = try await store.importWrappingRecipient()
        return (apiKey, identity, try await store.primaryVersion(of: name("orders")).material)
    }

    /// What ``closedPopulatedStore(_:)`` made.
    struct Populated {
        let apiKey: String
        let identity: CofferStore.Identity
        let material: KeyMaterial
        let recipient: X25519Recipient
        let storeID: StoreID?
    }

    /// A new database with a populated store in it, closed again, and a raw backend on it: what
    /// a database writer starts from.
    func closedPopulatedStore(_ kind: StoreBackendKind) async throws -> (TestDatabase, SoftwareRootKey, any KeyStoreBackend, Populated) {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let store = try await open(database, root)
        let (apiKey, identity, material) = try await populate(store)
        let made = Populated(apiKey: apiKey, identity: identity, material: material, recipient: try await store.importWrappingRecipient(), storeID: store.storeID)
        try await store.close()
        return (database, root, try await database.open(), made)
    }

    /// Every raw row, as the database holds it.
    func rawRows(_ backend: any KeyStoreBackend) async throws -> (records: [(RecordKind, StoredRow)], versions: [StoredVersionRow]) {
        try await backend.transaction { tx in
            var records: [(RecordKind, StoredRow)] = []
            for kind in RecordKind.allCases {
                records += try await tx.records(kind, prefix: "", after: nil, limit: 1000).map { (kind, $0) }
            }
            return (records, try await tx.allVersions(after: nil, limit: 1000))
        }
    }

    /// Rewrites a body's JSON text, keeping whatever framing (tag) it had: what an attacker who
    /// edits a column in place does.
    func edit(_ stored: [UInt8], _ from: String, _ to: String) -> [UInt8] {
        let split = RowAuthenticator.isFramed(stored) ? 1 + RowAuthenticator.tagByteCount : 0
        let text = String(decoding: stored[split...], as: UTF8.self)
        #expect(text.contains(from), "\(from) not in \(text)")
        return Array(stored[..<split]) + Array(text.replacingOccurrences(of: from, with: to).utf8)
    }

    /// The bytes docs/FORMAT.md ("Authenticated rows") specifies, computed here from the spec.
    @Test func tagsAreTheSpecifiedHMACOverPositionAndBody() throws {
        let key = KeyMaterial([UInt8](repeating: 0x42, count: 32))
        let rows = RowAuthenticator(key: key)
        let body = Array("{\"v\":1}".utf8)
        func hmac(_ parts: [UInt8]...) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: parts.flatMap { $0 }, using: SymmetricKey(data: [UInt8](repeating: 0x42, count: 32))))
        }
        let recordTag = hmac(Array("coffer-store/v1/record".utf8), [0], [0, 0, 0, 6], Array("policy".utf8), [0, 0, 0, 6], Array("reader".utf8), body)
        #expect(rows.seal(.policy, "reader", body) == [0x01] + recordTag + body)
        let versionTag = hmac(Array("coffer-store/v1/version".utf8), [0], [0, 0, 0, 6], Array("orders".utf8), [0, 0, 1, 2], body)
        #expect(rows.seal(version: "orders", 258, body) == [0x01] + versionTag + body)
        #expect(try rows.open(version: "orders", 258, [0x01] + versionTag + body) == body)
        // The same body and tag anywhere else, or with one bit of the tag changed, does not open.
        #expect(throws: KeyStoreError(.integrityFailure)) { try rows.open(version: "orders", 259, [0x01] + versionTag + body) }
        #expect(throws: KeyStoreError(.integrityFailure)) { try rows.open(.policy, "writer", [0x01] + recordTag + body) }
        #expect(throws: KeyStoreError(.integrityFailure)) { try rows.open(.identity, "reader", [0x01] + recordTag + body) }
        var flipped = [0x01] + recordTag + body
        flipped[5] ^= 0x80
        #expect(throws: KeyStoreError(.integrityFailure)) { try rows.open(.policy, "reader", flipped) }
        #expect(throws: KeyStoreError(.integrityFailure)) { try rows.open(.policy, "reader", body) }
        #expect(throws: KeyStoreError(.integrityFailure)) { try rows.open(.policy, "reader", [0x01] + recordTag) }
    }

    /// A version row kept from a purged key, put back after a key of the same name and type was
    /// created again, does not unseal: each key's material is bound to its incarnation. (Its tag
    /// verifies — tags bind only the name and number — which is what this guards against.)
    @Test(arguments: backends)
    func aVersionRowFromAPurgedKeyDoesNotServeItsSuccessor(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let clock = TestClock()
        let store = try await KeyStore.open(backend: try await database.open(), root: .key(try newRootKey()), configuration: testConfiguration(clock, ttl: .zero))
        let backend = try await database.open()
        let key = name("orders")
        try await store.createKey(key, type: .aes256GCM)
        let oldRow = try #require(try await backend.transaction { tx in try await tx.version("orders", 1) })
        try await store.deleteKey(key)
        clock.advance(8 * 86400)
        #expect(try await store.purgeDeletedKeys() == [key])

        try await store.createKey(key, type: .aes256GCM)
        try await backend.transaction { tx in try await tx.updateVersion("orders", 1, oldRow) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.primaryVersion(of: key) }
        let failures = store.integrityFailures
        #expect(failures == 0, "the tag verified: the incarnation is what refuses it")
        // The incarnation is recorded in the key row, as docs/FORMAT.md says.
        let record = try #require(try await backend.transaction { tx in try await tx.record(.key, "orders", forUpdate: false) })
        #expect(String(decoding: record, as: UTF8.self).contains("\"incarnation\":\""))
    }

    @Test(arguments: backends)
    func everyRowIsTaggedAndEditsAdditionsAndMovesAreRefused(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let store = try await open(database, root)
        let (apiKey, identity, _) = try await populate(store)
        let backend = try await database.open()

        // Every row carries a tag: records of every kind (the store row too) and every version.
        let (records, versions) = try await rawRows(backend)
        #expect(Set(records.map(\.0.rawValue)) == Set(RecordKind.allCases.map(\.rawValue)))
        #expect(versions.count == 3)
        for (_, row) in records { #expect(RowAuthenticator.isFramed(row.body), "\(row.id)") }
        for row in versions { #expect(RowAuthenticator.isFramed(row.body), "\(row.key) v\(row.version)") }

        #expect(store.integrityFailures == 0)
        // Re-enabling a disabled version in place.
        try await backend.transaction { tx in
            try await tx.updateVersion("orders", 1, edit(try await tx.version("orders", 1)!, "\"disabled\"", "\"active\""))
        }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.decryptionVersion(of: name("orders"), .first) }
        #expect(store.integrityFailures == 1)
        // Clearing deletion protection: the key row no longer reads at all, so nothing uses it.
        try await backend.transaction { tx in
            try await tx.updateRecord(.key, "orders", edit(try await tx.record(.key, "orders", forUpdate: true)!, "\"deletionProtected\":true", "\"deletionProtected\":false"))
        }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.deleteKey(name("orders")) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.primaryVersion(of: name("orders")) }

        // Widening a policy, and moving one valid row over another (the admin policy's row under
        // the reader's name): each tag is bound to its position.
        let adminPolicy = try await backend.transaction { tx in try await tx.record(.policy, "admin", forUpdate: false)! }
        try await backend.transaction { tx in try await tx.updateRecord(.policy, "reader", adminPolicy) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.policy(named: "reader") }

        // The attack THREAT_MODEL.md named: an identity row for an API key the attacker made,
        // bound to the admin policy — bare JSON, and copied with a real identity's tag.
        let (secret, forgedText) = APIKeySecret.generate()
        let forged = CofferStore.Identity(
            id: secret.identityID, kind: .apiKey, policy: "admin", createdAt: Date(), disabled: false,
            secretHash: try APIKeyHash.make(secret, parameters: .scrypt(logN: 10, r: 8, p: 1)))
        let forgedBody = try StoredDocument.encode(KeyStore.document(forged))
        let realTag = try await backend.transaction { tx in try await tx.record(.identity, identity.id, forUpdate: false)! }.prefix(1 + RowAuthenticator.tagByteCount)
        for body in [forgedBody, Array(realTag) + forgedBody] {
            try await backend.transaction { tx in
                if try await !tx.insertRecord(.identity, forged.id, body) { try await tx.updateRecord(.identity, forged.id, body) }
            }
            // One answer for every authentication failure, as for a wrong key — but counted,
            // so the quiet answer still reaches an operator's alert.
            let before = store.integrityFailures
            await #expect(throws: KeyStoreError(.unauthenticated)) { try await store.authenticate(apiKey: forgedText) }
            #expect(store.integrityFailures == before + 1)
            await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.listIdentities() }
        }
        // The real identity still authenticates; its own row was not touched.
        #expect(try await store.authenticate(apiKey: apiKey).id == identity.id)

        // A version row moved to another version number of the same key (one untouched so far:
        // the failure must come from the moved row's tag, counted as such).
        try await store.createKey(name("moved"), type: .aes256GCM)
        try await store.rotateKey(name("moved"))
        try await backend.transaction { tx in try await tx.updateVersion("moved", 1, try await tx.version("moved", 2)!) }
        let beforeMove = store.integrityFailures
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.decryptionVersion(of: name("moved"), .first) }
        #expect(store.integrityFailures == beforeMove + 1)

        // A backup of the tampered store fails instead of carrying the damage into a restore.
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.backup() }
        try await store.close()
    }

    @Test(arguments: backends)
    func theStoreRowIsCheckedAtOpenAndCannotBeDowngradedOrDeleted(_ kind: StoreBackendKind) async throws {
        let (database, root, backend, _) = try await closedPopulatedStore(kind)
        let original = try await backend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false)! }

        // An edited store row (its root-key kind) does not open, even with the right root key.
        try await backend.transaction { tx in try await tx.updateRecord(.meta, "store", edit(original, "\"key-file\"", "\"pkcs11\"")) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root) }

        // The store row rewritten in the untagged form, as a database writer would to pass the
        // store off as an older one: its check value opens only as a tagged store's, so this is
        // a downgrade — refused as an integrity failure, never offered an upgrade.
        var legacy = try StoredDocument.decode(StoreMetaDocument.self, try RowAuthenticator.unverifiedBody(original, what: "store row"), what: "store")
        legacy.v = 1
        legacy.rowKey = nil
        let downgraded = try StoredDocument.encode(legacy)
        try await backend.transaction { tx in try await tx.updateRecord(.meta, "store", downgraded) }
        let error = await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root) }
        #expect(error?.description.contains("downgrade") == true)
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root, upgrade: true) }

        // An untagged store row claiming the tagged form's version is malformed, not older.
        var noKey = legacy
        noKey.v = 2
        let noKeyBody = try StoredDocument.encode(noKey)
        try await backend.transaction { tx in try await tx.updateRecord(.meta, "store", noKeyBody) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root) }

        // The store row deleted: no new store is made on top of the rows that remain (it would
        // come with a row key and an admin of the deleter's making).
        try await backend.transaction { tx in try await tx.deleteRecord(.meta, "store") }
        let missing = await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root) }
        #expect(missing?.description.contains("missing") == true)
        #expect(try await backend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false) } == nil)

        try await backend.transaction { tx in _ = try await tx.insertRecord(.meta, "store", original) }
        let reopened = try await open(database, root)
        #expect(try await reopened.describeKey(name("signing")).type == .ed25519)
        try await reopened.close()
    }

    /// Strips every tag and rewrites the store row as `"v": 1` without a row key: what someone
    /// with write access to the database can do.
    func stripTags(_ backend: any KeyStoreBackend) async throws {
        let (records, versions) = try await rawRows(backend)
        try await backend.transaction { tx in
            for (kind, row) in records {
                var body = try RowAuthenticator.unverifiedBody(row.body, what: "row")
                if kind == .meta && row.id == "store" {
                    var meta = try StoredDocument.decode(StoreMetaDocument.self, body, what: "store")
                    meta.v = 1
                    meta.rowKey = nil
                    body = try StoredDocument.encode(meta)
                }
                try await tx.updateRecord(kind, row.id, body)
            }
            for row in versions {
                try await tx.updateVersion(row.key, row.version, try RowAuthenticator.unverifiedBody(row.body, what: "row"))
            }
        }
    }

    /// Turns a store into what a Coffer from before row tags wrote: ``stripTags(_:)`` plus a
    /// check value sealed under that Coffer's purpose, which only the root key can make.
    func makeUntagged(_ backend: any KeyStoreBackend, root: any RootKey) async throws {
        try await stripTags(backend)
        let body = try await backend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false)! }
        var meta = try StoredDocument.decode(StoreMetaDocument.self, body, what: "store")
        let storeID = try KeyStore.storeID(meta)
        meta.check = Base64URL.encode(try root.seal(KeyMaterial(randomBytes(32)), context: .rootKeyCheck(storeID: storeID, authenticatedRows: false)).bytes)
        let older = try StoredDocument.encode(meta)
        try await backend.transaction { tx in try await tx.updateRecord(.meta, "store", older) }
    }

    @Test(arguments: backends)
    func aStrippedStoreIsRefusedAndNothingInItIsTrusted(_ kind: StoreBackendKind) async throws {
        let (database, root, backend, _) = try await closedPopulatedStore(kind)
        try await stripTags(backend)
        // With an admin identity of the attacker's added, untagged like the rest.
        let (secret, _) = APIKeySecret.generate()
        let forged = CofferStore.Identity(
            id: secret.identityID, kind: .apiKey, policy: "admin", createdAt: Date(), disabled: false,
            secretHash: try APIKeyHash.make(secret, parameters: .scrypt(logN: 10, r: 8, p: 1)))
        let forgedBody = try StoredDocument.encode(KeyStore.document(forged))
        try await backend.transaction { tx in _ = try await tx.insertRecord(.identity, forged.id, forgedBody) }

        await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root, upgrade: true) }
        for (_, row) in try await rawRows(backend).records { #expect(!RowAuthenticator.isFramed(row.body), "\(row.id) was tagged") }
    }

    @Test(arguments: backends)
    func rootKeyRotationMakesANewRowKey(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let oldRoot = try newRootKey(), newRoot = try newRootKey()
        let store = try await open(database, oldRoot)
        let (apiKey, identity, material) = try await populate(store)
        let backend = try await database.open()
        let before = try await rawRows(backend)
        try await store.rotateRootKey(to: newRoot)
        // Every row was re-tagged: no stored body is what it was.
        let after = try await rawRows(backend)
        for (kind, row) in after.records {
            #expect(before.records.first { $0.0 == kind && $0.1.id == row.id }?.1.body != row.body, "\(kind) \(row.id)")
        }
        for row in after.versions {
            #expect(before.versions.first { $0.key == row.key && $0.version == row.version }?.body != row.body)
        }
        // This node goes on with the new row key; so does a fresh one holding the new root key.
        #expect(try await store.authenticate(apiKey: apiKey).id == identity.id)
        try await store.close()
        let reopened = try await open(database, newRoot)
        #expect(try await reopened.primaryVersion(of: name("orders")).material == material)
        // A row from before the rotation (tagged under the old row key, which the old root key
        // and an old store row still open) no longer verifies.
        let oldPolicy = try #require(before.records.first { $0.0 == .policy && $0.1.id == "reader" }?.1.body)
        try await backend.transaction { tx in try await tx.updateRecord(.policy, "reader", oldPolicy) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await reopened.policy(named: "reader") }
        // A rotation over a store with a bad row refuses before it re-seals anything (it would
        // otherwise fail at its last step, with the versions under a key the store row does not
        // name), and says which row.
        let versionsBefore = try await rawRows(backend).versions
        let refused = await #expect(throws: KeyStoreError(.integrityFailure)) { try await reopened.rotateRootKey(to: try newRootKey()) }
        #expect(refused?.description.contains("reader") == true)
        #expect(try await rawRows(backend).versions == versionsBefore)
        try await reopened.close()
    }

    @Test(arguments: backends)
    func anOlderStoreIsUpgradedOnlyWhenAskedAndAllAtOnce(_ kind: StoreBackendKind) async throws {
        let (database, root, backend, made) = try await closedPopulatedStore(kind)
        let (apiKey, identity, material, recipient, storeID) = (made.apiKey, made.identity, made.material, made.recipient, made.storeID)
        try await makeUntagged(backend, root: root)

        let refused = await #expect(throws: KeyStoreError(.upgradeRequired)) { try await open(database, root) }
        #expect(refused?.description.contains("upgrade-store") == true)
        // A row Coffer could not have written stops the upgrade, and the upgrade changes nothing.
        try await backend.transaction { tx in _ = try await tx.insertRecord(.policy, "junk", Array("{\"v\":1}".utf8)) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root, upgrade: true) }
        for (_, row) in try await rawRows(backend).records { #expect(!RowAuthenticator.isFramed(row.body), "\(row.id)") }
        try await backend.transaction { tx in try await tx.deleteRecord(.policy, "junk") }
        // The wrong root key upgrades nothing either.
        await #expect(throws: KeyStoreError(.rootKeyMismatch)) { try await open(database, try newRootKey(), upgrade: true) }
        let preUpgradeStoreRow = try await backend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false)! }

        let upgraded = try await open(database, root, upgrade: true)
        #expect(upgraded.storeID == storeID)
        let (records, versions) = try await rawRows(backend)
        for (_, row) in records { #expect(RowAuthenticator.isFramed(row.body), "\(row.id)") }
        for row in versions { #expect(RowAuthenticator.isFramed(row.body), "\(row.key) v\(row.version)") }
        try await upgraded.close()

        // The upgrade wrote a tagged store's check value: stripping the tags again now is a
        // downgrade, not an older store.
        let upgradedStoreRow = try await backend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false)! }
        try await stripTags(backend)
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await open(database, root, upgrade: true) }
        try await backend.transaction { tx in
            for (kind, row) in records { try await tx.updateRecord(kind, row.id, row.body) }
            for row in versions { try await tx.updateVersion(row.key, row.version, row.body) }
        }
        #expect(try await backend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false)! } == upgradedStoreRow)

        // The store row from before the upgrade (an old backup's) put back over stripped rows:
        // it is a genuine older store row, so an unpinned store can only ask for an upgrade —
        // the operator's list of what it trusted is the guard there. Pinned (store.id), the
        // store refuses it outright, and so does the upgrade.
        try await stripTags(backend)
        try await backend.transaction { tx in try await tx.updateRecord(.meta, "store", preUpgradeStoreRow) }
        await #expect(throws: KeyStoreError(.upgradeRequired)) { try await open(database, root) }
        var pinned = testConfiguration(ttl: .zero)
        pinned.expectedStoreID = storeID
        pinned.upgradeUnauthenticatedRows = true
        let replay = await #expect(throws: KeyStoreError(.integrityFailure)) {
            try await KeyStore.open(backend: try await database.open(), root: .key(root), configuration: pinned)
        }
        #expect(replay?.description.contains("pinned") == true)
        for (_, row) in try await rawRows(backend).records { #expect(!RowAuthenticator.isFramed(row.body), "\(row.id) was tagged") }
        try await backend.transaction { tx in
            for (kind, row) in records { try await tx.updateRecord(kind, row.id, row.body) }
            for row in versions { try await tx.updateVersion(row.key, row.version, row.body) }
        }

        // Afterwards it opens as any store does, with everything it held.
        let reopened = try await open(database, root)
        #expect(try await reopened.primaryVersion(of: name("orders")).material == material)
        await #expect(throws: KeyStoreError(.versionUnavailable)) { try await reopened.decryptionVersion(of: name("orders"), .first) }
        #expect(try await reopened.authenticate(apiKey: apiKey).id == identity.id)
        #expect(try await reopened.policy(named: "reader").statements.first?.keys == ["orders"])
        #expect(try await reopened.importWrappingRecipient() == recipient)
        await #expect(throws: KeyStoreError(.deletionProtected)) { try await reopened.deleteKey(name("orders")) }
        try await reopened.close()
    }

    @Test(arguments: [StoreBackendKind.memory])
    func aPassphraseStoreSaysUpgradeNotWrongPassphrase(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let passphrase = try Passphrase("correct horse battery staple")
        let store = try await KeyStore.open(backend: try await database.open(), root: .passphrase, configuration: testConfiguration())
        try await store.unseal(passphrase: passphrase)
        try await store.createKey(name("k"), type: .aes256GCM)
        let (root, _) = try store.requireRootKey()
        try await store.close()
        try await makeUntagged(try await database.open(), root: root)

        let sealed = try await KeyStore.open(backend: try await database.open(), root: .passphrase, configuration: testConfiguration())
        #expect(sealed.isSealed && sealed.storeID != nil)
        // Operations while sealed need the row key, which comes with the unseal.
        await #expect(throws: KeyStoreError(.sealed)) { try await sealed.describeKey(name("k")) }
        await #expect(throws: KeyStoreError(.unsealFailed)) { try await sealed.unseal(passphrase: try Passphrase("wrong")) }
        await #expect(throws: KeyStoreError(.upgradeRequired)) { try await sealed.unseal(passphrase: passphrase) }
        #expect(sealed.isSealed)

        var configuration = testConfiguration()
        configuration.upgradeUnauthenticatedRows = true
        let upgrading = try await KeyStore.open(backend: try await database.open(), root: .passphrase, configuration: configuration)
        try await upgrading.unseal(passphrase: passphrase)
        #expect(try await upgrading.describeKey(name("k")).type == .aes256GCM)
        try await upgrading.close()
    }

    @Test(arguments: backends)
    func aPinnedStoreIDRefusesAnotherStoreAndNeverMakesOne(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase(), other = try await kind.makeDatabase(), empty = try await kind.makeDatabase()
        let root = try newRootKey()
        let store = try await open(database, root)
        let storeID = try #require(store.storeID)
        try await store.createKey(name("k"), type: .aes256GCM)
        try await store.close()
        try await (try await open(other, root)).close()
        var pinned = testConfiguration()
        pinned.expectedStoreID = storeID
        func openPinned(_ database: TestDatabase, _ root: RootKeySource) async throws -> KeyStore {
            try await KeyStore.open(backend: try await database.open(), root: root, configuration: pinned)
        }

        // Its own store opens.
        let reopened = try await openPinned(database, .key(root))
        #expect(try await reopened.describeKey(name("k")).type == .aes256GCM)
        try await reopened.close()
        // Another store under the same root key (a swapped database) does not, nor does an
        // empty database become a new store — with a key or at a first unseal.
        await #expect(throws: KeyStoreError(.storeMismatch)) { try await openPinned(other, .key(root)) }
        await #expect(throws: KeyStoreError(.storeMismatch)) { try await openPinned(empty, .key(root)) }
        await #expect(throws: KeyStoreError(.storeMismatch)) { try await openPinned(empty, .passphrase) }
        let emptyBackend = try await empty.open()
        #expect(try await emptyBackend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false) } == nil)
        await #expect(throws: KeyStoreError(.storeMismatch)) { try await openPinned(other, .passphrase) }
        // Nor does a restore write another store's backup into the pinned database.
        let otherStore = try await open(other, root)
        let otherBackup = try await otherStore.backup()
        try await otherStore.close()
        await #expect(throws: KeyStoreError(.storeMismatch)) {
            try await KeyStore.restoreBackup(otherBackup, into: emptyBackend, expectedStoreID: storeID)
        }
        #expect(try await emptyBackend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false) } == nil)
    }

    @Test(arguments: backends)
    func backgroundPassesSkipATamperedKeyAndCountIt(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let clock = TestClock()
        let store = try await KeyStore.open(backend: try await database.open(), root: .key(try newRootKey()), configuration: testConfiguration(clock, ttl: .zero))
        for key in ["a-tampered", "b-fine"] {
            try await store.createKey(name(key), type: .aes256GCM, options: KeyCreationOptions(rotationPeriod: .seconds(60)))
        }
        try await store.createKey(name("c-deleted"), type: .aes256GCM)
        _ = try await store.deleteKey(name("c-deleted"))
        clock.advance(8 * 24 * 3600)
        try await (try await database.open()).transaction { tx in
            try await tx.updateRecord(.key, "a-tampered", edit(try await tx.record(.key, "a-tampered", forUpdate: true)!, "\"rotationPeriod\":60", "\"rotationPeriod\":61"))
        }
        // The scheduler still rotates every other key; the tampered one is counted, and refused
        // wherever it is used.
        #expect(try await store.keysDueForRotation() == [name("b-fine")])
        #expect(store.integrityFailures >= 1)
        #expect(try await store.purgeDeletedKeys() == [name("c-deleted")])
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.rotateIfDue(name("a-tampered")) }
        #expect(try await store.rotateIfDue(name("b-fine"))?.latestVersion.rawValue == 2)
        try await store.close()
    }
}
