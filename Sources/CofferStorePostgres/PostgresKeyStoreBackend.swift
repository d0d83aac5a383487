import CofferStore
import Logging
import NIOCore
import PostgresNIO

/// The ``KeyStoreBackend`` for several Coffer nodes sharing one PostgreSQL database.
///
/// - Transactions run at READ COMMITTED; a read with `forUpdate` is `SELECT … FOR UPDATE`, so
///   two nodes rotating one key queue on its row and the second sees the first's version.
///   Inserts are `ON CONFLICT DO NOTHING`, so a duplicate key or version number is reported, never
///   written. Serialization failures and deadlocks become ``KeyStoreError/Code/conflict``, which
///   the store retries.
/// - `announceChange` is `pg_notify('coffer_keys', name)`, delivered to every listening node when
///   the transaction commits; ``keyChanges()`` listens on one dedicated connection and, after a
///   reconnect (notifications may have been missed), yields `""` for "evict everything".
/// - Migrations run under a transaction-scoped advisory lock, so nodes starting together apply
///   each migration once.
public final class PostgresKeyStoreBackend: KeyStoreBackend {
    static let channel = "coffer_keys"
    static let migrationLock: Int64 = 0x636F_6666_6572_0001  // "coffer" + 1
    static let migrations: [[String]] = [
        [
            "CREATE TABLE coffer_records (kind TEXT NOT NULL, id TEXT COLLATE \"C\" NOT NULL, body BYTEA NOT NULL, PRIMARY KEY (kind, id))",
            "CREATE TABLE coffer_key_versions (name TEXT COLLATE \"C\" NOT NULL, version BIGINT NOT NULL, body BYTEA NOT NULL, PRIMARY KEY (name, version))",
        ]
    ]

    let client: PostgresClient
    let logger: Logger
    private let runTask: Task<Void, Never>

