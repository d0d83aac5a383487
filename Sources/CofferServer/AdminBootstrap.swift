import CofferStore

/// The first administrator of a new store: the `admin` policy and one API key under it, made
/// once — at the first start on a key-file or HSM root key, or at the first unseal of a
/// passphrase-sealed store (whose identities cannot be written before it is unsealed).
enum AdminBootstrap {
    /// Creates the admin policy and key if the store has no identity yet; returns the key's text
    /// when it made one (show it once, never log it).
    static func ensureAdmin(_ store: KeyStore) async throws -> String? {
        // Only a missing policy is made: one that fails its integrity check stops the start
        // instead of being quietly reset to allow-everything (which would widen an admin policy
        // an operator had narrowed, and erase the evidence).
        do {
            _ = try await store.policy(named: "admin")
        } catch let error as KeyStoreError where error.code == .policyNotFound {
            try await store.putPolicy(CofferServerApplication.adminPolicy)
        }
        guard try await store.listIdentities(limit: 1).isEmpty else { return nil }
        return try await store.createAPIKey(policy: "admin").secretText
    }
}
