#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// Tunables of a ``KeyStore`` (documented in docs/CONFIGURATION.md under `store.`).
public struct KeyStoreConfiguration: Sendable {
    /// Unsealed key versions (and as many key records) a node keeps in memory.
    public var cacheCapacity: Int = 10_000
    /// How long a cached entry is trusted: the worst-case delay before a version disabled or
    /// destroyed on another node stops working here when no change notification arrives.
    public var cacheTTL: Duration = .seconds(10)
    /// How long a deleted key can be restored before ``KeyStore/purgeDeletedKeys()`` destroys it.
    public var recoveryWindow: Duration = .seconds(7 * 24 * 3600)
    /// The KDF that turns an unseal passphrase into the root key, recorded in the store at
    /// initialisation (later opens use what was recorded).
    public var passphraseKDF: PasswordKDFParameters = .defaultScrypt
    /// The slow hash for API key secrets.
    public var apiKeyHash: PasswordKDFParameters = .scrypt(logN: 15, r: 8, p: 1)
    /// The store this process must find in its database (the `store.id` setting), or `nil` to
    /// take whatever is there and make a new store in an empty database. Row tags cannot tell
    /// one whole store from another under the same root key, nor an emptied database from a new
    /// one; pinning the id here, outside the database, does: a different store is refused and
    /// no new store is ever made (``KeyStoreError/Code/storeMismatch``).
    public var expectedStoreID: StoreID?
    /// Authenticate the rows of a store written before rows were tagged, at this open, in one
    /// transaction (``KeyStoreError/Code/upgradeRequired``). Only `coffer server upgrade-store`
    /// sets it: the upgrade trusts every row present at that moment.
    public var upgradeUnauthenticatedRows = false
    /// The time source (tests move it).
    public var clock: @Sendable () -> Date = { Date() }
    /// Tests only: runs between a root-key rotation's last commit and this process adopting
    /// its new row key, to hold that moment open.
    package var afterRotationCommit: (@Sendable () async -> Void)?

    public init() {}
}

/// Where a store's root key comes from.
public enum RootKeySource: Sendable {
    /// A root key available now: from a key file (``RootKeyFile``) or an HSM.
    case key(any RootKey)
    /// A passphrase given later: the store opens sealed and refuses everything until
    /// ``KeyStore/unseal(passphrase:)``. The first unseal of a new store sets the passphrase.
    case passphrase
}