    /// Connects with `configuration` (a pool; connections open on demand).
    public init(configuration: PostgresClient.Configuration, logger: Logger = Logger(label: "coffer.store.postgres")) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        // `Task.immediate`: `run()` starts on this thread before `init` returns, so the first
        // query never finds the client not yet running (postgres-nio warns, once per backend,
        // when a connection is leased before `run()` began).
        self.runTask = Task.immediate { await client.run() }
    }

    public func migrate() async throws {
        try await transaction { tx in
            let connection = (tx as! Transaction).connection
            try await Self.run(connection, "SELECT pg_advisory_xact_lock(\(Self.migrationLock))", self.logger)
            try await Self.run(connection, "CREATE TABLE IF NOT EXISTS coffer_schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", self.logger)
            var applied: Int64 = 0
            let rows = try await Self.query(connection, "SELECT COALESCE(MAX(version), 0) FROM coffer_schema_migrations", self.logger)
            for try await value in rows.decode(Int64.self) { applied = value }
            guard applied <= Int64(Self.migrations.count) else { throw KeyStoreError(.unsupportedSchema, detail: "schema \(applied)") }
            for (index, statements) in Self.migrations.enumerated() where Int64(index + 1) > applied {
                for statement in statements { try await Self.run(connection, PostgresQuery(unsafeSQL: statement), self.logger) }
                try await Self.run(connection, "INSERT INTO coffer_schema_migrations (version) VALUES (\(Int64(index + 1)))", self.logger)
            }
        }
    }

    public func hasSchema() async throws -> Bool {
        try await transaction { tx in
            let connection = (tx as! Transaction).connection
            // In the schema `migrate` creates its tables in (the first of the search path), not
            // anywhere on the path; `to_regclass` is NULL, not an error, when there is none.
            var present = false
            let rows = try await Self.query(
                connection, "SELECT to_regclass(format('%I.coffer_schema_migrations', current_schema())) IS NOT NULL", self.logger)
            for try await value in rows.decode(Bool.self) { present = value }
            return present
        }
    }

    public func transaction<R: Sendable>(_ body: @Sendable (any KeyStoreTransaction) async throws -> R) async throws -> R {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(Transaction(connection: connection, logger: logger))
            }
        } catch let error as PostgresTransactionError {
            throw Self.translate(error.closureError ?? error.beginError ?? error.commitError ?? error)
        } catch {
            throw Self.translate(error)
        }
    }

    public func keyChanges() -> AsyncStream<String>? {
        let client = self.client, logger = self.logger
        return AsyncStream { continuation in
            let task = Task {
                var first = true
                while !Task.isCancelled {
                    do {
                        try await client.withConnection { connection in
                            try await connection.listen(on: Self.channel) { notifications in
                                if !first { continuation.yield("") }
                                first = false
                                for try await notification in notifications { continuation.yield(notification.payload) }
                            }
                        }
                    } catch {
                        logger.warning("key change listener lost its connection; retrying", metadata: ["error": "\(String(describing: type(of: error)))"])
                    }
                    first = false
                    continuation.yield("")
                    try? await Task.sleep(for: .milliseconds(500))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func close() async throws {
        runTask.cancel()
    }

    static func translate(_ error: any Error) -> any Error {
        if error is KeyStoreError { return error }
        if let psql = error as? PSQLError, let state = psql.serverInfo?[.sqlState] {
            switch state {
            case "40001", "40P01", "23505": return KeyStoreError(.conflict, detail: "postgres \(state)")
            default: return KeyStoreError(.unavailable, detail: "postgres \(state)")
            }
        }
        return KeyStoreError(.unavailable, detail: "postgres connection")
    }

    @discardableResult
    static func query(_ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger) async throws -> PostgresRowSequence {
        try await connection.query(query, logger: logger)
    }

    static func run(_ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger) async throws {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows {}
    }

    struct Transaction: KeyStoreTransaction {
        let connection: PostgresConnection
        let logger: Logger

        private func bodies(_ query: PostgresQuery) async throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            for try await var buffer in try await connection.query(query, logger: logger).decode(ByteBuffer.self) {
                out.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
            }
            return out
        }

        private func count(_ query: PostgresQuery) async throws -> Int {
            var count = 0
            for try await _ in try await connection.query(query, logger: logger) { count += 1 }
            return count
        }

        func record(_ kind: RecordKind, _ id: String, forUpdate: Bool) async throws -> [UInt8]? {
            forUpdate
                ? try await bodies("SELECT body FROM coffer_records WHERE kind = \(kind.rawValue) AND id = \(id) FOR UPDATE").first
                : try await bodies("SELECT body FROM coffer_records WHERE kind = \(kind.rawValue) AND id = \(id)").first
        }

        func recordSharingLock(_ kind: RecordKind, _ id: String) async throws -> [UInt8]? {
            try await bodies("SELECT body FROM coffer_records WHERE kind = \(kind.rawValue) AND id = \(id) FOR SHARE").first
        }

        func insertRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws -> Bool {
            try await count("INSERT INTO coffer_records (kind, id, body) VALUES (\(kind.rawValue), \(id), \(ByteBuffer(bytes: body))) ON CONFLICT DO NOTHING RETURNING 1") == 1
        }

        func updateRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws {
            try await PostgresKeyStoreBackend.run(connection, "UPDATE coffer_records SET body = \(ByteBuffer(bytes: body)) WHERE kind = \(kind.rawValue) AND id = \(id)", logger)
        }

        func deleteRecord(_ kind: RecordKind, _ id: String) async throws {
            try await PostgresKeyStoreBackend.run(connection, "DELETE FROM coffer_records WHERE kind = \(kind.rawValue) AND id = \(id)", logger)
        }

        func records(_ kind: RecordKind, prefix: String, after: String?, limit: Int) async throws -> [StoredRow] {
            // The id column uses the "C" collation: byte order, as the port asks.
            let rows = try await connection.query(
                "SELECT id, body FROM coffer_records WHERE kind = \(kind.rawValue) AND left(id, length(\(prefix))) = \(prefix) AND (\(after)::text IS NULL OR id > \(after)) ORDER BY id LIMIT \(Int64(limit))",
                logger: logger)
            var out: [StoredRow] = []
            for try await (id, body) in rows.decode((String, ByteBuffer).self) {
                var body = body
                out.append(StoredRow(id: id, body: body.readBytes(length: body.readableBytes) ?? []))
            }
            return out
        }

        func version(_ key: String, _ version: UInt32) async throws -> [UInt8]? {
            try await bodies("SELECT body FROM coffer_key_versions WHERE name = \(key) AND version = \(Int64(version))").first
        }

        func versions(_ key: String) async throws -> [StoredVersionRow] {
            try await versionRows("SELECT name, version, body FROM coffer_key_versions WHERE name = \(key) ORDER BY version")
        }

        func insertVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws -> Bool {
            try await count("INSERT INTO coffer_key_versions (name, version, body) VALUES (\(key), \(Int64(version)), \(ByteBuffer(bytes: body))) ON CONFLICT DO NOTHING RETURNING 1") == 1
        }

        func updateVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws {
            try await PostgresKeyStoreBackend.run(connection, "UPDATE coffer_key_versions SET body = \(ByteBuffer(bytes: body)) WHERE name = \(key) AND version = \(Int64(version))", logger)
        }

        func deleteVersions(_ key: String) async throws {
            try await PostgresKeyStoreBackend.run(connection, "DELETE FROM coffer_key_versions WHERE name = \(key)", logger)
        }

        func allVersions(after: (key: String, version: UInt32)?, limit: Int) async throws -> [StoredVersionRow] {
            let afterKey = after?.key
            let afterVersion = Int64(after?.version ?? 0)
            return try await versionRows(
                "SELECT name, version, body FROM coffer_key_versions WHERE \(afterKey)::text IS NULL OR (name, version) > (\(afterKey), \(afterVersion)) ORDER BY name, version LIMIT \(Int64(limit))")
        }

        func announceChange(of key: String) async throws {
            try await PostgresKeyStoreBackend.run(connection, "SELECT pg_notify(\(PostgresKeyStoreBackend.channel), \(key))", logger)
        }

        private func versionRows(_ query: PostgresQuery) async throws -> [StoredVersionRow] {
            var out: [StoredVersionRow] = []
            for try await (name, version, body) in try await connection.query(query, logger: logger).decode((String, Int64, ByteBuffer).self) {
                guard let v = UInt32(exactly: version) else { throw KeyStoreError(.integrityFailure, detail: "invalid version row") }
                var body = body
                out.append(StoredVersionRow(key: name, version: v, body: body.readBytes(length: body.readableBytes) ?? []))
            }
            return out
        }
    }
}
