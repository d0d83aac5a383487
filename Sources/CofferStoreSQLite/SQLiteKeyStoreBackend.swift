import CofferStore
import NIOCore
import NIOPosix
import SQLiteNIO

/// The embedded default ``KeyStoreBackend``: one SQLite file in the data directory.
///
/// - WAL mode with `synchronous=FULL`: a transaction that returned has reached the disk, so a
///   crash (kill -9, power loss) loses no acknowledged write; a crash mid-transaction leaves
///   none of it.
/// - Every transaction is `BEGIN IMMEDIATE`: it takes the database's write lock at the start,
///   so transactions from this process and from any other process on the same file run one at a
///   time (`busy_timeout` waits for the lock), which is what makes rotation race-free.
/// - One connection, used by one transaction at a time, on a thread of its own: SQLite blocks
///   (fsync, waiting for another process's lock), and a shared pool whose threads all wait on a
///   lock held by a connection that needs one of those threads to commit would deadlock.
public final class SQLiteKeyStoreBackend: KeyStoreBackend {
    private let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    private let mutex = AsyncMutex()
    /// Schema migrations, applied in order; the number of applied ones is the schema version.
    static let migrations: [[String]] = [
        [
            "CREATE TABLE records (kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID",
            "CREATE TABLE key_versions (name TEXT NOT NULL, version INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (name, version)) WITHOUT ROWID",
        ]
    ]

    private init(connection: SQLiteConnection, threadPool: NIOThreadPool) {
        self.connection = connection
        self.threadPool = threadPool
    }

    /// Opens (creating if needed) the database at `path`.
    public static func open(path: String) async throws -> SQLiteKeyStoreBackend {
        let connection: SQLiteConnection
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        do {
            connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: threadPool, on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            try? await threadPool.shutdownGracefully()
            throw KeyStoreError(.unavailable, detail: "cannot open \(path)")
        }
        let backend = SQLiteKeyStoreBackend(connection: connection, threadPool: threadPool)
        try await backend.run("PRAGMA busy_timeout = 30000")
        try await backend.run("PRAGMA journal_mode = WAL")
        try await backend.run("PRAGMA synchronous = FULL")
        return backend
    }

    public func migrate() async throws {
        try await transaction { _ in
            try await self.run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            let applied = try await self.rows("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").first?.column("v")?.integer ?? 0
            guard applied <= Self.migrations.count else { throw KeyStoreError(.unsupportedSchema, detail: "schema \(applied)") }
            for (index, statements) in Self.migrations.enumerated() where index + 1 > applied {
                for statement in statements { try await self.run(statement) }
                try await self.run("INSERT INTO schema_migrations (version, applied_at) VALUES (?, strftime('%s','now'))", [.integer(index + 1)])
            }
        }
    }

    public func hasSchema() async throws -> Bool {
        try await mutex.withLock {
            try await rows("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").first?.column("n")?.integer == 1
        }
    }

    public func transaction<R: Sendable>(_ body: @Sendable (any KeyStoreTransaction) async throws -> R) async throws -> R {
        try await mutex.withLock {
            try await run("BEGIN IMMEDIATE")
            do {
                let result = try await body(Transaction(backend: self))
                try await run("COMMIT")
                return result
            } catch {
                try? await run("ROLLBACK")
                throw error
            }
        }
    }

    public func keyChanges() -> AsyncStream<String>? { nil }

    public func close() async throws {
        try? await connection.close()
        try? await threadPool.shutdownGracefully()
    }

    /// A backend dropped without ``close()`` (say, after a failed open) still closes its file:
    /// the close runs on sqlite-nio's thread pool, which keeps the connection alive until then.
    deinit {
        let threadPool = self.threadPool
        connection.close().whenComplete { _ in threadPool.shutdownGracefully { _ in } }
    }

    func run(_ sql: String, _ binds: [SQLiteData] = []) async throws {
        _ = try await rows(sql, binds)
    }

    func rows(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        do {
            return try await connection.query(sql, binds)
        } catch let error as SQLiteError {
            switch error.reason {
            case .busy, .busyTimeout, .locked: throw KeyStoreError(.conflict, detail: "database is locked (\(error.reason), \(sql.prefix(20)))")
            default: throw KeyStoreError(.unavailable, detail: "sqlite: \(error.reason)")
            }
        }
    }

