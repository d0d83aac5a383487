import Foundation
import CofferCrypto
@testable import CofferStore
import Testing

@Suite("Key store model")
struct StoreModelTests {
    @Test func labelsAreLowerCaseAndBounded() throws {
        for good in ["confidential", "team:payments", "pci-dss.v4", "a", String(repeating: "x", count: 64)] { _ = try KeyLabel(good) }
        for bad in ["", "Confidential", "-leading", "has space", "emoji🔑", String(repeating: "x", count: 65), "semi;colon"] {
            #expect(throws: KeyStoreError(.invalidArgument)) { try KeyLabel(bad) }
        }
    }

    @Test func keyTypesParseAndRejectUnknownSpellings() throws {
        for type in KeyType.allCases { #expect(try KeyType(validating: type.rawValue) == type) }
        #expect(throws: KeyStoreError(.invalidArgument)) { try KeyType(validating: "aes128-gcm") }
        #expect(KeyType.allCases.count == 11)
    }

    @Test(arguments: KeyType.allCases.filter { $0 != .rsa3072 && $0 != .rsa4096 })
    func importedMaterialMustFitItsType(_ type: KeyType) async throws {
        let generated = try type.generateMaterial()
        try type.validate(generated)
        #expect(throws: KeyStoreError(.invalidKeyMaterial)) { try type.validate(KeyMaterial([UInt8](repeating: 7, count: 3))) }
        let store = try await KeyStore.open(backend: InMemoryKeyStoreBackend(), root: .key(try newRootKey()), configuration: testConfiguration())
        try await store.importKey(name("imported"), type: type, material: generated)
        #expect(try await store.primaryVersion(of: name("imported")).material == generated)
        await #expect(throws: KeyStoreError(.invalidKeyMaterial)) {
            try await store.importKey(name("bad"), type: type, material: KeyMaterial([UInt8](repeating: 1, count: 31)))
        }
    }

    @Test func secretsNeverPrint() throws {
        let material = KeyMaterial([UInt8](repeating: 0x41, count: 32))
        let (secret, text) = APIKeySecret.generate()
        for printed in ["\(material)", String(reflecting: material), "\(secret)", String(reflecting: secret)] {
            #expect(!printed.contains("AAAA") && !printed.contains(String(text.suffix(20))))
        }
        var dumped = ""
        dump(material, to: &dumped)
        #expect(!dumped.contains("65"))
        let root = try newRootKey()
        #expect("\(root)".contains(root.id.hex))
    }

    @Test func apiKeyTextRoundTripsAndRejectsLookAlikes() throws {
        let (secret, text) = APIKeySecret.generate()
        #expect(text.count == 70 && text.hasPrefix("coffer-ak-"))
        #expect(APIKeySecret(text: text)?.identityID == secret.identityID)
        for bad in ["", text + "x", String(text.dropLast()), text.replacingOccurrences(of: "coffer-ak-", with: "coffer-xx-"),
                    text.uppercased(), text.replacingOccurrences(of: ".", with: "_")] {
            #expect(APIKeySecret(text: bad) == nil)
        }
    }

    @Test func policiesDenyWinsAndDefaultIsDeny() throws {
        let policy = try Policy(name: "app", statements: [
            try PolicyStatement(effect: .allow, operations: ["encrypt", "decrypt", "key.*"], keys: ["app-*"]),
            try PolicyStatement(effect: .deny, operations: ["key.delete"], keys: ["*"]),
            try PolicyStatement(effect: .deny, operations: ["*"], keys: ["*"], labels: [try KeyLabel("restricted")]),
            try PolicyStatement(effect: .allow, operations: ["random"], keys: ["*"]),
        ])
        #expect(policy.allows("encrypt", keyName: "app-orders"))
        #expect(policy.allows("key.rotate", keyName: "app-orders"))
        #expect(!policy.allows("key.delete", keyName: "app-orders"))
        #expect(!policy.allows("encrypt", keyName: "other"))
        #expect(!policy.allows("sign", keyName: "app-orders"))
        #expect(!policy.allows("encrypt", keyName: "app-orders", labels: [try KeyLabel("restricted")]))
        #expect(policy.allows("encrypt", keyName: "app-orders", labels: [try KeyLabel("public")]))
        #expect(policy.allows("random", keyName: nil))
        #expect(!policy.allows("key.list", keyName: nil))
        #expect(throws: KeyStoreError(.invalidArgument)) { try PolicyStatement(effect: .allow, operations: [], keys: ["*"]) }
        #expect(throws: KeyStoreError(.invalidArgument)) { try Policy(name: "bad name", statements: []) }
    }

