/// The one error type of Coffer's key store.
///
/// Compared by ``code``, a struct wrapping a private enum, so codes can be added without breaking
/// callers. Messages name keys, versions, identities and policies (public names), never key
/// material, passphrases, API key secrets or sealed bytes.
public struct KeyStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code (`key_not_found`, …), the same in every backend.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Sendable {
            case keyNotFound = "key_not_found"
            case keyExists = "key_exists"
            case keyDeleted = "key_deleted"
            case versionNotFound = "key_version_not_found"
            case versionUnavailable = "key_version_unavailable"
            case stateChangeRefused = "state_change_refused"
            case deletionProtected = "deletion_protected"
            case notExportable = "not_exportable"
            case invalidArgument = "invalid_argument"
            case invalidKeyMaterial = "invalid_key_material"
            case identityNotFound = "identity_not_found"
            case identityExists = "identity_exists"
            case policyNotFound = "policy_not_found"
            case unauthenticated = "unauthenticated"
            case sealed = "store_sealed"
            case unsealFailed = "unseal_failed"
            case rootKeyMismatch = "root_key_mismatch"
            case integrityFailure = "store_integrity_failure"
            case conflict = "conflict"
            case unavailable = "store_unavailable"
            case invalidBackup = "invalid_backup"
            case storeNotEmpty = "store_not_empty"
            case unsupportedSchema = "unsupported_schema"
            case upgradeRequired = "store_upgrade_required"
            case storeMismatch = "store_mismatch"
        }
        fileprivate let value: Value

        /// No key has this name (or it was purged).
        public static let keyNotFound = Code(value: .keyNotFound)
        /// A key with this name already exists (possibly soft-deleted and still recoverable).
        public static let keyExists = Code(value: .keyExists)
        /// The key is soft-deleted: it refuses every use until restored or purged.
        public static let keyDeleted = Code(value: .keyDeleted)
        /// The key has no such version.
        public static let versionNotFound = Code(value: .versionNotFound)
        /// The version exists but may not do this: disabled, destroyed, decrypt-only (for
        /// encryption) or below the key's minimum decryption version.
        public static let versionUnavailable = Code(value: .versionUnavailable)
        /// A state change that would break an invariant (the primary must stay active; destroyed
        /// is terminal).
        public static let stateChangeRefused = Code(value: .stateChangeRefused)
        /// The key is deletion-protected; clear the flag first.
        public static let deletionProtected = Code(value: .deletionProtected)
        /// The key's material may not leave the store.
        public static let notExportable = Code(value: .notExportable)
        /// A name, label, period or other argument is outside its documented range.
        public static let invalidArgument = Code(value: .invalidArgument)
        /// Imported key material does not fit the key type.
        public static let invalidKeyMaterial = Code(value: .invalidKeyMaterial)
        public static let identityNotFound = Code(value: .identityNotFound)
        public static let identityExists = Code(value: .identityExists)
        public static let policyNotFound = Code(value: .policyNotFound)
        /// An API key did not authenticate: malformed, unknown, disabled or wrong secret — one
        /// code for all, so the answer is no oracle.
        public static let unauthenticated = Code(value: .unauthenticated)
        /// The store is sealed (passphrase root key not yet given): only unseal works.
        public static let sealed = Code(value: .sealed)
        /// Unsealing failed: wrong passphrase. One message for every reason, so it is no oracle.
        public static let unsealFailed = Code(value: .unsealFailed)
        /// The configured root key (key file, HSM key) is not the one this store is sealed under.
        public static let rootKeyMismatch = Code(value: .rootKeyMismatch)
        /// A stored row failed to authenticate: edited, swapped between keys, versions or
        /// stores, or replayed. Someone wrote to the backend behind Coffer's back.
        public static let integrityFailure = Code(value: .integrityFailure)
        /// Another writer changed the same row at the same moment; the operation did not apply
        /// and may be retried.
        public static let conflict = Code(value: .conflict)
        /// The backend (database file, PostgreSQL, HSM) failed or is unreachable.
        public static let unavailable = Code(value: .unavailable)
        /// A backup file is malformed, truncated or fails its checksum.
        public static let invalidBackup = Code(value: .invalidBackup)
        /// Restore needs an empty store.
        public static let storeNotEmpty = Code(value: .storeNotEmpty)
        /// The database was written by a newer Coffer (its schema version is unknown here).
        public static let unsupportedSchema = Code(value: .unsupportedSchema)
        /// The store was written before rows were authenticated (docs/FORMAT.md, "Authenticated
        /// rows") and must be upgraded once, deliberately, before it is used: `coffer server
        /// upgrade-store`. Not done silently at open, because an upgrade trusts every row present
        /// at that moment, and a store row replaced by an old copy must stop the server, not
        /// bless whatever a database writer added.
        public static let upgradeRequired = Code(value: .upgradeRequired)
        /// The database does not hold the store the configuration pins (`store.id`): another
        /// store, or none — a wrong database, or one swapped or emptied behind Coffer's back.
        public static let storeMismatch = Code(value: .storeMismatch)

        public var description: String { value.rawValue }
    }

    public let code: Code
    /// A non-secret detail: a key name, a version, a field name.
    public let detail: String?

    public init(_ code: Code, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    public var description: String {
        guard let detail else { return Self.message(for: code) }
        return "\(Self.message(for: code)): \(detail)"
    }

    static func message(for code: Code) -> String {
        switch code.value {
        case .keyNotFound: "key not found"
        case .keyExists: "a key with this name already exists"
        case .keyDeleted: "key is deleted (restore it to use it again)"
        case .versionNotFound: "key version not found"
        case .versionUnavailable: "key version is not usable for this operation"
        case .stateChangeRefused: "key version state change refused"
        case .deletionProtected: "key is deletion-protected"
        case .notExportable: "key is not exportable"
        case .invalidArgument: "invalid argument"
        case .invalidKeyMaterial: "key material does not fit the key type"
        case .identityNotFound: "identity not found"
        case .identityExists: "identity already exists"
        case .policyNotFound: "policy not found"
        case .unauthenticated: "authentication failed"
        case .sealed: "key store is sealed"
        case .unsealFailed: "unseal failed"
        case .rootKeyMismatch: "root key does not match this store"
        case .integrityFailure: "stored key material failed its integrity check"
        case .conflict: "concurrent modification, retry"
        case .unavailable: "key store backend unavailable"
        case .invalidBackup: "invalid backup"
        case .storeNotEmpty: "the target store is not empty"
        case .unsupportedSchema: "the store's schema is newer than this Coffer"
        case .upgradeRequired: "the store predates authenticated rows; stop every node and run `coffer server upgrade-store` once"
        case .storeMismatch: "the database does not hold the store set in store.id"
        }
    }

    public static func == (lhs: KeyStoreError, rhs: KeyStoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
