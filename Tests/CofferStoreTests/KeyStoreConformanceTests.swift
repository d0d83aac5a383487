import Foundation
@testable import CofferCrypto
@testable import CofferStore
import Testing

/// The one conformance suite every ``KeyStoreBackend`` passes: the same behaviour from the
/// in-memory map, an SQLite file and a PostgreSQL database.
@Suite("Key store conformance")
struct KeyStoreConformanceTests {
    /// All backends, or those named in `COFFER_TEST_BACKENDS` (comma-separated) when debugging.
    static let backends = StoreBackendKind.selected

    func open(_ database: TestDatabase, _ root: any RootKey, _ clock: TestClock? = nil, ttl: Duration = .seconds(10)) async throws -> KeyStore {
        try await KeyStore.open(backend: try await database.open(), root: .key(root), configuration: testConfiguration(clock, ttl: ttl))
    }

    @Test(arguments: backends)
    func createDescribeAndRefuseDuplicates(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let store = try await open(database, try newRootKey())
        defer { Task { try? await store.close() } }
        let labels: Set<KeyLabel> = [try KeyLabel("confidential"), try KeyLabel("team:payments")]
        let created = try await store.createKey(name("payments-db"), type: .aes256GCM,
            options: KeyCreationOptions(labels: labels, flags: KeyFlags(exportable: true), rotationPeriod: .seconds(86400)))
        let described = try await store.describeKey(name("payments-db"))
        #expect(described == created)
        #expect(described.type == .aes256GCM && described.labels == labels && described.flags.exportable)
        #expect(described.primaryVersion == .first && described.latestVersion == .first)
        await #expect(throws: KeyStoreError(.keyExists)) { try await store.createKey(name("payments-db"), type: .hmacSHA256) }
        await #expect(throws: KeyStoreError(.keyNotFound)) { try await store.describeKey(name("missing")) }
        await #expect(throws: KeyStoreError(.keyNotFound)) { try await store.primaryVersion(of: name("missing")) }
    }

    @Test(arguments: backends)
    func everyKeyTypeSealsAndUnsealsItsMaterial(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let store = try await open(database, root)
        defer { Task { try? await store.close() } }
        for type in KeyType.allCases where type != .rsa3072 && type != .rsa4096 {
            let key = name("k-\(type.rawValue)")
            try await store.createKey(key, type: type)
            let primary = try await store.primaryVersion(of: key)
            #expect(primary.type == type && primary.version == .first)
            try type.validate(primary.material)
        }
        // A second node (no cache) unseals the same bytes.
        let other = try await open(database, root)
        for type in [KeyType.aes256GCM, .ed25519, .rsa2048] {
            let a = try await store.primaryVersion(of: name("k-\(type.rawValue)")).material
            let b = try await other.decryptionVersion(of: name("k-\(type.rawValue)"), .first).material
            #expect(a == b)
        }
    }

