#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// Coffer's key store: keys, versions, identities and policies over any ``KeyStoreBackend``,
/// with every key version sealed under the root key before it reaches the backend.
///
/// One instance per process and backend; safe to share between tasks. Several processes (nodes)
/// may open the same database: every change is one backend transaction, and caches are evicted
/// by the backend's change notifications or, at worst, after ``KeyStoreConfiguration/cacheTTL``.
public final class KeyStore: Sendable {
    let backend: any KeyStoreBackend
    let configuration: KeyStoreConfiguration
    let cache: KeyCache
    private let state: LockedState
    let rowFailures = IntegrityFailureCounter()

    final class LockedState: @unchecked Sendable {
        let lock = Lock()
        /// The key new material is sealed under.
        var rootKey: (any RootKey)?
        /// Every root key this process holds, by id: the current one and, during a root-key
        /// rotation, the one being replaced.
        var unsealingKeys: [RootKeyID: any RootKey] = [:]
        var storeID: StoreID?
        /// Tags and checks every row (``RowAuthenticator``); set with the root key, together with
        /// the store row's sealed row key it was unsealed from: a store row holding another one
        /// means a root-key rotation ran elsewhere (`KeyStore+RowKeyChange.swift`).
        var rows: (authenticator: RowAuthenticator, sealed: String)?
        /// Set while this process's own root-key rotation commits its new row key and adopts it.
        var rotatingRowKey = false
        /// Whether this node sealed itself on finding the row key replaced (cleared at unseal).
        var sealedForRowKeyChange = false
        /// The stored bytes of a store row seen to hold the sealed row key they are kept with.
        var checkedStoreRow: (bytes: [UInt8], sealedRowKey: String)?
        var listener: Task<Void, Never>?
        /// The import wrapping key as last read (``importWrappingIdentity(reload:)``).
        var importWrappingIdentity: X25519Identity?
    }

    private init(backend: any KeyStoreBackend, configuration: KeyStoreConfiguration) {
        self.backend = backend
        self.configuration = configuration
        self.cache = KeyCache(capacity: configuration.cacheCapacity, ttl: configuration.cacheTTL)
        self.state = LockedState()
    }

    /// Opens the store: runs schema migrations, creates the store's identity on first open, and
    /// checks that a given root key is the one the store is sealed under.
    ///
    /// - Throws: ``KeyStoreError/Code/rootKeyMismatch`` for a key file or HSM key that is not
    ///   this store's; ``KeyStoreError/Code/unavailable`` when the backend cannot be reached.
    public static func open(
        backend: any KeyStoreBackend, root: RootKeySource, configuration: KeyStoreConfiguration = KeyStoreConfiguration()
    ) async throws -> KeyStore {
        try await backend.migrate()
        let store = KeyStore(backend: backend, configuration: configuration)
        if case .key(let rootKey) = root {
            try await store.attach(rootKey)
        } else if let meta = try await store.readMeta() {
            let storeID = StoreID(bytes: Hex.decode(meta.storeID) ?? [])
            // Unverified until the unseal, but a mismatch is worth refusing now: no one should
            // get to unseal (or initialise) a store that is not the one configured.
            try store.checkPinned(storeID)
            store.state.lock.withLock { store.state.storeID = storeID }
        } else if configuration.expectedStoreID != nil {
            throw KeyStoreError(.storeMismatch, detail: "the database holds no store")
        }
        store.startListening()
        return store
    }

    /// Stops listening for changes and closes the backend.
    public func close() async throws {
        state.lock.withLock { state.listener?.cancel() }
        cache.evictAll()
        try await backend.close()
    }

    /// Whether the store still waits for its passphrase (or this node sealed itself).
    public var isSealed: Bool { state.lock.withLock { state.rootKey == nil } }

    /// Whether this node sealed itself because a root-key rotation by another process replaced
    /// the row key (`KeyStore+RowKeyChange.swift`): it must be restarted with the new root key.
    public var sealedAfterRootKeyRotationElsewhere: Bool { state.lock.withLock { state.sealedForRowKeyChange } }

