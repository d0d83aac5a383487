import Foundation
import CofferCrypto
@testable import CofferStore
import Testing

/// A node left running through a root-key rotation (which re-tags every row under a new row
/// key) seals itself at its first write, failed read or background pass, and never writes a row
/// under the old row key: nothing it acknowledged is lost to the other nodes.
@Suite("A node that missed a root-key rotation")
struct RowKeyChangeTests {
    static let backends = StoreBackendKind.selected

    func open(_ database: TestDatabase, _ root: any RootKey) async throws -> KeyStore {
        try await KeyStore.open(backend: try await database.open(), root: .key(root), configuration: testConfiguration(ttl: .zero))
    }

    /// Runs a root-key rotation again until it finishes. While versions keep being created under
    /// the old root key its last step refuses ("run the rotation again": `invalid_argument`), as
    /// documented; in the rotating process a write may also make it retry (`conflict`).
    func rotateUntilDone(_ store: KeyStore, to newRoot: any RootKey) async throws {
        for attempt in 1... {
            do {
                return try await store.rotateRootKey(to: newRoot)
            } catch let error as KeyStoreError where [.invalidArgument, .conflict].contains(error.code) && attempt < 500 {
                continue
            }
        }
    }

    /// A store holding one key, `orders`, and a raw backend on its database: what a database
    /// writer starts from.
    func storeWithOneKey(_ kind: StoreBackendKind) async throws -> (KeyStore, any KeyStoreBackend) {
        let database = try await kind.makeDatabase()
        let store = try await open(database, try newRootKey())
        try await store.createKey(name("orders"), type: .aes256GCM)
        return (store, try await database.open())
    }

    /// Opens the store as a node restarted with the new root key would, and checks that every
    /// row there passes its tag check.
    func checkEveryRowAuthenticates(_ database: TestDatabase, _ root: any RootKey) async throws -> KeyStore {
        let fresh = try await open(database, root)
        try await fresh.transaction { tx in try await KeyStore.forEveryRow(tx, record: { _, _ in }, version: { _ in }) }
        #expect(fresh.integrityFailures == 0)
        return fresh
    }

    @Test(arguments: backends)
    func aWriteSealsTheNodeAndWritesNothing(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let (oldRoot, newRoot) = (try newRootKey(), try newRootKey())
        let forgotten = try await open(database, oldRoot)
        try await forgotten.createKey(name("before"), type: .aes256GCM)
        let material = try await forgotten.primaryVersion(of: name("before")).material

        try await open(database, oldRoot).rotateRootKey(to: newRoot)
        // An insert reads nothing that fails first: only the store-row check stops it.
        await #expect(throws: KeyStoreError(.sealed)) { try await forgotten.createKey(name("after"), type: .aes256GCM) }
        #expect(forgotten.isSealed)
        await #expect(throws: KeyStoreError(.sealed)) { try await forgotten.describeKey(name("before")) }

        let fresh = try await checkEveryRowAuthenticates(database, newRoot)
        await #expect(throws: KeyStoreError(.keyNotFound)) { try await fresh.describeKey(name("after")) }
        #expect(try await fresh.primaryVersion(of: name("before")).material == material)
    }

    @Test(arguments: backends)
    func aFailedReadOrBackgroundPassSealsTheNode(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let (oldRoot, newRoot) = (try newRootKey(), try newRootKey())
        let reader = try await open(database, oldRoot)
        let scanner = try await open(database, oldRoot)
        try await reader.createKey(name("orders"), type: .aes256GCM)

        try await open(database, oldRoot).rotateRootKey(to: newRoot)
        // Not store_integrity_failure: the row was re-tagged by the rotation, not forged.
        await #expect(throws: KeyStoreError(.sealed)) { try await reader.describeKey(name("orders")) }
        #expect(reader.isSealed)
        await #expect(throws: KeyStoreError(.sealed)) { _ = try await scanner.keysDueForRotation() }
        #expect(scanner.isSealed)

        #expect(reader.sealedAfterRootKeyRotationElsewhere && scanner.sealedAfterRootKeyRotationElsewhere)
        // Restarted with the new root key, a node serves again.
        let restarted = try await open(database, newRoot)
        #expect(try await restarted.describeKey(name("orders")).name == name("orders"))
    }