    @Test(arguments: backends)
    func rotationAndVersionStates(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let store = try await open(database, try newRootKey())
        defer { Task { try? await store.close() } }
        let key = name("orders")
        try await store.createKey(key, type: .chaCha20Poly1305)
        let v1 = try await store.primaryVersion(of: key).material
        let rotated = try await store.rotateKey(key)
        #expect(rotated.primaryVersion.rawValue == 2 && rotated.latestVersion.rawValue == 2)
        let v2 = try await store.primaryVersion(of: key)
        #expect(v2.version.rawValue == 2 && v2.material != v1)
        #expect(try await store.decryptionVersion(of: key, .first).material == v1)

        // The primary must stay active.
        await #expect(throws: KeyStoreError(.stateChangeRefused)) { try await store.setVersionState(key, version: v2.version, to: .disabled) }
        try await store.setVersionState(key, version: .first, to: .decryptOnly)
        #expect(try await store.decryptionVersion(of: key, .first).material == v1)
        try await store.setVersionState(key, version: .first, to: .disabled)
        await #expect(throws: KeyStoreError(.versionUnavailable)) { try await store.decryptionVersion(of: key, .first) }
        try await store.setVersionState(key, version: .first, to: .active)
        #expect(try await store.decryptionVersion(of: key, .first).material == v1)
        try await store.setVersionState(key, version: .first, to: .destroyed)
        await #expect(throws: KeyStoreError(.versionUnavailable)) { try await store.decryptionVersion(of: key, .first) }
        await #expect(throws: KeyStoreError(.stateChangeRefused)) { try await store.setVersionState(key, version: .first, to: .active) }
        await #expect(throws: KeyStoreError(.versionNotFound)) { try await store.decryptionVersion(of: key, try KeyVersion(9)) }
        await #expect(throws: KeyStoreError(.versionNotFound)) { try await store.setVersionState(key, version: try KeyVersion(9), to: .disabled) }
        let versions = try await store.versions(of: key)
        #expect(versions.map(\.version.rawValue) == [1, 2] && versions.map(\.state) == [.destroyed, .active])
        // Destroying drops the sealed bytes from the backend, not just the state.
        let row = try await database.open().transaction { tx in try await tx.version("orders", 1) }
        #expect(row.map { String(decoding: $0, as: UTF8.self).contains("\"sealed\"") } == false)
    }