    /// The store's public identity (set at its first open or unseal).
    public var storeID: StoreID? { state.lock.withLock { state.storeID } }

    /// The root key's non-secret description (`key-file`, `passphrase`, `pkcs11:…`), if unsealed.
    public var rootKeyKind: String? { state.lock.withLock { state.rootKey?.kind } }

    var cachedImportWrappingIdentity: X25519Identity? {
        get { state.lock.withLock { state.importWrappingIdentity } }
        set { state.lock.withLock { state.importWrappingIdentity = newValue } }
    }

    /// Rows that failed their authentication check since open (edited, added or moved behind
    /// Coffer's back), for metrics: any value above zero deserves an alert.
    public var integrityFailures: UInt64 { rowFailures.value }

    /// Cache hits and misses since open, for metrics.
    public var cacheStatistics: (hits: UInt64, misses: UInt64) { cache.statistics }

    /// Unseals a store opened with ``RootKeySource/passphrase``. On a store that has never been
    /// initialised, sets the passphrase.
    ///
    /// - Throws: ``KeyStoreError/Code/unsealFailed`` for a wrong passphrase — one error for
    ///   every way it can be wrong, so unseal is no oracle; other failures (a damaged or older
    ///   store, the backend down) keep their own codes, which say nothing about the passphrase.
    public func unseal(passphrase: Passphrase) async throws {
        if let meta = try await readMeta() {
            guard meta.rootKind == "passphrase", let kdf = meta.kdf, let salt = Base64URL.decode(Substring(kdf.salt)) else {
                throw KeyStoreError(.unsealFailed)
            }
            let rootKey = try Self.passphraseRootKey(passphrase, parameters: .scrypt(logN: kdf.logN, r: kdf.r, p: kdf.p), salt: salt)
            // A wrong passphrase is a root key that does not match: one answer for it. Anything
            // else (a damaged or downgraded store row, an older store, the database down) comes
            // from past that check or from elsewhere, and says nothing about the passphrase.
            do { try await attach(rootKey) } catch let error as KeyStoreError where error.code == .rootKeyMismatch {
                throw KeyStoreError(.unsealFailed)
            }
        } else {
            let salt = randomBytes(16)
            try configuration.passphraseKDF.validateForNewData()
            let rootKey = try Self.passphraseRootKey(passphrase, parameters: configuration.passphraseKDF, salt: salt)
            guard case .scrypt(let logN, let r, let p) = configuration.passphraseKDF else {
                throw KeyStoreError(.invalidArgument, detail: "the unseal passphrase KDF must be scrypt")
            }
            try await attach(rootKey, kdf: PassphraseKDFDocument(logN: logN, r: r, p: p, salt: Base64URL.encode(salt)))
        }
    }

    static func passphraseRootKey(_ passphrase: Passphrase, parameters: PasswordKDFParameters, salt: [UInt8]) throws -> SoftwareRootKey {
        let derived = try passphrase.withUnsafeBytes {
            try parameters.deriveKey(from: $0, salt: salt, outputByteCount: 32)
        }
        return try derived.withUnsafeBytes { try SoftwareRootKey(bytes: $0, kind: "passphrase") }
    }

    /// The root key, or ``KeyStoreError/Code/sealed``.
    func requireRootKey() throws -> (any RootKey, StoreID) {
        try state.lock.withLock {
            guard let rootKey = state.rootKey, let storeID = state.storeID else { throw KeyStoreError(.sealed) }
            return (rootKey, storeID)
        }
    }

    /// The root key that sealed `sealed` (current or, mid-rotation, previous).
    func unsealingKey(for sealed: SealedKeyMaterial) throws -> any RootKey {
        try state.lock.withLock {
            guard state.rootKey != nil else { throw KeyStoreError(.sealed) }
            guard let key = state.unsealingKeys[sealed.rootKeyID] else {
                throw KeyStoreError(.integrityFailure, detail: "sealed under root key \(sealed.rootKeyID), which this node does not hold")
            }
            return key
        }
    }

    /// Makes `newKey` the sealing key, keeping the old one for unsealing (root-key rotation).
    func adopt(_ newKey: any RootKey) {
        state.lock.withLock {
            state.rootKey = newKey
            state.unsealingKeys[newKey.id] = newKey
        }
    }

