import CofferStore

/// The first administrator of a new store: the `admin` policy and one API key under it, made
/// once — at the first start on a key-file or HSM root key, or at the first unseal of a
/// passphrase-sealed store (whose identities cannot be written before it is unsealed).
public enum AdminBootstrap {
    /// Creates the admin policy and key if the store has no identity yet; returns the key's text
    /// when it made one (show it once, never log it). Runs once per store: afterwards a missing
    /// admin policy or an empty identity list is left as it is, because deleting rows is what a
    /// database writer without the root key can still do, and making a new admin then would
    /// hand them one. A lost admin key is recovered with ``makeAdminKey(_:)``
    /// (`coffer server admin-key`), which needs the root key.
    static func ensureAdmin(_ store: KeyStore) async throws -> String? {
        if try await store.isAdminBootstrapped() { return nil }
        // Only a missing policy is made: one that fails its integrity check stops here instead
        // of being reset to allow-everything (which would widen an admin policy an operator had
        // narrowed, and erase the evidence).
        var text: String?
        if try await store.listIdentities(limit: 1).isEmpty {
            text = try await makeAdminKey(store)
        }
        try await store.markAdminBootstrapped()
        return text
    }

    /// A new API key under the admin policy (made, as built in, if it is missing): the first
    /// administrator, and the break-glass for a lost one.
    public static func makeAdminKey(_ store: KeyStore) async throws -> String {
        do {
            _ = try await store.policy(named: "admin")
        } catch let error as KeyStoreError where error.code == .policyNotFound {
            try await store.putPolicy(CofferServerApplication.adminPolicy)
        }
        return try await store.createAPIKey(policy: "admin").secretText
    }
}