    struct Transaction: KeyStoreTransaction {
        let backend: SQLiteKeyStoreBackend

        /// Transactions here run one at a time: a plain read cannot see the record change.
        func recordSharingLock(_ kind: RecordKind, _ id: String) async throws -> [UInt8]? {
            try await record(kind, id, forUpdate: false)
        }

        func record(_ kind: RecordKind, _ id: String, forUpdate: Bool) async throws -> [UInt8]? {
            try await backend.rows("SELECT body FROM records WHERE kind = ? AND id = ?", [.text(kind.rawValue), .text(id)]).first?.blob
        }

        func insertRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws -> Bool {
            let rows = try await backend.rows(
                "INSERT INTO records (kind, id, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1 AS inserted",
                [.text(kind.rawValue), .text(id), .blob(ByteBuffer(bytes: body))])
            return !rows.isEmpty
        }

        func updateRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws {
            try await backend.run("UPDATE records SET body = ? WHERE kind = ? AND id = ?", [.blob(ByteBuffer(bytes: body)), .text(kind.rawValue), .text(id)])
        }

        func deleteRecord(_ kind: RecordKind, _ id: String) async throws {
            try await backend.run("DELETE FROM records WHERE kind = ? AND id = ?", [.text(kind.rawValue), .text(id)])
        }

        func records(_ kind: RecordKind, prefix: String, after: String?, limit: Int) async throws -> [StoredRow] {
            // TEXT compares with the BINARY collation (memcmp of UTF-8): byte order, as the port asks.
            let rows = try await backend.rows(
                "SELECT id, body FROM records WHERE kind = ?1 AND substr(id, 1, length(?2)) = ?2 AND (?3 IS NULL OR id > ?3) ORDER BY id LIMIT ?4",
                [.text(kind.rawValue), .text(prefix), after.map { .text($0) } ?? .null, .integer(limit)])
            return try rows.map { StoredRow(id: try $0.text("id"), body: $0.blob ?? []) }
        }

        func version(_ key: String, _ version: UInt32) async throws -> [UInt8]? {
            try await backend.rows("SELECT body FROM key_versions WHERE name = ? AND version = ?", [.text(key), .integer(Int(version))]).first?.blob
        }

        func versions(_ key: String) async throws -> [StoredVersionRow] {
            try await backend.rows("SELECT name, version, body FROM key_versions WHERE name = ? ORDER BY version", [.text(key)]).map(Self.versionRow)
        }

        func insertVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws -> Bool {
            let rows = try await backend.rows(
                "INSERT INTO key_versions (name, version, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1 AS inserted",
                [.text(key), .integer(Int(version)), .blob(ByteBuffer(bytes: body))])
            return !rows.isEmpty
        }

        func updateVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws {
            try await backend.run("UPDATE key_versions SET body = ? WHERE name = ? AND version = ?", [.blob(ByteBuffer(bytes: body)), .text(key), .integer(Int(version))])
        }

        func deleteVersions(_ key: String) async throws {
            try await backend.run("DELETE FROM key_versions WHERE name = ?", [.text(key)])
        }

        func allVersions(after: (key: String, version: UInt32)?, limit: Int) async throws -> [StoredVersionRow] {
            let rows = try await backend.rows(
                "SELECT name, version, body FROM key_versions WHERE ?1 IS NULL OR name > ?1 OR (name = ?1 AND version > ?2) ORDER BY name, version LIMIT ?3",
                [after.map { .text($0.key) } ?? .null, .integer(Int(after?.version ?? 0)), .integer(limit)])
            return try rows.map(Self.versionRow)
        }

        func announceChange(of key: String) async throws {}

        static func versionRow(_ row: SQLiteRow) throws -> StoredVersionRow {
            guard let version = row.column("version")?.integer, let v = UInt32(exactly: version) else {
                throw KeyStoreError(.integrityFailure, detail: "invalid version row")
            }
            return StoredVersionRow(key: try row.text("name"), version: v, body: row.blob ?? [])
        }
    }
}

extension SQLiteRow {
    var blob: [UInt8]? {
        guard case .blob(var buffer) = column("body") else { return nil }
        return buffer.readBytes(length: buffer.readableBytes)
    }

    func text(_ name: String) throws -> String {
        guard case .text(let value) = column(name) else { throw KeyStoreError(.integrityFailure, detail: "invalid row") }
        return value
    }
}
