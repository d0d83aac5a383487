import CofferCrypto
import CofferPKCS11
import CofferStore
import CofferStorePKCS11
import Testing

/// The key store sealed under a root key inside SoftHSM2.
@Suite("PKCS#11 root key")
struct PKCS11RootKeyTests {
    static func rootKey(_ label: String, create: Bool = true) throws -> PKCS11RootKey {
        _ = try SoftHSMFixture.module()  // SOFTHSM2_CONF and the tokens first
        return try PKCS11RootKey.open(
            modulePath: SoftHSMFixture.modulePath, tokenLabel: SoftHSMFixture.tokenLabel, pin: Array(SoftHSMFixture.userPIN.utf8),
            keyLabel: label, createIfMissing: create)
    }

    @Test func sealsAndUnsealsInsideTheTokenAndTheKeyNeverLeavesIt() async throws {
        let label = "root-\(UInt32.random(in: 0...UInt32.max))"
        let root = try Self.rootKey(label)
        #expect(root.kind == "pkcs11:\(SoftHSMFixture.tokenLabel)/\(label)")
        let backend = InMemoryKeyStoreBackend()
        let store = try await KeyStore.open(backend: backend, root: .key(root))
        let key = try KeyIdentifier("hsm-sealed")
        try await store.createKey(key, type: .aes256GCM)
        try await store.rotateKey(key)
        let material = try await store.primaryVersion(of: key).material

        // The row is sealed by the token (scheme 0x02) and names this root key.
        let row = try await backend.transaction { tx in try await tx.version("hsm-sealed", 2) }
        #expect(String(decoding: row!, as: UTF8.self).contains(Base64URL.encode([SealedKeyMaterial.formatVersion, 0x02] + root.id.bytes)))

        // A second session (another process, in effect) finds the same key by label and unseals.
        let again = try Self.rootKey(label, create: false)
        #expect(again.id == root.id)
        let reopened = try await KeyStore.open(backend: backend, root: .key(again))
        #expect(try await reopened.decryptionVersion(of: key, try KeyVersion(2)).material == material)

        // The token's key is sensitive and not extractable.
        let session = try SoftHSMFixture.session()
        let properties = try session.keyProperties(try #require(try session.findAESKey(label: label)))
        #expect(properties.staysInsideToken && !properties.valueIsReadable)
    }

    @Test func rootKeyRotationMovesAStoreFromAKeyFileIntoTheHSMAndBack() async throws {
        let fileKey = try SoftwareRootKey(bytes: randomBytes(32), kind: "key-file")
        let hsmKey = try Self.rootKey("rotate-\(UInt32.random(in: 0...UInt32.max))")
        let backend = InMemoryKeyStoreBackend()
        let store = try await KeyStore.open(backend: backend, root: .key(fileKey))
        var materials: [KeyMaterial] = []
        for index in 0..<12 {
            let key = try KeyIdentifier("k\(index)")
            try await store.createKey(key, type: .hmacSHA256)
            materials.append(try await store.primaryVersion(of: key).material)
        }
        try await store.rotateRootKey(to: hsmKey)
        await #expect(throws: KeyStoreError(.rootKeyMismatch)) { try await KeyStore.open(backend: backend, root: .key(fileKey)) }
        let underHSM = try await KeyStore.open(backend: backend, root: .key(hsmKey))
        for index in 0..<12 { #expect(try await underHSM.primaryVersion(of: try KeyIdentifier("k\(index)")).material == materials[index]) }

        let newFileKey = try SoftwareRootKey(bytes: randomBytes(32), kind: "key-file")
        try await underHSM.rotateRootKey(to: newFileKey)
        let back = try await KeyStore.open(backend: backend, root: .key(newFileKey))
        for index in 0..<12 { #expect(try await back.primaryVersion(of: try KeyIdentifier("k\(index)")).material == materials[index]) }
    }

    @Test func tamperedRowsFailAndConfigurationErrorsAreClear() async throws {
        let root = try Self.rootKey("tamper-\(UInt32.random(in: 0...UInt32.max))")
        let backend = InMemoryKeyStoreBackend()
        let store = try await KeyStore.open(backend: backend, root: .key(root))
        try await store.createKey(try KeyIdentifier("a"), type: .aes256GCM)
        try await store.createKey(try KeyIdentifier("b"), type: .aes256GCM)
        try await backend.transaction { tx in try await tx.updateVersion("b", 1, try await tx.version("a", 1)!) }
        let fresh = try await KeyStore.open(backend: backend, root: .key(root))
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await fresh.primaryVersion(of: try KeyIdentifier("b")) }

        #expect(throws: KeyStoreError(.unavailable)) { try Self.rootKey("never-created-\(UInt32.random(in: 0...UInt32.max))", create: false) }
        do {
            _ = try PKCS11RootKey.open(
                modulePath: SoftHSMFixture.modulePath, tokenLabel: SoftHSMFixture.loginTestTokenLabel, pin: Array("9876-wrong".utf8),
                keyLabel: "x", createIfMissing: true)
            Issue.record("a wrong PIN must fail")
        } catch let error as KeyStoreError {
            #expect(error.code == .unavailable)
            #expect(!"\(error)".contains("9876"))
        }
        #expect(throws: KeyStoreError(.unavailable)) {
            try PKCS11RootKey.open(modulePath: "/nonexistent/libpkcs11.so", tokenLabel: "t", pin: [1], keyLabel: "x", createIfMissing: false)
        }
    }
}
