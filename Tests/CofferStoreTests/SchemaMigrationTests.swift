import Foundation
import CofferStore
import CofferStorePostgres
import CofferStoreSQLite
import PostgresNIO
import SQLiteNIO
import Testing

/// Migrations run at open, once, and a database from a newer Coffer is refused, not rewritten.
@Suite("Schema migrations")
struct SchemaMigrationTests {
    /// The admin commands' "is there a store here?" creates nothing in a database that has none
    /// (a mistyped `--postgres` or data directory), and says yes only after a store was opened.
    @Test(arguments: StoreBackendKind.allCases)
    func checkingForAStoreCreatesNothing(kind: StoreBackendKind) async throws {
        let database = try await kind.makeDatabase()
        let backend = try await database.open()
        #expect(try await !backend.hasSchema())
        #expect(try await !KeyStore.isInitialised(backend))
        #expect(try await !backend.hasSchema())
        switch kind {
        case .memory: break
        case .sqlite:
            let connection = try await SQLiteConnection.open(storage: .file(path: database.location))
            #expect(try await connection.query("SELECT name FROM sqlite_master WHERE type = 'table'").isEmpty)
            try await connection.close()
        case .postgres:
            let client = PostgresClient(configuration: PostgresTestCluster.shared.configuration(database: database.location))
            let running = Task { await client.run() }
            defer { running.cancel() }
            var tables: [String] = []
            for try await name in try await client.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").decode(String.self) {
                tables.append(name)
            }
            #expect(tables.isEmpty)
        }
        if kind != .memory { try await backend.close() }
        let store = try await KeyStore.open(backend: try await database.open(), root: .key(try newRootKey()), configuration: testConfiguration())
        try await store.close()
        let reopened = try await database.open()
        #expect(try await reopened.hasSchema())
        #expect(try await KeyStore.isInitialised(reopened))
        if kind != .memory { try await reopened.close() }
    }

    @Test func sqliteMigratesOnceAndRefusesANewerSchema() async throws {
        let database = try await StoreBackendKind.sqlite.makeDatabase()
        let root = try newRootKey()
        for _ in 0..<2 {
            let store = try await KeyStore.open(backend: try await database.open(), root: .key(root), configuration: testConfiguration())
            try await store.close()
        }
        let connection = try await SQLiteConnection.open(storage: .file(path: database.location))
        #expect(try await connection.query("SELECT version FROM schema_migrations").map { $0.column("version")?.integer } == [1])
        _ = try await connection.query("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)")
        try await connection.close()
        await #expect(throws: KeyStoreError(.unsupportedSchema)) {
            try await KeyStore.open(backend: try await database.open(), root: .key(root))
        }
    }

    @Test func postgresMigratesOnceUnderConcurrentStartsAndRefusesANewerSchema() async throws {
        let database = try await StoreBackendKind.postgres.makeDatabase()
        let root = try newRootKey()
        // Four nodes starting at once: one applies the migration, one initialises the store.
        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let store = try await KeyStore.open(backend: try await database.open(), root: .key(root), configuration: testConfiguration())
                    defer { Task { try? await store.close() } }
                    return store.storeID?.hex
                }
            }
            return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(ids.count == 1 && ids.first! != nil)
        let client = PostgresClient(configuration: PostgresTestCluster.shared.configuration(database: database.location))
        let running = Task { await client.run() }
        defer { running.cancel() }
        var versions: [Int64] = []
        for try await version in try await client.query("SELECT version FROM coffer_schema_migrations").decode(Int64.self) { versions.append(version) }
        #expect(versions == [1])
        try await client.query("INSERT INTO coffer_schema_migrations (version) VALUES (99)")
        await #expect(throws: KeyStoreError(.unsupportedSchema)) {
            try await KeyStore.open(backend: try await database.open(), root: .key(root))
        }
    }
}
