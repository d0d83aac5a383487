import Foundation
import CofferCrypto
import CofferService
import CofferStore
import Testing

@Suite("Key operations")
struct KeyOperationsTests {
    func operations() async throws -> KeyOperations {
        var configuration = KeyStoreConfiguration()
        configuration.apiKeyHash = .scrypt(logN: 10, r: 8, p: 1)
        let root = try SoftwareRootKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, kind: "key-file")
        let store = try await KeyStore.open(backend: InMemoryKeyStoreBackend(), root: .key(root), configuration: configuration)
        return KeyOperations(store: store)
    }

    func name(_ text: String) -> KeyIdentifier { try! KeyIdentifier(text) }

    @Test(arguments: [KeyType.aes256GCM, .chaCha20Poly1305, .aes256GCMSIV])
    func encryptDecryptAcrossRotationAndRewrap(_ type: KeyType) async throws {
        let ops = try await operations()
        try await ops.store.createKey(name("app"), type: type)
        let context: EncryptionContext = ["tenant": "42"]
        let plaintext = Array("card 4111 1111 1111 1111".utf8)
        let sealed = try await ops.encrypt(key: name("app"), plaintext: plaintext, context: context)
        #expect(sealed.keyReference == (try KeyReference("app", version: 1)))
        #expect(sealed.algorithm.rawValue == ["aes256-gcm": 1, "chacha20-poly1305": 2, "aes256-gcm-siv": 3][type.rawValue])
        try await ops.store.rotateKey(name("app"))
        // Self-describing: no version from the caller.
        let opened = try await ops.decrypt(sealed, context: context)
        #expect(opened.plaintext == plaintext && opened.key.version.rawValue == 1)
        await #expect(throws: OperationError(.decryptionFailed)) { try await ops.decrypt(sealed, context: ["tenant": "43"]) }
        await #expect(throws: OperationError(.decryptionFailed)) { try await ops.rewrap(sealed, context: .empty) }
        let rewrapped = try await ops.rewrap(sealed, context: context)
        #expect(rewrapped.keyReference?.version.rawValue == 2)
        #expect(try await ops.decrypt(rewrapped, context: context).plaintext == plaintext)
        // Rewrapping what is already under the primary changes nothing.
        #expect(try await ops.rewrap(rewrapped, context: context).bytes == rewrapped.bytes)
        // Disable v1: the old ciphertext is refused as unavailable, the rewrapped one still opens.
        try await ops.store.setVersionState(name("app"), version: .first, to: .disabled)
        await #expect(throws: KeyStoreError(.versionUnavailable)) { try await ops.decrypt(sealed, context: context) }
        #expect(try await ops.decrypt(rewrapped, context: context).plaintext == plaintext)
    }

    @Test func unknownKeysAndTamperingLookTheSame() async throws {
        let ops = try await operations()
        try await ops.store.createKey(name("app"), type: .aes256GCM)
        let sealed = try await ops.encrypt(key: name("app"), plaintext: [1, 2, 3])
        var bytes = sealed.bytes
        bytes[bytes.count - 1] ^= 1
        await #expect(throws: OperationError(.decryptionFailed)) { try await ops.decrypt(try Envelope(bytes: bytes)) }
        // The same envelope under a name that does not exist, or a version that does not.
        let other = try await operations()
        await #expect(throws: OperationError(.decryptionFailed)) { try await other.decrypt(sealed) }
        try await other.store.createKey(name("app"), type: .aes256GCM)
        await #expect(throws: OperationError(.decryptionFailed)) { try await other.decrypt(sealed) }
        await #expect(throws: KeyStoreError(.keyNotFound)) { try await ops.encrypt(key: name("missing"), plaintext: [1]) }
        await #expect(throws: OperationError(.payloadTooLarge)) {
            try await ops.encrypt(key: name("app"), plaintext: [UInt8](repeating: 0, count: (1 << 20) + 1))
        }
    }

    @Test func dataKeysHMACAndSignatures() async throws {
        let ops = try await operations()
        try await ops.store.createKey(name("wrap"), type: .aes256GCM)
        let (plain, sealedKey) = try await ops.generateDataKey(key: name("wrap"), context: ["db": "orders"], includePlaintext: true)
        let unwrapped = try await ops.decrypt(sealedKey, context: ["db": "orders"]).plaintext
        #expect(plain.map { $0 == KeyMaterial(unwrapped) } == true && unwrapped.count == 32)
        #expect(try await ops.generateDataKey(key: name("wrap"), includePlaintext: false).plaintext == nil)

        try await ops.store.createKey(name("mac"), type: .hmacSHA256)
        let (mac, version) = try await ops.hmac(key: name("mac"), message: [1, 2, 3])
        try await ops.store.rotateKey(name("mac"))
        #expect(try await ops.verifyHMAC(key: name("mac"), version: version, message: [1, 2, 3], mac: mac))
        #expect(try await !ops.verifyHMAC(key: name("mac"), version: version, message: [1, 2, 4], mac: mac))
        await #expect(throws: OperationError(.wrongKeyType)) { try await ops.hmac(key: name("wrap"), message: [1]) }
        await #expect(throws: OperationError(.wrongKeyType)) { try await ops.encrypt(key: name("mac"), plaintext: [1]) }

        for type in [KeyType.ed25519, .ecdsaP256] {
            let key = name("sig-\(type.rawValue)")
            try await ops.store.createKey(key, type: type)
            let (signature, signedBy) = try await ops.sign(key: key, message: Array("release 1.0".utf8))
            #expect(try await ops.verify(key: key, version: signedBy, message: Array("release 1.0".utf8), signature: signature))
            #expect(try await !ops.verify(key: key, version: signedBy, message: Array("release 1.1".utf8), signature: signature))
            #expect(try await !ops.verify(key: key, version: signedBy, message: Array("release 1.0".utf8), signature: [0x30, 0x00]))
        }
        await #expect(throws: OperationError(.wrongKeyType)) { try await ops.sign(key: name("wrap"), message: [1]) }
        #expect(try KeyOperations.randomBytes(48).count == 48)
        #expect(try KeyOperations.randomBytes(48) != KeyOperations.randomBytes(48))
        #expect(throws: OperationError(.invalidRequest)) { try KeyOperations.randomBytes(0) }
    }
}
