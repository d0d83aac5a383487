/// The port every storage backend implements: rows of opaque bytes in two tables, changed only
/// inside serializable transactions. All meaning — validation, sealing, versions, states,
/// soft deletion — lives once in ``KeyStore``; a backend only stores, finds and orders rows.
///
/// - `records`: (`kind`, `id`) → body. Kinds: ``RecordKind``. Listed in `id` byte order.
/// - `versions`: (`key`, `version`) → body, one row per key version.
///
/// ``transaction(_:)`` must make the body's reads and writes atomic and isolated from every other
/// transaction, in this process and in others sharing the database: a reader that passes
/// `forUpdate: true` holds that row until commit, and an insert of an existing primary key
/// returns `false` rather than overwriting. On any thrown error nothing of the body applies. Once
/// it returns, the writes are durable (a crash loses no acknowledged write).
public protocol KeyStoreBackend: Sendable {
    /// Creates or upgrades the schema (versioned migrations); called once at open.
    func migrate() async throws
    /// Whether the database already holds Coffer's schema. Only reads: the admin commands ask
    /// before touching a database that may be the wrong one, where ``migrate()`` would create
    /// empty tables.
    func hasSchema() async throws -> Bool
    func transaction<R: Sendable>(_ body: @Sendable (any KeyStoreTransaction) async throws -> R) async throws -> R
    /// Names of keys other nodes changed, for cache invalidation; `""` means "anything may have
    /// changed" (say, after a reconnect) and evicts everything (`nil`: this backend has no
    /// cross-node channel, and caches rely on their TTL alone).
    func keyChanges() -> AsyncStream<String>?
    func close() async throws
}

extension KeyStoreBackend {
    /// Backends that cannot tell say yes: ``KeyStore/isInitialised(_:)`` then migrates and reads
    /// the store row, as before this requirement existed.
    public func hasSchema() async throws -> Bool { true }
}

/// One transaction's view of the backend (see ``KeyStoreBackend``).
public protocol KeyStoreTransaction: Sendable {
    func record(_ kind: RecordKind, _ id: String, forUpdate: Bool) async throws -> [UInt8]?
    /// Inserts a new row; `false` (and no change) when the id exists.
    func insertRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws -> Bool
    /// Replaces an existing row.
    func updateRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws
    func deleteRecord(_ kind: RecordKind, _ id: String) async throws
    /// Rows of `kind` whose id starts with `prefix` and sorts after `after`, in id order.
    func records(_ kind: RecordKind, prefix: String, after: String?, limit: Int) async throws -> [StoredRow]

    func version(_ key: String, _ version: UInt32) async throws -> [UInt8]?
    /// All versions of `key`, in version order.
    func versions(_ key: String) async throws -> [StoredVersionRow]
    /// Inserts a new version; `false` (and no change) when that number exists.
    func insertVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws -> Bool
    func updateVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws
    func deleteVersions(_ key: String) async throws
    /// Every version of every key after (`key`, `version`) in that order: root-key rotation and
    /// backup walk the whole store with this.
    func allVersions(after: (key: String, version: UInt32)?, limit: Int) async throws -> [StoredVersionRow]
    /// Tells other nodes, once this transaction commits, that `key` changed.
    func announceChange(of key: String) async throws
    /// Reads a record and keeps it from changing until this transaction ends, without keeping
    /// other transactions from doing the same (PostgreSQL's `SELECT … FOR SHARE`): a transaction
    /// that reads it `forUpdate` waits for these, and these for it. A backend that runs one
    /// transaction at a time (SQLite's `BEGIN IMMEDIATE`, the in-memory backend) reads it plainly.
    /// No default: a backend with concurrent transactions must not get a plain read by accident
    /// (every write checks the store record through this; see `KeyStore+RowKeyChange.swift`).
    func recordSharingLock(_ kind: RecordKind, _ id: String) async throws -> [UInt8]?
}

/// What a ``KeyStoreBackend`` record row holds.
public struct RecordKind: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    private init(_ rawValue: String) { self.rawValue = rawValue }
    /// The store's own settings: id, root-key descriptor, check value.
    public static let meta = RecordKind("meta")
    public static let key = RecordKind("key")
    public static let identity = RecordKind("identity")
    public static let policy = RecordKind("policy")
    public static let allCases: [RecordKind] = [.meta, .key, .identity, .policy]
    public init?(rawValue: String) {
        guard let kind = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = kind
    }
    public var description: String { rawValue }
}

public struct StoredRow: Sendable, Hashable {
    public let id: String
    public let body: [UInt8]
    public init(id: String, body: [UInt8]) {
        self.id = id
        self.body = body
    }
}

public struct StoredVersionRow: Sendable, Hashable {
    public let key: String
    public let version: UInt32
    public let body: [UInt8]
    public init(key: String, version: UInt32, body: [UInt8]) {
        self.key = key
        self.version = version
        self.body = body
    }
}