    @Test(arguments: backends)
    func minimumDecryptionVersionAndConfiguration(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let store = try await open(database, try newRootKey())
        defer { Task { try? await store.close() } }
        let key = name("logs")
        try await store.createKey(key, type: .aes256GCMSIV)
        try await store.rotateKey(key)
        try await store.rotateKey(key)
        await #expect(throws: KeyStoreError(.invalidArgument)) {
            try await store.configureKey(key, KeyConfigurationChange(minimumDecryptionVersion: try KeyVersion(4)))
        }
        let configured = try await store.configureKey(key, KeyConfigurationChange(
            rotationPeriod: .some(nil), minimumDecryptionVersion: try KeyVersion(2), labels: [try KeyLabel("pci")], flags: KeyFlags(deletionProtected: true)))
        #expect(configured.minimumDecryptionVersion.rawValue == 2 && configured.rotationPeriod == nil && configured.flags.deletionProtected)
        await #expect(throws: KeyStoreError(.versionUnavailable)) { try await store.decryptionVersion(of: key, .first) }
        _ = try await store.decryptionVersion(of: key, try KeyVersion(2))
        await #expect(throws: KeyStoreError(.invalidArgument)) {
            try await store.configureKey(key, KeyConfigurationChange(rotationPeriod: .some(.milliseconds(10))))
        }
        await #expect(throws: KeyStoreError(.notExportable)) { try await store.exportVersion(of: key, try KeyVersion(3)) }
    }

    @Test(arguments: backends)
    func listingByPrefixLabelAndPage(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let store = try await open(database, try newRootKey())
        defer { Task { try? await store.close() } }
        let pci = try KeyLabel("pci")
        for index in 0..<23 {
            try await store.createKey(name(String(format: "app-%02d", index)), type: .hmacSHA256,
                options: KeyCreationOptions(labels: index % 3 == 0 ? [pci] : []))
        }
        try await store.createKey(name("other"), type: .hmacSHA256)
        var seen: [String] = []
        var after: KeyIdentifier?
        repeat {
            let page = try await store.listKeys(prefix: "app-", after: after, limit: 10)
            #expect(page.keys.count <= 10)
            seen += page.keys.map(\.name.rawValue)
            after = page.next
        } while after != nil
        #expect(seen == (0..<23).map { String(format: "app-%02d", $0) })
        let labelled = try await store.listKeys(label: pci, limit: 100)
        #expect(labelled.keys.map(\.name.rawValue) == stride(from: 0, to: 23, by: 3).map { String(format: "app-%02d", $0) })
        #expect(try await store.listKeys(limit: 1000).keys.count == 24)
        await #expect(throws: KeyStoreError(.invalidArgument)) { try await store.listKeys(limit: 0) }
    }

    @Test(arguments: backends)
    func softDeletionRestoreAndPurge(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let clock = TestClock()
        let store = try await open(database, try newRootKey(), clock)
        defer { Task { try? await store.close() } }
        let key = name("temp")
        try await store.createKey(key, type: .aes256GCM, options: KeyCreationOptions(flags: KeyFlags(deletionProtected: true)))
        _ = try await store.primaryVersion(of: key)  // cached now
        await #expect(throws: KeyStoreError(.deletionProtected)) { try await store.deleteKey(key) }
        try await store.configureKey(key, KeyConfigurationChange(flags: KeyFlags()))
        let deleted = try await store.deleteKey(key)
        #expect(deleted.isDeleted)
        await #expect(throws: KeyStoreError(.keyDeleted)) { try await store.primaryVersion(of: key) }
        await #expect(throws: KeyStoreError(.keyDeleted)) { try await store.decryptionVersion(of: key, .first) }
        await #expect(throws: KeyStoreError(.keyDeleted)) { try await store.rotateKey(key) }
        await #expect(throws: KeyStoreError(.keyExists)) { try await store.createKey(key, type: .aes256GCM) }
        try await store.restoreKey(key)
        let material = try await store.primaryVersion(of: key).material
        try await store.deleteKey(key)
        clock.advance(6 * 86400)
        #expect(try await store.purgeDeletedKeys().isEmpty)
        clock.advance(2 * 86400)
        #expect(try await store.purgeDeletedKeys() == [key])
        await #expect(throws: KeyStoreError(.keyNotFound)) { try await store.describeKey(key) }
        // The name is free again, with new material.
        try await store.createKey(key, type: .aes256GCM)
        #expect(try await store.primaryVersion(of: key).material != material)
    }

    @Test(arguments: backends)
    func concurrentRotationOnTwoNodesNeverDuplicatesOrLosesAVersion(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let nodeA = try await open(database, root)
        let nodeB = try await open(database, root)
        let key = name("hot")
        try await nodeA.createKey(key, type: .aes256GCM)
        let rounds = 15
        try await withThrowingTaskGroup(of: [UInt32].self) { group in
            for node in [nodeA, nodeB] {
                group.addTask {
                    var seen: [UInt32] = []
                    for _ in 0..<rounds { seen.append(try await node.rotateKey(key).latestVersion.rawValue) }
                    return seen
                }
            }
            var all: [UInt32] = []
            for try await seen in group { all += seen }
            // Every rotation got its own number, and together they are exactly 2…31.
            #expect(all.sorted() == Array(2...UInt32(2 * rounds + 1)))
        }
        let versions = try await nodeB.versions(of: key)
        #expect(versions.map(\.version.rawValue) == Array(1...UInt32(2 * rounds + 1)))
        #expect(try await nodeA.describeKey(key).primaryVersion.rawValue == UInt32(2 * rounds + 1))
        try await nodeA.close()
        try await nodeB.close()
    }

    @Test(arguments: backends)
    func rotateIfDueRotatesExactlyOnceAcrossNodes(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let clock = TestClock()
        let nodes = [try await open(database, root, clock), try await open(database, root, clock), try await open(database, root, clock)]
        let key = name("scheduled")
        try await nodes[0].createKey(key, type: .aes256GCM, options: KeyCreationOptions(rotationPeriod: .seconds(3600)))
        #expect(try await nodes[1].keysDueForRotation().isEmpty)
        clock.advance(3601)
        #expect(try await nodes[2].keysDueForRotation() == [key])
        let results = try await withThrowingTaskGroup(of: KeyRecord?.self) { group in
            for node in nodes { group.addTask { try await node.rotateIfDue(key) } }
            return try await group.reduce(into: [KeyRecord?]()) { $0.append($1) }
        }
        #expect(results.compactMap { $0 }.count == 1)
        #expect(try await nodes[0].describeKey(key).latestVersion.rawValue == 2)
        #expect(try await nodes[0].keysDueForRotation().isEmpty)
        for node in nodes { try await node.close() }
    }

    @Test(arguments: backends)
    func anotherNodesRotationDecryptsHereAndItsDisableStopsHereWithinTheBound(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let clock = TestClock()
        let nodeA = try await open(database, root, clock)
        let nodeB = try await open(database, root, clock)
        let key = name("shared")
        try await nodeA.createKey(key, type: .aes256GCM)
        _ = try await nodeB.primaryVersion(of: key)  // B caches the record (latest = 1)
        let v2 = try await nodeA.rotateKey(key).primaryVersion
        // B has not heard of v2, but a ciphertext naming it decrypts (cache miss loads it).
        let onA = try await nodeA.primaryVersion(of: key)
        #expect(try await nodeB.decryptionVersion(of: key, v2).material == onA.material)
        // A disables v1; B stops using it within the bound: at once on PostgreSQL (NOTIFY),
        // after the TTL elsewhere.
        _ = try await nodeB.decryptionVersion(of: key, .first)
        try await nodeA.setVersionState(key, version: .first, to: .disabled)
        if kind == .postgres {
            var refused = false
            for _ in 0..<40 where !refused {
                do { _ = try await nodeB.decryptionVersion(of: key, .first) } catch let error as KeyStoreError where error.code == .versionUnavailable { refused = true }
                if !refused { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(refused, "NOTIFY should evict within 2 s")
        } else {
            clock.advance(11)
            await #expect(throws: KeyStoreError(.versionUnavailable)) { try await nodeB.decryptionVersion(of: key, .first) }
        }
        try await nodeA.close()
        try await nodeB.close()
    }

    @Test(arguments: backends)
    func sealedRowsAreBoundToKeyVersionTypeAndStore(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let store = try await open(database, root, ttl: .zero)
        defer { Task { try? await store.close() } }
        try await store.createKey(name("a"), type: .aes256GCM)
        try await store.createKey(name("b"), type: .aes256GCM)
        try await store.rotateKey(name("a"))
        // The edits go through the store's own tagged transactions, as if the attacker also held
        // the row key (RowAuthenticationTests covers the tags): the sealing's binding to key,
        // version, type and store is a second, independent check.
        // Swap a's v1 row into b's v1, and a's v2 into a's v1.
        try await store.transaction { tx in
            let a1 = try await tx.version("a", 1)!, a2 = try await tx.version("a", 2)!
            try await tx.updateVersion("b", 1, a1)
            try await tx.updateVersion("a", 1, a2)
        }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.primaryVersion(of: name("b")) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.decryptionVersion(of: name("a"), .first) }
        _ = try await store.decryptionVersion(of: name("a"), try KeyVersion(2))

        // Relabelling a key's type in its row (aes256-gcm → aes256-gcm-siv) breaks the binding too.
        try await store.createKey(name("c"), type: .aes256GCM)
        try await store.transaction { tx in
            let body = String(decoding: try await tx.record(.key, "c", forUpdate: true)!, as: UTF8.self)
            try await tx.updateRecord(.key, "c", Array(body.replacingOccurrences(of: "\"aes256-gcm\"", with: "\"aes256-gcm-siv\"").utf8))
        }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.primaryVersion(of: name("c")) }

        // A row copied into another store under the same root key does not unseal there.
        let otherDatabase = try await kind.makeDatabase()
        let other = try await open(otherDatabase, root)
        try await other.createKey(name("b"), type: .aes256GCM)
        let bRow = try await store.transaction { tx in try await tx.version("a", 2)! }
        try await other.transaction { tx in try await tx.updateVersion("b", 1, bRow) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await other.primaryVersion(of: name("b")) }
        try await other.close()
    }

    @Test(arguments: backends)
    func rootKeyMustMatchAndPassphraseStoresOpenSealed(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let store = try await open(database, root)
        try await store.createKey(name("k"), type: .aes256GCM)
        try await store.close()
        await #expect(throws: KeyStoreError(.rootKeyMismatch)) { try await open(database, try newRootKey()) }
        await #expect(throws: KeyStoreError(.unsealFailed)) {
            let sealed = try await KeyStore.open(backend: try await database.open(), root: .passphrase, configuration: testConfiguration())
            try await sealed.unseal(passphrase: try Passphrase("anything"))
        }

        let passphraseDatabase = try await kind.makeDatabase()
        let first = try await KeyStore.open(backend: try await passphraseDatabase.open(), root: .passphrase, configuration: testConfiguration())
        #expect(first.isSealed)
        await #expect(throws: KeyStoreError(.sealed)) { try await first.createKey(name("k"), type: .aes256GCM) }
        try await first.unseal(passphrase: try Passphrase("correct horse battery staple"))
        try await first.createKey(name("k"), type: .aes256GCM)
        let material = try await first.primaryVersion(of: name("k")).material
        try await first.close()

        let second = try await KeyStore.open(backend: try await passphraseDatabase.open(), root: .passphrase, configuration: testConfiguration())
        await #expect(throws: KeyStoreError(.sealed)) { try await second.primaryVersion(of: name("k")) }
        await #expect(throws: KeyStoreError(.unsealFailed)) { try await second.unseal(passphrase: try Passphrase("wrong horse")) }
        #expect(second.isSealed)
        try await second.unseal(passphrase: try Passphrase("correct horse battery staple"))
        #expect(try await second.primaryVersion(of: name("k")).material == material)
        try await second.close()
    }

    @Test(arguments: backends)
    func rootKeyRotationReSealsEverythingAndResumes(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let oldRoot = try newRootKey(), newRoot = try newRootKey()
        let store = try await open(database, oldRoot)
        var materials: [String: KeyMaterial] = [:]
        for index in 0..<30 {
            let key = name("key-\(index)")
            try await store.createKey(key, type: .aes256GCM)
            if index % 2 == 0 { try await store.rotateKey(key) }
            materials[key.rawValue] = try await store.primaryVersion(of: key).material
        }
        try await store.setVersionState(name("key-0"), version: .first, to: .destroyed)
        let total = try await store.countVersions()
        #expect(total == 45)
        let importRecipient = try await store.importWrappingRecipient()
        let reports = ProgressLog()
        try await store.rotateRootKey(to: newRoot) { done, all in reports.append(done, all) }
        #expect(reports.first.map { $0.0 == 0 && $0.1 == total } == true)
        #expect(reports.last.map { $0.0 == total && $0.1 == total } == true)
        try await store.close()

        await #expect(throws: KeyStoreError(.rootKeyMismatch)) { try await open(database, oldRoot) }
        let reopened = try await open(database, newRoot)
        for (key, material) in materials { #expect(try await reopened.primaryVersion(of: name(key)).material == material) }
        // The import wrapping key was re-sealed with the rest: clients' recipient is unchanged.
        #expect(try await reopened.importWrappingRecipient() == importRecipient)
        // Every live row names the new root key.
        let rows = try await database.open().transaction { tx in try await tx.allVersions(after: nil, limit: 1000) }
        #expect(rows.count == total)
        #expect(rows.filter { String(decoding: $0.body, as: UTF8.self).contains("\"sealed\"") }.count == total - 1)

        // Interrupted after two batches of ten: the store still records `newRoot`, some rows are
        // under `thirdRoot`. A fresh process holding both finishes the pass.
        let thirdRoot = try newRootKey()
        try await reopened.rotateRootKey(to: thirdRoot, batchSize: 10, stoppingAfterBatches: 2)
        try await reopened.close()
        let midway = try await database.open().transaction { tx in try await tx.allVersions(after: nil, limit: 1000) }
        let underThird = midway.filter { row in
            String(decoding: row.body, as: UTF8.self).contains(Base64URL.encode([SealedKeyMaterial.formatVersion, 1] + thirdRoot.id.bytes).dropLast(2))
        }
        #expect(underThird.count >= 18 && underThird.count <= 20)
        let resumed = try await open(database, newRoot)
        try await resumed.rotateRootKey(to: thirdRoot)
        try await resumed.close()
        let last = try await open(database, thirdRoot, ttl: .zero)
        for (key, material) in materials { #expect(try await last.primaryVersion(of: name(key)).material == material) }
        #expect(try await last.importWrappingRecipient() == importRecipient)
        try await last.close()
    }

    @Test(arguments: backends)
    func anInterruptedPassphraseRotationResumesWithItsPassphraseOnly(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let first = try Passphrase("first passphrase 8812"), second = try Passphrase("second passphrase 8812")
        func unsealed(_ passphrase: Passphrase) async throws -> KeyStore {
            let store = try await KeyStore.open(backend: try await database.open(), root: .passphrase, configuration: testConfiguration(ttl: .zero))
            try await store.unseal(passphrase: passphrase)
            return store
        }
        let store = try await unsealed(first)
        var materials: [String: KeyMaterial] = [:]
        for index in 0..<12 {
            let key = name("p-\(index)")
            try await store.createKey(key, type: .aes256GCM)
            materials[key.rawValue] = try await store.primaryVersion(of: key).material
        }
        // Interrupted after one batch of five: the store still opens with the first passphrase.
        try await store.rotateRootKey(toPassphrase: second, batchSize: 5, stoppingAfterBatches: 1)
        try await store.close()
        let resumed = try await unsealed(first)
        // Another passphrase, or a key file, now would strand the rows already re-sealed: refused.
        await #expect(throws: KeyStoreError(.invalidArgument)) { try await resumed.rotateRootKey(toPassphrase: try Passphrase("third passphrase 8812")) }
        await #expect(throws: KeyStoreError(.invalidArgument)) { try await resumed.rotateRootKey(to: try newRootKey()) }
        // The same one finishes the pass (same salt, same key).
        try await resumed.rotateRootKey(toPassphrase: second)
        try await resumed.close()
        await #expect(throws: KeyStoreError(.unsealFailed)) { try await unsealed(first) }
        let last = try await unsealed(second)
        for (key, material) in materials { #expect(try await last.primaryVersion(of: name(key)).material == material) }
        try await last.close()
    }

    @Test(arguments: backends)
    func backupRestoresIntoAnEmptyStoreAndRejectsTampering(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let store = try await open(database, root)
        try await store.createKey(name("one"), type: .aes256GCM, options: KeyCreationOptions(labels: [try KeyLabel("x")]))
        try await store.rotateKey(name("one"))
        try await store.createKey(name("two"), type: .ed25519)
        try await store.putPolicy(try Policy(name: "reader", statements: [try PolicyStatement(effect: .allow, operations: ["decrypt"], keys: ["*"])]))
        let (_, apiKey) = try await store.createAPIKey(policy: "reader")
        let one = try await store.decryptionVersion(of: name("one"), .first).material
        let backup = try await store.backup()
        // Sealed: no key material in the clear (the bytes of v1 do not appear base64url-encoded or raw).
        #expect(!String(decoding: backup, as: UTF8.self).contains(apiKey))

        let target = try await kind.makeDatabase()
        var tampered = backup
        tampered[tampered.count / 2] ^= 0x01
        await #expect(throws: KeyStoreError(.invalidBackup)) { try await KeyStore.restoreBackup(tampered, into: try await target.open()) }
        await #expect(throws: KeyStoreError(.invalidBackup)) { try await KeyStore.restoreBackup(Array(backup.dropLast(10)), into: try await target.open()) }
        try await KeyStore.restoreBackup(backup, into: try await target.open())
        let restored = try await open(target, root)
        #expect(try await restored.decryptionVersion(of: name("one"), .first).material == one)
        #expect(try await restored.describeKey(name("one")) == store.describeKey(name("one")))
        #expect(try await restored.authenticate(apiKey: apiKey).policy == "reader")
        #expect(restored.storeID == store.storeID)
        await #expect(throws: KeyStoreError(.storeNotEmpty)) { try await KeyStore.restoreBackup(backup, into: try await target.open()) }
        // Without the root key a restored backup opens nothing.
        await #expect(throws: KeyStoreError(.rootKeyMismatch)) { try await open(target, try newRootKey()) }
        try await restored.close()
        try await store.close()
    }

    @Test(arguments: backends)
    func preloadUnsealsEveryUsableVersionIntoTheCache(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let root = try newRootKey()
        let store = try await open(database, root)
        for index in 0..<5 {
            try await store.createKey(name("p\(index)"), type: .aes256GCM)
            try await store.rotateKey(name("p\(index)"))
            try await store.rotateKey(name("p\(index)"))
        }
        try await store.setVersionState(name("p0"), version: .first, to: .disabled)
        try await store.setVersionState(name("p1"), version: .first, to: .destroyed)
        try await store.deleteKey(name("p2"))
        let node = try await open(database, root)
        let progress = ProgressLog()
        #expect(try await node.preloadCache { progress.append($0, $1) } == 15 - 1 - 1 - 3)
        #expect(progress.last.map { $0.0 == 10 } == true)
        let before = node.cacheStatistics
        let material = try await node.decryptionVersion(of: name("p3"), try KeyVersion(2)).material
        let after = node.cacheStatistics
        #expect(after.misses == before.misses && after.hits == before.hits + 2)
        #expect(try await store.decryptionVersion(of: name("p3"), try KeyVersion(2)).material == material)
        try await node.close()
        try await store.close()
    }

    @Test(arguments: backends)
    func identitiesAndPolicies(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let store = try await open(database, try newRootKey())
        defer { Task { try? await store.close() } }
        await #expect(throws: KeyStoreError(.policyNotFound)) { try await store.createAPIKey(policy: "nope") }
        let policy = try Policy(name: "app", statements: [
            try PolicyStatement(effect: .allow, operations: ["encrypt", "decrypt"], keys: ["app-*"]),
            try PolicyStatement(effect: .deny, operations: ["*"], keys: ["*"], labels: [try KeyLabel("restricted")]),
        ])
        try await store.putPolicy(policy)
        #expect(try await store.policy(named: "app") == policy)
        let (identity, text) = try await store.createAPIKey(policy: "app")
        #expect(identity.kind == .apiKey && identity.id.hasPrefix("apikey:"))
        #expect(try await store.authenticate(apiKey: text).id == identity.id)
        var wrong = Array(text.utf8)
        wrong[wrong.count - 2] = wrong[wrong.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        for bad in [String(decoding: wrong, as: UTF8.self), "coffer-ak-nonsense", "", APIKeySecret.generate().text] {
            await #expect(throws: KeyStoreError(.unauthenticated)) { try await store.authenticate(apiKey: bad) }
        }
        // The secret is not in the stored row.
        let secretPart = String(text.split(separator: ".").last!)
        let row = try await database.open().transaction { tx in try await tx.record(.identity, identity.id, forUpdate: false) }
        #expect(!String(decoding: row!, as: UTF8.self).contains(secretPart))
        try await store.updateIdentity(identity.id, disabled: true)
        await #expect(throws: KeyStoreError(.unauthenticated)) { try await store.authenticate(apiKey: text) }
        let certificate = try await store.registerCertificate(publicKeySHA256: Array(repeating: 0xAB, count: 32), policy: "app")
        #expect(certificate.id == "cert:" + String(repeating: "ab", count: 32))
        await #expect(throws: KeyStoreError(.identityExists)) {
            try await store.registerCertificate(publicKeySHA256: Array(repeating: 0xAB, count: 32), policy: "app")
        }
        #expect(try await store.listIdentities().count == 2)
        try await store.deleteIdentity(certificate.id)
        await #expect(throws: KeyStoreError(.identityNotFound)) { try await store.identity(certificate.id) }
        #expect(try await store.listPolicies().map(\.name) == ["app"])
    }
}

/// Collects progress reports from a `@Sendable` callback.
final class ProgressLog: @unchecked Sendable {
    private let lock = Lock()
    private var reports: [(Int, Int)] = []
    func append(_ done: Int, _ total: Int) { lock.withLock { reports.append((done, total)) } }
    var first: (Int, Int)? { lock.withLock { reports.first } }
    var last: (Int, Int)? { lock.withLock { reports.last } }
}