    @Test(arguments: [
        ("*", "anything", true), ("app-*", "app-", true), ("app-*", "ap", false), ("*-db", "orders-db", true),
        ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false), ("exact", "exact", true), ("exact", "exactly", false),
        ("**", "", true), ("*a", String(repeating: "b", count: 200), false),
    ])
    func globMatching(_ pattern: String, _ text: String, _ expected: Bool) {
        #expect(Glob.matches(pattern, text) == expected)
    }

    private actor LoadCounter {
        var count = 0
        func increment() { count += 1 }
    }

    /// When an entry is missing, concurrent requests wait for one read of the store; a request
    /// that misses after an eviction (a rotation, a peer's notification) does not join a read
    /// that began before it, and that older read is not cached over the newer one.
    @Test func concurrentMissesShareOneLoadAndAnEvictionStartsAFreshOne() async throws {
        let cache = KeyCache(capacity: 10, ttl: .seconds(600))
        let now = Date()
        let material = KeyMaterial([UInt8](repeating: 1, count: 32))
        let loads = LoadCounter()
        try await withThrowingTaskGroup(of: KeyVersionState.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await cache.version("k", 1, now: now) {
                        await loads.increment()
                        try await Task.sleep(for: .milliseconds(300))
                        return .init(material: material, state: .active)
                    }.state
                }
            }
            for try await state in group { #expect(state == .active) }
        }
        let firstLoads = await loads.count
        #expect(firstLoads == 1)
        #expect(cache.version("k", 1, now: now)?.state == .active)

        cache.evict("k")
        let stale = Task {
            try await cache.version("k", 1, now: now) {
                await loads.increment()
                try await Task.sleep(for: .milliseconds(500))
                return .init(material: material, state: .disabled)
            }.state
        }
        while await loads.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        cache.evict("k")  // a change committed while that read was under way
        let fresh = try await cache.version("k", 1, now: now) {
            await loads.increment()
            return .init(material: material, state: .active)
        }
        let loadCount = await loads.count
        #expect(fresh.state == .active && loadCount == 3)
        #expect(try await stale.value == .disabled)  // its own caller still gets what it read…
        #expect(cache.version("k", 1, now: now)?.state == .active)  // …but it was not cached

        // Evicting another key does not stop a load from being shared and cached; evicting
        // everything does.
        cache.evict("k")
        let other = Task {
            try await cache.version("k", 1, now: now) {
                await loads.increment()
                try await Task.sleep(for: .milliseconds(300))
                return .init(material: material, state: .decryptOnly)
            }.state
        }
        while await loads.count < 4 { try await Task.sleep(for: .milliseconds(5)) }
        cache.evict("another-key")
        let joined = try await cache.version("k", 1, now: now) { await loads.increment(); return .init(material: material, state: .active) }
        let afterJoin = await loads.count, otherState = try await other.value
        #expect(joined.state == .decryptOnly && afterJoin == 4 && otherState == .decryptOnly)
        #expect(cache.version("k", 1, now: now)?.state == .decryptOnly)
        cache.evictAll()
        #expect(cache.version("k", 1, now: now) == nil)
    }

    @Test func cacheIsBoundedAndExpires() throws {
        let cache = KeyCache(capacity: 100, ttl: .seconds(5))
        let start = Date(timeIntervalSince1970: 1_000_000)
        let material = KeyMaterial([UInt8](repeating: 1, count: 32))
        for index in 0..<250 { cache.store("k\(index)", 1, .init(material: material, state: .active), now: start) }
        var held = 0
        for index in 0..<250 where cache.version("k\(index)", 1, now: start) != nil { held += 1 }
        #expect(held <= 100 && held >= 50)
        // The most recent entries survive eviction.
        #expect(cache.version("k249", 1, now: start) != nil)
        #expect(cache.version("k249", 1, now: start.addingTimeInterval(4.9)) != nil)
        #expect(cache.version("k249", 1, now: start.addingTimeInterval(5.1)) == nil)
        cache.evict("k248")
        #expect(cache.version("k248", 1, now: start) == nil)
        let disabled = KeyCache(capacity: 0, ttl: .seconds(5))
        disabled.store("k", 1, .init(material: material, state: .active), now: start)
        #expect(disabled.version("k", 1, now: start) == nil)
    }

    @Test func sealedMaterialLayoutIsValidated() throws {
        #expect(throws: KeyStoreError(.integrityFailure)) { try SealedKeyMaterial(bytes: []) }
        #expect(throws: KeyStoreError(.integrityFailure)) { try SealedKeyMaterial(bytes: [2] + [UInt8](repeating: 0, count: 60)) }
        let root = try newRootKey()
        let storeID = StoreID(bytes: [UInt8](repeating: 9, count: 16))!
        let incarnation = [UInt8](repeating: 5, count: 16)
        let context = SealingContext.keyMaterial(storeID: storeID, key: "k", version: 1, type: "aes256-gcm", incarnation: incarnation)
        let material = KeyMaterial([UInt8](repeating: 3, count: 32))
        let sealed = try root.seal(material, context: context)
        #expect(sealed.bytes.count == 1 + 1 + 16 + 12 + 32 + 16 && sealed.scheme == 1 && sealed.rootKeyID == root.id)
        #expect(try root.unseal(sealed, context: context) == material)
        // Same material sealed twice: different nonces, different bytes.
        #expect(try root.seal(material, context: context).bytes != sealed.bytes)
        for other in [
            SealingContext.keyMaterial(storeID: storeID, key: "k", version: 2, type: "aes256-gcm", incarnation: incarnation),
            SealingContext.keyMaterial(storeID: storeID, key: "k2", version: 1, type: "aes256-gcm", incarnation: incarnation),
            SealingContext.keyMaterial(storeID: storeID, key: "k", version: 1, type: "hmac-sha256", incarnation: incarnation),
            SealingContext.keyMaterial(storeID: StoreID(bytes: [UInt8](repeating: 8, count: 16))!, key: "k", version: 1, type: "aes256-gcm", incarnation: incarnation),
            // Another incarnation of the key (purged, then created again), or none.
            SealingContext.keyMaterial(storeID: storeID, key: "k", version: 1, type: "aes256-gcm", incarnation: [UInt8](repeating: 6, count: 16)),
            SealingContext.keyMaterial(storeID: storeID, key: "k", version: 1, type: "aes256-gcm", incarnation: nil),
        ] {
            #expect(throws: KeyStoreError(.integrityFailure)) { try root.unseal(sealed, context: other) }
        }
        #expect(throws: KeyStoreError(.integrityFailure)) { try newRootKey().unseal(sealed, context: context) }
        var flipped = sealed.bytes
        flipped[flipped.count - 1] ^= 1
        #expect(throws: KeyStoreError(.integrityFailure)) { try root.unseal(try SealedKeyMaterial(bytes: flipped), context: context) }
    }

    /// The associated data docs/FORMAT.md ("Sealed key material") specifies, byte for byte.
    @Test func keyMaterialContextIsTheSpecifiedBytes() {
        let storeID = StoreID(bytes: [UInt8](repeating: 9, count: 16))!
        let incarnation = (0..<16).map { UInt8($0) }
        let prefix = Array("coffer-store/v1/".utf8)
        #expect(SealingContext.keyMaterial(storeID: storeID, key: "k", version: 258, type: "aes256-gcm", incarnation: incarnation).bytes
            == prefix + Array("key-material-v2".utf8) + [0] + storeID.bytes + [0, 1] + Array("k".utf8) + [0, 16] + incarnation
            + [0, 10] + Array("aes256-gcm".utf8) + [0, 0, 1, 2])
        #expect(SealingContext.keyMaterial(storeID: storeID, key: "k", version: 258, type: "aes256-gcm", incarnation: nil).bytes
            == prefix + Array("key-material".utf8) + [0] + storeID.bytes + [0, 1] + Array("k".utf8)
            + [0, 10] + Array("aes256-gcm".utf8) + [0, 0, 1, 2])
    }

    @Test func rootKeyFileIsCreatedOnceWithMode0600() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("root.key")
        let (created, wasCreated, permissive) = try RootKeyFile.loadOrCreate(at: path)
        #expect(wasCreated && !permissive)
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("COFFER-ROOT-KEY-") && text.hasSuffix("\n"))
        let (again, createdAgain, _) = try RootKeyFile.loadOrCreate(at: path)
        #expect(!createdAgain && again.id == created.id)
        chmod(path, 0o644)
        #expect(try RootKeyFile.load(at: path).permissive)
        // A typo is caught by the checksum, and the message does not echo the file.
        var typo = Array(text.utf8)
        typo[20] = typo[20] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(typo).write(to: URL(fileURLWithPath: path))
        do {
            _ = try RootKeyFile.load(at: path)
            Issue.record("a corrupted key file must not load")
        } catch let error as KeyStoreError {
            #expect(error.code == .invalidArgument && !"\(error)".contains(String(text.dropFirst(16).prefix(10))))
        }
        #expect(throws: KeyStoreError(.unavailable)) { try RootKeyFile.load(at: directory.path("missing.key")) }
    }
}
