import Foundation
import CofferCrypto
import CofferStore
import CofferStoreSQLite
import CofferStorePostgres
import PostgresNIO
import Testing

/// Every backend the conformance suite runs against. Each `makeDatabase()` is a fresh, empty
/// database that several ``KeyStoreBackend`` instances (nodes) can open at once.
enum StoreBackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var selected: [StoreBackendKind] {
        guard let names = ProcessInfo.processInfo.environment["COFFER_TEST_BACKENDS"] else { return allCases }
        return names.split(separator: ",").compactMap { StoreBackendKind(rawValue: String($0)) }
    }

    func makeDatabase() async throws -> TestDatabase {
        switch self {
        case .memory:
            return TestDatabase(kind: self, location: "", shared: InMemoryKeyStoreBackend())
        case .sqlite:
            let directory = try TemporaryDirectory()
            return TestDatabase(kind: self, location: directory.path("store.sqlite"), shared: nil, directory: directory)
        case .postgres:
            let name = try await PostgresTestCluster.shared.createDatabase()
            return TestDatabase(kind: self, location: name, shared: nil)
        }
    }
}

/// One test database; ``open()`` gives a new backend on it, as another node would.
final class TestDatabase: Sendable {
    let kind: StoreBackendKind
    let location: String
    let shared: InMemoryKeyStoreBackend?
    let directory: TemporaryDirectory?

    init(kind: StoreBackendKind, location: String, shared: InMemoryKeyStoreBackend?, directory: TemporaryDirectory? = nil) {
        self.kind = kind
        self.location = location
        self.shared = shared
        self.directory = directory
    }

    func open() async throws -> any KeyStoreBackend {
        switch kind {
        case .memory: return shared!
        case .sqlite: return try await SQLiteKeyStoreBackend.open(path: location)
        case .postgres: return PostgresKeyStoreBackend(configuration: PostgresTestCluster.shared.configuration(database: location))
        }
    }
}

/// A temporary directory removed when the value is freed.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-store-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = Lock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)

    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// A fast configuration for tests: cheap API-key hash and passphrase KDF (the defaults are slow
/// on purpose), and the test clock.
func testConfiguration(_ clock: TestClock? = nil, ttl: Duration = .seconds(10)) -> KeyStoreConfiguration {
    var configuration = KeyStoreConfiguration()
    configuration.apiKeyHash = .scrypt(logN: 10, r: 8, p: 1)
    configuration.passphraseKDF = .scrypt(logN: 15, r: 8, p: 1)
    configuration.cacheTTL = ttl
    if let clock { configuration.clock = { clock.now } }
    return configuration
}

func newRootKey() throws -> SoftwareRootKey {
    try SoftwareRootKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, kind: "key-file")
}

func name(_ text: String) -> KeyIdentifier { try! KeyIdentifier(text) }