    /// Whether `backend` holds an initialised store. Admin commands check it first: opening a
    /// store initialises a new one, which a backup or a root-key rotation pointed at the wrong
    /// database must not do. Creates nothing in a database without Coffer's schema (a mistyped
    /// `--postgres`); brings an older schema up to date, as opening the store would.
    public static func isInitialised(_ backend: any KeyStoreBackend) async throws -> Bool {
        guard try await backend.hasSchema() else { return false }
        try await backend.migrate()
        return try await backend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false) != nil }
    }

    /// The store row as stored, its tag not yet checked: a sealed store needs its id and its
    /// passphrase KDF before the root key, and so the row key, exists. Both are checked at the
    /// unseal: the id is bound into the check value, and a KDF that was tampered with derives a
    /// key that does not open it.
    func readMeta() async throws -> StoreMetaDocument? {
        try await backend.transaction { tx in
            try await tx.record(.meta, "store", forUpdate: false).map(Self.decodeStoredMeta)
        }
    }

    /// Decodes the store row in either form: tagged (`"v": 2`, with a row key) or as written
    /// before rows were authenticated (bare JSON, `"v": 1`, no row key). Any other mix is an
    /// integrity failure. The tag is not checked here.
    static func decodeStoredMeta(_ stored: [UInt8]) throws -> StoreMetaDocument {
        let framed = RowAuthenticator.isFramed(stored)
        let body = framed ? try RowAuthenticator.unverifiedBody(stored, what: "store row") : stored
        let meta = try StoredDocument.decode(StoreMetaDocument.self, body, what: "store")
        guard framed ? (meta.v == 2 && meta.rowKey != nil) : (meta.v == 1 && meta.rowKey == nil) else {
            throw KeyStoreError(.integrityFailure, detail: "invalid store row")
        }
        return meta
    }

    /// Initialises the store under `rootKey` if it is new; otherwise checks `rootKey` is its own
    /// and unseals the row key, then checks the store row's own tag with it.
    private func attach(_ rootKey: any RootKey, kdf: PassphraseKDFDocument? = nil) async throws {
        let (meta, rows): (StoreMetaDocument, RowAuthenticator) = try await retryingConflicts { [self, backend] in
            try await backend.transaction { tx in
                let upgrade = configuration.upgradeUnauthenticatedRows
                if let existing = try await tx.record(.meta, "store", forUpdate: upgrade) {
                    return try await open(existing, in: tx, with: rootKey)
                }
                return try await initialise(in: tx, under: rootKey, kdf: kdf)
            }
        }
        let storeID = try Self.storeID(meta)
        guard let sealedRowKey = meta.rowKey else { throw KeyStoreError(.integrityFailure, detail: "the store row has no row key") }
        state.lock.withLock {
            state.rootKey = rootKey
            state.unsealingKeys[rootKey.id] = rootKey
            state.storeID = storeID
            state.rows = (rows, sealedRowKey)
            state.sealedForRowKeyChange = false
        }
    }

    /// The store row `existing`, checked: the pinned id, the root key, then (tagged) its own tag
    /// under the row key it carries, or (untagged, from before row tags) the upgrade if asked.
    private func open(_ existing: [UInt8], in tx: any KeyStoreTransaction, with rootKey: any RootKey) async throws -> (StoreMetaDocument, RowAuthenticator) {
        let meta = try Self.decodeStoredMeta(existing)
        let storeID = try Self.storeID(meta)
        try checkPinned(storeID)
        try Self.verify(rootKey, against: meta, storeID: storeID)
        guard meta.rowKey != nil else {
            // A pinned store has served with tags (the id is asked for only then), so an untagged
            // store row here is a copy from before its upgrade, put back to have forged rows
            // blessed by another one.
            guard configuration.expectedStoreID == nil else {
                throw KeyStoreError(.integrityFailure, detail: "the store row of a pinned store (store.id) is in the form from before row tags: a copy from before its upgrade was put back; restore the database from a backup (to upgrade a store deliberately, unset store.id first)")
            }
            guard configuration.upgradeUnauthenticatedRows else { throw KeyStoreError(.upgradeRequired) }
            return try await Self.authenticateRows(tx, meta: meta, rootKey: rootKey, storeID: storeID, failures: rowFailures)
        }
        let rows = RowAuthenticator(key: try Self.unsealRowKey(meta, with: rootKey, storeID: storeID), failures: rowFailures)
        _ = try rows.open(.meta, "store", existing)
        return (meta, rows)
    }

    /// A new store under `rootKey`, in a database without a store row — refused if the database
    /// holds rows (its store row was deleted: a new store over them would hand a fresh row key,
    /// and for a passphrase store a fresh admin key, to whoever deleted it) or if `store.id` pins
    /// a store that must already exist.
    private func initialise(in tx: any KeyStoreTransaction, under rootKey: any RootKey, kdf: PassphraseKDFDocument?) async throws -> (StoreMetaDocument, RowAuthenticator) {
        guard configuration.expectedStoreID == nil else {
            throw KeyStoreError(.storeMismatch, detail: "the database holds no store")
        }
        guard try await Self.holdsNoRows(tx) else {
            // Another node may have initialised the store since this transaction read no store
            // row (PostgreSQL reads committed rows per statement): retry, and read what it wrote.
            if try await tx.record(.meta, "store", forUpdate: false) != nil {
                throw KeyStoreError(.conflict, detail: "store initialised concurrently")
            }
            throw KeyStoreError(.integrityFailure, detail: "the store row is missing from a database that holds rows; restore it from a backup")
        }
        let storeID = StoreID(bytes: randomBytes(16))!
        let check = try rootKey.seal(KeyMaterial(randomBytes(32)), context: .rootKeyCheck(storeID: storeID))
        let rowKey = RowAuthenticator.generateKey()
        let sealedRowKey = try rootKey.seal(rowKey, context: .rowKey(storeID: storeID))
        let meta = StoreMetaDocument(
            v: 2, storeID: storeID.hex, rootKind: Self.rootKind(rootKey), rootKeyID: rootKey.id.hex, kdf: kdf,
            check: Base64URL.encode(check.bytes), rowKey: Base64URL.encode(sealedRowKey.bytes))
        let rows = RowAuthenticator(key: rowKey, failures: rowFailures)
        // Another node initialising at the same moment wins the insert; this transaction then
        // retries and reads what that node wrote.
        guard try await tx.insertRecord(.meta, "store", rows.seal(.meta, "store", try StoredDocument.encode(meta))) else {
            throw KeyStoreError(.conflict, detail: "store initialised concurrently")
        }
        return (meta, rows)
    }

    /// Refuses a store other than the one ``KeyStoreConfiguration/expectedStoreID`` pins.
    func checkPinned(_ storeID: StoreID?) throws {
        guard let expected = configuration.expectedStoreID, expected != storeID else { return }
        throw KeyStoreError(.storeMismatch, detail: "the database holds store \(storeID?.hex ?? "(invalid)"), not \(expected.hex)")
    }

    static func storeID(_ meta: StoreMetaDocument) throws -> StoreID {
        guard let storeID = StoreID(bytes: Hex.decode(meta.storeID) ?? []) else {
            throw KeyStoreError(.integrityFailure, detail: "invalid store row")
        }
        return storeID
    }

    static func rootKind(_ rootKey: any RootKey) -> String {
        rootKey.kind.split(separator: ":").first.map(String.init) ?? rootKey.kind
    }

    /// The row key from the store row, unsealed with `rootKey` (the one that sealed it).
    static func unsealRowKey(_ meta: StoreMetaDocument, with rootKey: any RootKey, storeID: StoreID) throws -> KeyMaterial {
        guard let text = meta.rowKey, let bytes = Base64URL.decode(Substring(text)), let sealed = try? SealedKeyMaterial(bytes: bytes) else {
            throw KeyStoreError(.integrityFailure, detail: "invalid store row")
        }
        return try rootKey.unseal(sealed, context: .rowKey(storeID: storeID))
    }

    static func verify(_ rootKey: any RootKey, against meta: StoreMetaDocument, storeID: StoreID) throws {
        guard let checkBytes = Base64URL.decode(Substring(meta.check)), let check = try? SealedKeyMaterial(bytes: checkBytes) else {
            throw KeyStoreError(.integrityFailure, detail: "invalid store row")
        }
        let authenticatedRows = meta.rowKey != nil
        guard rootKey.id.hex == meta.rootKeyID, (try? rootKey.unseal(check, context: .rootKeyCheck(storeID: storeID, authenticatedRows: authenticatedRows))) != nil else {
            // An untagged store row whose check value opens as a tagged store's: someone stripped
            // the tags and rewrote the row to have their own rows trusted by an upgrade.
            if !authenticatedRows, rootKey.id.hex == meta.rootKeyID,
                (try? rootKey.unseal(check, context: .rootKeyCheck(storeID: storeID, authenticatedRows: true))) != nil {
                throw KeyStoreError(.integrityFailure, detail: "the store row was rewritten in the form of a store without row tags (a downgrade); do not upgrade it, restore the database from a backup")
            }
            throw KeyStoreError(.rootKeyMismatch, detail: "the store was sealed under root key \(meta.rootKeyID) (\(meta.rootKind))")
        }
    }

    private func startListening() {
        guard let changes = backend.keyChanges() else { return }
        let cache = self.cache
        let task = Task.detached {
            // "" means notifications may have been missed (the listener reconnected).
            for await name in changes {
                if name.isEmpty { cache.evictAll() } else { cache.evict(name) }
            }
        }
        state.lock.withLock { state.listener = task }
    }

    var now: Date { configuration.clock() }

    /// The store row as `tx` reads it (checked, when `tx` is authenticated), decoded.
    static func storeRow(_ tx: any KeyStoreTransaction, forUpdate: Bool) async throws -> StoreMetaDocument {
        guard let body = try await tx.record(.meta, "store", forUpdate: forUpdate) else {
            throw KeyStoreError(.integrityFailure, detail: "store row missing")
        }
        return try StoredDocument.decode(StoreMetaDocument.self, body, what: "store")
    }

    /// Reads the store row for update, lets `change` edit it, and writes it back (tagged) if it
    /// changed, all in one transaction; returns what `change` returns.
    func updateStoreRow<R: Sendable>(_ change: @Sendable @escaping (inout StoreMetaDocument) throws -> R) async throws -> R {
        try await write(storeRowForUpdate: true) { tx in
            let before = try await Self.storeRow(tx, forUpdate: true)
            var meta = before
            let result = try change(&meta)
            if meta != before { try await tx.updateRecord(.meta, "store", try StoredDocument.encode(meta)) }
            return result
        }
    }

    /// The current row authenticator, or ``KeyStoreError/Code/sealed``.
    func requireRows() throws -> RowAuthenticator {
        try requireRowsAndSealedKey().rows
    }

    /// The current row authenticator and the sealed row key it came from.
    func requireRowsAndSealedKey() throws -> (rows: RowAuthenticator, sealed: String) {
        try state.lock.withLock {
            guard let rows = state.rows else { throw KeyStoreError(.sealed) }
            return (rows.authenticator, rows.sealed)
        }
    }

    /// Replaces the row authenticator with the one for the new row key of this process's
    /// root-key rotation, `sealed` as the store row now holds it; runs `commit`, the rotation's
    /// last transaction, in between (marked, so a transaction that sees the new store row before
    /// the adoption retries instead of sealing the node).
    func adopt(rows: RowAuthenticator, sealed: String, committedBy commit: () async throws -> Void) async throws {
        state.lock.withLock { state.rotatingRowKey = true }
        defer { state.lock.withLock { state.rotatingRowKey = false } }
        try await commit()
        if let pause = configuration.afterRotationCommit { await pause() }
        state.lock.withLock {
            state.rows = (rows, sealed)
        }
    }

    /// The stored store row last found to hold `sealedRowKey`, if any.
    func storeRowHolding(_ sealedRowKey: String) -> [UInt8]? {
        state.lock.withLock { state.checkedStoreRow.flatMap { $0.sealedRowKey == sealedRowKey ? $0.bytes : nil } }
    }

    func remember(storeRow bytes: [UInt8], holding sealedRowKey: String) {
        state.lock.withLock { state.checkedStoreRow = (bytes, sealedRowKey) }
    }

    /// Seals this node — drops its root keys and row key — if `expected` is still the sealed row
    /// key it holds and no root-key rotation of its own is adopting a new one; whether it did.
    /// This process's own rotation commits its row key just before adopting it: a transaction
    /// caught in between is retried instead.
    func sealForgettingKeys(ifRowKeyIs expected: String) -> Bool {
        state.lock.withLock {
            guard !state.rotatingRowKey, state.rows?.sealed == expected else { return false }
            state.rootKey = nil
            state.unsealingKeys = [:]
            state.rows = nil
            state.importWrappingIdentity = nil
            state.sealedForRowKeyChange = true
            return true
        }
    }

    /// Runs `body` in a backend transaction whose rows are tagged and checked
    /// (``AuthenticatedTransaction``): every read and write of the store goes through here or
    /// ``write(_:)``.
    ///
    /// - Throws: ``KeyStoreError/Code/sealed`` before the root key (and so the row key) is here,
    ///   or once this node found the row key replaced by a root-key rotation elsewhere.
    func transaction<R: Sendable>(_ body: @Sendable (any KeyStoreTransaction) async throws -> R) async throws -> R {
        try await transaction(checkingRowKey: .none, body)
    }

    /// ``transaction(_:)`` for changes, retrying a few times on ``KeyStoreError/Code/conflict``
    /// (two nodes racing on one row; the loser's transaction rolled back whole). It first checks
    /// that the row key its tags use is still the store's.
    /// `storeRowForUpdate`: the body changes the store row itself, so the check takes it for
    /// update rather than shared (see ``rowKeyUnchanged(_:expected:exclusive:)``).
    func write<R: Sendable>(
        storeRowForUpdate: Bool = false, _ body: @Sendable @escaping (any KeyStoreTransaction) async throws -> R
    ) async throws -> R {
        try await retryingConflicts {
            try await self.transaction(checkingRowKey: storeRowForUpdate ? .exclusive : .shared, body)
        }
    }

    /// How a transaction checks the row key before its body runs.
    private enum RowKeyCheck { case none, shared, exclusive }

    private func transaction<R: Sendable>(
        checkingRowKey check: RowKeyCheck, _ body: @Sendable (any KeyStoreTransaction) async throws -> R
    ) async throws -> R {
        let (rows, sealedRowKey) = try requireRowsAndSealedKey()
        let outcome: RowKeyCheckedOutcome<R>
        do {
            // A changed row key is returned, not thrown: backends turn errors that are not
            // theirs into `store_unavailable`. Nothing was written then; the commit is empty.
            outcome = try await backend.transaction { tx in
                if check != .none, try await !self.rowKeyUnchanged(tx, expected: sealedRowKey, exclusive: check == .exclusive) {
                    return .rowKeyChanged
                }
                return .done(try await body(AuthenticatedTransaction(inner: tx, rows: rows)))
            }
        } catch let error as KeyStoreError where error.code == .integrityFailure {
            // A row that fails its tag may be one a root-key rotation elsewhere re-tagged.
            try await sealIfRowKeyChanged(since: sealedRowKey)
            throw error
        }
        switch outcome {
        case .done(let result):
            return result
        case .rowKeyChanged:
            try await sealIfRowKeyChanged(since: sealedRowKey)
            // The store row changed back meanwhile: nothing was written; let the caller retry.
            throw KeyStoreError(.conflict, detail: "the row key changed during this transaction")
        }
    }

    func retryingConflicts<R: Sendable>(_ attempt: () async throws -> R) async throws -> R {
        var retries = 0
        while true {
            do {
                return try await attempt()
            } catch let error as KeyStoreError where error.code == .conflict && retries < 4 {
                retries += 1
                try? await Task.sleep(for: .milliseconds(Int.random(in: 1...(10 << retries))))
            }
        }
    }
}
