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
