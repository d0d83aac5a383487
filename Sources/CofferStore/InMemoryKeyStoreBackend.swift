import CofferCrypto

/// A ``KeyStoreBackend`` in process memory, for tests and for trying the server without a disk.
/// Transactions run one at a time on a copy of the state that replaces it only on success.
public final class InMemoryKeyStoreBackend: KeyStoreBackend, @unchecked Sendable {
    struct State: Sendable {
        var records: [String: [String: [UInt8]]] = [:]
        var versions: [String: [UInt32: [UInt8]]] = [:]
    }

    private let mutex = AsyncMutex()
    private let lock = Lock()
    private var state = State()
    private var migrated = false

    public init() {}

    public func migrate() async throws { lock.withLock { migrated = true } }
    public func hasSchema() async throws -> Bool { lock.withLock { migrated } }

    public func transaction<R: Sendable>(_ body: @Sendable (any KeyStoreTransaction) async throws -> R) async throws -> R {
        try await mutex.withLock {
            let transaction = Transaction(state: lock.withLock { state })
            let result = try await body(transaction)
            let committed = transaction.finalState
            lock.withLock { state = committed }
            return result
        }
    }

    public func keyChanges() -> AsyncStream<String>? { nil }
    public func close() async throws {}

    final class Transaction: KeyStoreTransaction, @unchecked Sendable {
        private let lock = Lock()
        private var state: State

        init(state: State) { self.state = state }
        var finalState: State { lock.withLock { state } }

        /// Transactions here run one at a time: a plain read cannot see the record change.
        func recordSharingLock(_ kind: RecordKind, _ id: String) async throws -> [UInt8]? {
            try await record(kind, id, forUpdate: false)
        }

        func record(_ kind: RecordKind, _ id: String, forUpdate: Bool) async throws -> [UInt8]? {
            lock.withLock { state.records[kind.rawValue]?[id] }
        }

        func insertRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws -> Bool {
            lock.withLock {
                guard state.records[kind.rawValue]?[id] == nil else { return false }
                state.records[kind.rawValue, default: [:]][id] = body
                return true
            }
        }

        func updateRecord(_ kind: RecordKind, _ id: String, _ body: [UInt8]) async throws {
            lock.withLock { state.records[kind.rawValue, default: [:]][id] = body }
        }

        func deleteRecord(_ kind: RecordKind, _ id: String) async throws {
            lock.withLock { _ = state.records[kind.rawValue]?.removeValue(forKey: id) }
        }

        func records(_ kind: RecordKind, prefix: String, after: String?, limit: Int) async throws -> [StoredRow] {
            lock.withLock {
                let rows = state.records[kind.rawValue] ?? [:]
                return rows.keys
                    .filter { id in
                        guard id.utf8.starts(with: prefix.utf8) else { return false }
                        guard let after else { return true }
                        return after.utf8.lexicographicallyPrecedes(id.utf8)
                    }
                    .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                    .prefix(limit)
                    .map { StoredRow(id: $0, body: rows[$0]!) }
            }
        }

        func version(_ key: String, _ version: UInt32) async throws -> [UInt8]? {
            lock.withLock { state.versions[key]?[version] }
        }

        func versions(_ key: String) async throws -> [StoredVersionRow] {
            lock.withLock {
                (state.versions[key] ?? [:]).sorted { $0.key < $1.key }.map { StoredVersionRow(key: key, version: $0.key, body: $0.value) }
            }
        }

        func insertVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws -> Bool {
            lock.withLock {
                guard state.versions[key]?[version] == nil else { return false }
                state.versions[key, default: [:]][version] = body
                return true
            }
        }

        func updateVersion(_ key: String, _ version: UInt32, _ body: [UInt8]) async throws {
            lock.withLock { state.versions[key, default: [:]][version] = body }
        }

        func deleteVersions(_ key: String) async throws {
            lock.withLock { _ = state.versions.removeValue(forKey: key) }
        }

        func allVersions(after: (key: String, version: UInt32)?, limit: Int) async throws -> [StoredVersionRow] {
            lock.withLock {
                var out: [StoredVersionRow] = []
                for key in state.versions.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    if let after, key.utf8.lexicographicallyPrecedes(after.key.utf8) { continue }
                    for (version, body) in state.versions[key]!.sorted(by: { $0.key < $1.key }) {
                        if let after, key == after.key, version <= after.version { continue }
                        out.append(StoredVersionRow(key: key, version: version, body: body))
                        if out.count == limit { return out }
                    }
                }
                return out
            }
        }

        func announceChange(of key: String) async throws {}
    }
}
