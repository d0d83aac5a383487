// `coffer-store-torture`: writes to a key store as fast as it can and prints `ACK …` after each
// write returns, so a test can kill it (-9) at random moments and check that every acknowledged
// write survived and no half-applied one is visible. Not installed; used by CofferStoreTests.
//
//   coffer-store-torture sqlite PATH ROOT_KEY_FILE
//   coffer-store-torture postgres PORT DATABASE ROOT_KEY_FILE
#if canImport(Glibc)
import Glibc
#endif
import CofferCrypto
import CofferStore
import CofferStorePostgres
import CofferStoreSQLite
import PostgresNIO

func acknowledge(_ line: String) {
    print("ACK \(line)")
    fflush(nil)
}

let arguments = CommandLine.arguments
let backend: any KeyStoreBackend
let rootKeyPath: String
switch arguments.count > 1 ? arguments[1] : "" {
case "sqlite" where arguments.count == 4:
    backend = try await SQLiteKeyStoreBackend.open(path: arguments[2])
    rootKeyPath = arguments[3]
case "postgres" where arguments.count == 5:
    var configuration = PostgresClient.Configuration(
        host: "127.0.0.1", port: Int(arguments[2])!, username: "coffer", password: nil, database: arguments[3], tls: .disable)
    configuration.options.maximumConnections = 4
    backend = PostgresKeyStoreBackend(configuration: configuration)
    rootKeyPath = arguments[4]
default:
    print("usage: coffer-store-torture sqlite PATH ROOT_KEY_FILE | postgres PORT DATABASE ROOT_KEY_FILE")
    exit(64)
}

let rootKey = try RootKeyFile.loadOrCreate(at: rootKeyPath).key
let store = try await KeyStore.open(backend: backend, root: .key(rootKey))
var keys = try await store.listKeys(limit: 1000).keys.map(\.name)
print("READY \(keys.count)")
fflush(nil)
while true {
    let roll = Int.random(in: 0..<10)
    if keys.isEmpty || roll < 3 {
        let name = try KeyIdentifier("k-\(keys.count)-\(UInt32.random(in: 0...UInt32.max))")
        try await store.createKey(name, type: .aes256GCM)
        keys.append(name)
        acknowledge("create \(name)")
    } else if roll < 8 {
        let name = keys.randomElement()!
        let record = try await store.rotateKey(name)
        acknowledge("rotate \(name) \(record.latestVersion.rawValue)")
    } else {
        // Only ever active → disabled, so an acknowledged state cannot be legitimately undone
        // by a later write that was not acknowledged.
        let name = keys.randomElement()!
        let record = try await store.describeKey(name)
        guard record.primaryVersion.rawValue > 1 else { continue }
        let version = try KeyVersion(UInt32.random(in: 1..<record.primaryVersion.rawValue))
        try await store.setVersionState(name, version: version, to: .disabled)
        acknowledge("disable \(name) \(version.rawValue)")
    }
}