    /// With a passphrase root key, the node that sealed itself is unsealed with the new
    /// passphrase and serves again; the old one no longer opens it.
    @Test(arguments: backends)
    func aPassphraseNodeUnsealsWithTheNewPassphrase(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        func node() async throws -> KeyStore {
            try await KeyStore.open(backend: try await database.open(), root: .passphrase, configuration: testConfiguration(ttl: .zero))
        }
        let forgotten = try await node()
        try await forgotten.unseal(passphrase: try Passphrase("old passphrase, long enough"))
        try await forgotten.createKey(name("orders"), type: .aes256GCM)
        let admin = try await node()
        try await admin.unseal(passphrase: try Passphrase("old passphrase, long enough"))
        try await admin.rotateRootKey(toPassphrase: try Passphrase("new passphrase, long enough"))

        await #expect(throws: KeyStoreError(.sealed)) { try await forgotten.rotateKey(name("orders")) }
        #expect(forgotten.sealedAfterRootKeyRotationElsewhere)
        await #expect(throws: KeyStoreError(.unsealFailed)) { try await forgotten.unseal(passphrase: try Passphrase("old passphrase, long enough")) }
        try await forgotten.unseal(passphrase: try Passphrase("new passphrase, long enough"))
        #expect(!forgotten.isSealed && !forgotten.sealedAfterRootKeyRotationElsewhere)
        #expect(try await forgotten.rotateKey(name("orders")).latestVersion.rawValue == 2)
    }

