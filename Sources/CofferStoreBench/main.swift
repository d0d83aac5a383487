// coffer-store-bench: the key store's hot paths on every backend, in one run.
//
//   swift run -c release coffer-store-bench [--postgres-port N] [--versions N] [--writes N]
//
// Rows: cached key lookups (ops/s), create and rotate (ops/s, durable: SQLite fsyncs each
// transaction, PostgreSQL runs with fsync on), and start-up: opening a store of N versions and
// unsealing all of them into the cache. bench/store_bench.sh starts a throwaway PostgreSQL and
// runs this. Progress goes to stderr, the table to stdout; see docs/PERFORMANCE.md.
import CofferCrypto
import CofferStore
import CofferStorePostgres
import CofferStoreSQLite
import Foundation
import PostgresNIO

var postgresPort: Int?
var versionCount = 10_000
var writes = 500
var iterator = CommandLine.arguments.dropFirst().makeIterator()
while let argument = iterator.next() {
    switch argument {
    case "--postgres-port": postgresPort = Int(iterator.next() ?? "")
    case "--versions": versionCount = Int(iterator.next() ?? "") ?? versionCount
    case "--writes": writes = Int(iterator.next() ?? "") ?? writes
    default:
        FileHandle.standardError.write(Data("usage: coffer-store-bench [--postgres-port N] [--versions N] [--writes N]\n".utf8))
        exit(2)
    }
}

func progress(_ message: String) { FileHandle.standardError.write(Data("… \(message)\n".utf8)) }

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-store-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let rootKey = try SoftwareRootKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, kind: "key-file")

/// A backend kind: `newDatabase()` makes an empty database and returns how to open it (again).
struct Backend {
    let name: String
    let newDatabase: () async throws -> (@Sendable () async throws -> any KeyStoreBackend)
}
var backends = [Backend(name: "memory", newDatabase: {
    let shared = InMemoryKeyStoreBackend()
    return { shared }
})]
var sqliteFile = 0
backends.append(Backend(name: "sqlite", newDatabase: {
    sqliteFile += 1
    let path = directory.appendingPathComponent("store-\(sqliteFile).sqlite").path
    return { try await SQLiteKeyStoreBackend.open(path: path) }
}))
if let postgresPort {
    var databaseIndex = 0
    backends.append(Backend(name: "postgres", newDatabase: {
        databaseIndex += 1
        let database = "coffer_bench_\(getpid())_\(databaseIndex)"
        let admin = PostgresClient(configuration: .init(host: "127.0.0.1", port: postgresPort, username: "coffer", password: nil, database: "postgres", tls: .disable))
        let running = Task { await admin.run() }
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
        running.cancel()
        return {
            PostgresKeyStoreBackend(configuration: .init(host: "127.0.0.1", port: postgresPort, username: "coffer", password: nil, database: database, tls: .disable))
        }
    }))
} else {
    progress("no --postgres-port: PostgreSQL rows skipped (bench/store_bench.sh starts one)")
}

print("coffer-store-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(writes) writes, \(versionCount) versions at start-up")
print("backend   | lookup ops/s (cached) | create ops/s | rotate ops/s | start-up: open + unseal \(versionCount) versions")
for backend in backends {
    progress("\(backend.name): create")
    let store = try await KeyStore.open(backend: try await backend.newDatabase()(), root: .key(rootKey))
    let names = try (0..<writes).map { try KeyIdentifier("bench-\($0)") }
    let create = await Double(writes) / (try seconds { for name in names { try await store.createKey(name, type: .aes256GCM) } })
    progress("\(backend.name): rotate")
    let rotate = await Double(writes) / (try seconds { for name in names { try await store.rotateKey(name) } })
    progress("\(backend.name): cached lookups")
    let lookups = 200_000
    for name in names.prefix(100) { _ = try await store.primaryVersion(of: name) }
    // On the cooperative pool, as a server handler runs (top-level code is on the main actor,
    // and hopping off it and back for every call would be what this measured).
    let lookup = try await Task.detached {
        await Double(lookups) / (try seconds {
            for index in 0..<lookups { _ = try await store.primaryVersion(of: names[index % 100]) }
        })
    }.value
    try await store.close()

    // Start-up: a store of `versionCount` versions (restored in one transaction from a backup
    // made in memory, so populating it does not dominate the run), opened and fully unsealed.
    progress("\(backend.name): populating \(versionCount) versions")
    let source = try await KeyStore.open(backend: InMemoryKeyStoreBackend(), root: .key(rootKey))
    for index in 0..<(versionCount / 10) {
        let name = try KeyIdentifier("warm-\(index)")
        try await source.createKey(name, type: .aes256GCM)
        for _ in 1..<10 { try await source.rotateKey(name) }
    }
    let open = try await backend.newDatabase()
    let target = try await open()
    try await KeyStore.restoreBackup(try await source.backup(), into: target)
    if backend.name != "memory" { try await target.close() }
    progress("\(backend.name): start-up")
    var unsealed = 0
    let startup = try await seconds {
        let warm = try await KeyStore.open(backend: try await open(), root: .key(rootKey))
        unsealed = try await warm.preloadCache()
        try await warm.close()
    }
    precondition(unsealed == versionCount, "unsealed \(unsealed)")
    print(backend.name.padding(toLength: 9, withPad: " ", startingAt: 0)
    + String(format: " | %21.0f | %12.0f | %12.0f | %.3f s", lookup, create, rotate, startup))
}