    /// A forged row is still an integrity failure and does not seal the node: only a changed
    /// row key in the store row does.
    @Test(arguments: backends)
    func aForgedRowDoesNotSealTheNode(_ kind: StoreBackendKind) async throws {
        let (store, backend) = try await storeWithOneKey(kind)
        try await backend.transaction { tx in
            var body = try #require(try await tx.record(.key, "orders", forUpdate: true))
            body[body.count - 2] ^= 1
            try await tx.updateRecord(.key, "orders", body)
        }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.describeKey(name("orders")) }
        #expect(!store.isSealed && !store.sealedAfterRootKeyRotationElsewhere)
        try await store.createKey(name("other"), type: .aes256GCM)
    }

    /// The lock a writing transaction holds on the store row: the rotation's last step, which
    /// reads it for update, waits until that transaction has committed.
    @Test(arguments: backends)
    func theStoreRowLockHoldsOffTheRotationsLastStep(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        _ = try await open(database, try newRootKey())
        let (writer, rotation) = (try await database.open(), try await database.open())
        let events = EventLog()
        let holding = Task {
            try await writer.transaction { tx in
                _ = try await tx.recordSharingLock(.meta, "store")
                events.append("writer holds the store row")
                try await Task.sleep(for: .milliseconds(400))
                events.append("writer commits")
            }
        }
        while !events.contains("writer holds the store row") { try await Task.sleep(for: .milliseconds(5)) }
        try await rotation.transaction { tx in
            _ = try await tx.record(.meta, "store", forUpdate: true)
            events.append("rotation reads the store row for update")
        }
        try await holding.value
        #expect(events.entries == ["writer holds the store row", "writer commits", "rotation reads the store row for update"])
    }

    /// A store row put back in the form from before row tags (no row key) while a node runs is
    /// an integrity failure at its next write, not a rotation: the node does not seal itself.
    @Test(arguments: backends)
    func aStoreRowWithoutRowKeyIsAnIntegrityFailure(_ kind: StoreBackendKind) async throws {
        let (store, backend) = try await storeWithOneKey(kind)
        try await backend.transaction { tx in
            let stored = try #require(try await tx.record(.meta, "store", forUpdate: true))
            var meta = try KeyStore.decodeStoredMeta(stored)
            meta.v = 1
            meta.rowKey = nil
            try await tx.updateRecord(.meta, "store", try StoredDocument.encode(meta))
        }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.createKey(name("other"), type: .aes256GCM) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.markAdminBootstrapped() }
        #expect(!store.isSealed)
    }

    /// The process that rotates the root key keeps serving through its own rotation: writes
    /// racing its last step retry with the new row key instead of sealing it.
    @Test(arguments: backends)
    func theRotatingNodeNeverSealsItself(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let newRoot = try newRootKey()
        let store = try await open(database, try newRootKey())
        for i in 0..<10 { try await store.createKey(name("seed-\(i)"), type: .aes256GCM) }
        let writer = Task { () -> (created: [String], sealed: Bool) in
            var created: [String] = []
            for i in 0..<60 {
                do {
                    try await store.createKey(name("during-\(i)"), type: .aes256GCM)
                    created.append("during-\(i)")
                } catch let error as KeyStoreError where error.code == .conflict {
                    continue
                } catch {
                    return (created, store.isSealed)
                }
                await Task.yield()
            }
            return (created, store.isSealed)
        }
        try await rotateUntilDone(store, to: newRoot)
        let (created, sealed) = await writer.value
        #expect(!sealed && !store.isSealed && !store.sealedAfterRootKeyRotationElsewhere)
        try await store.createKey(name("after"), type: .aes256GCM)
        let fresh = try await checkEveryRowAuthenticates(database, newRoot)
        for key in created + ["after"] { _ = try await fresh.primaryVersion(of: name(key)) }
    }

    /// The moment between the rotating process's last commit and its adopting the new row key,
    /// held open: a write there sees the new store row with the old row key in hand, and must be
    /// retried (or refused as a conflict), never seal the node.
    @Test(arguments: backends)
    func aWriteBetweenTheRotationsCommitAndItsAdoptionDoesNotSeal(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let events = EventLog()
        var configuration = testConfiguration(ttl: .zero)
        configuration.afterRotationCommit = {
            events.append("committed")
            try? await Task.sleep(for: .milliseconds(300))
        }
        let store = try await KeyStore.open(backend: try await database.open(), root: .key(try newRootKey()), configuration: configuration)
        try await store.createKey(name("orders"), type: .aes256GCM)
        let newRoot = try newRootKey()
        let rotation = Task { try await store.rotateRootKey(to: newRoot) }
        while !events.contains("committed") { try await Task.sleep(for: .milliseconds(2)) }
        do {
            try await store.createKey(name("meanwhile"), type: .aes256GCM)
        } catch let error as KeyStoreError where error.code == .conflict {
            // Retried until the pause ended, or given up: either way nothing was written.
        }
        #expect(!store.isSealed)
        try await rotation.value
        #expect(!store.isSealed)
        try await store.createKey(name("after"), type: .aes256GCM)
        _ = try await checkEveryRowAuthenticates(database, newRoot)
    }

    /// Writes racing the rotation's last step: each either lands before it (and is re-tagged by
    /// it) or is refused; every key the forgotten node acknowledged is there, under the new root
    /// key, and no row fails its tag.
    @Test(arguments: backends)
    func writesRacingTheRotationAreNeverLost(_ kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let (oldRoot, newRoot) = (try newRootKey(), try newRootKey())
        let forgotten = try await open(database, oldRoot)
        let admin = try await open(database, oldRoot)
        for i in 0..<20 { try await forgotten.createKey(name("seed-\(i)"), type: .aes256GCM) }

        // A bounded burst: while the forgotten node keeps creating versions under the old root
        // key, the rotation's last step refuses (invalid_argument, "run the rotation again"),
        // as documented; it finishes once the burst is over or the node has sealed itself.
        let writer = Task { () -> (created: [String], error: (any Error)?) in
            var created: [String] = []
            for i in 0..<40 {
                do {
                    try await forgotten.createKey(name("race-\(i)"), type: .aes256GCM)
                    created.append("race-\(i)")
                } catch {
                    return (created, error)
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            return (created, nil)
        }
        try await rotateUntilDone(admin, to: newRoot)
        var (created, error) = await writer.value
        if error == nil {
            // The burst ended before the rotation did: the next write is refused.
            do { try await forgotten.createKey(name("late"), type: .aes256GCM); created.append("late") } catch let late { error = late }
        }
        #expect(error as? KeyStoreError == KeyStoreError(.sealed), "\(String(describing: error))")
        #expect(forgotten.isSealed)

        let fresh = try await checkEveryRowAuthenticates(database, newRoot)
        for key in created {
            #expect(try await fresh.describeKey(name(key)).name == name(key))
            _ = try await fresh.primaryVersion(of: name(key))
        }
    }
}

/// Events from several tasks, in the order they happened.
final class EventLog: Sendable {
    private let lock = Lock()
    nonisolated(unsafe) private var events: [String] = []
    func append(_ event: String) { lock.withLock { events.append(event) } }
    func contains(_ event: String) -> Bool { lock.withLock { events.contains(event) } }
    var entries: [String] { lock.withLock { events } }
}
