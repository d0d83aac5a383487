/// A node that missed a root-key rotation.
///
/// A root-key rotation ends by making a new row key and re-tagging every row under it
/// (``KeyStore/rotateRootKey(to:progress:)``). A node left running through it — the docs say to
/// stop them all, but one can be forgotten — still holds the old row key: every row it reads
/// fails its tag, and every row it writes would carry a tag no other node accepts, so a key it
/// created and acknowledged would be lost to the others. Such a node notices and seals itself:
///
/// - every writing transaction first reads the store row under a shared lock and goes on only
///   if it still holds the sealed row key this node unsealed, so nothing is written under a
///   replaced row key (the rotation's last step takes the store row for update, so a write
///   either finishes before it, and is re-tagged by it, or starts after it and sees the change);
/// - a row that fails its tag makes the node look at the store row once: if the row key there
///   is another, the failure was the rotation's, not a forgery.
///
/// Sealed, the node answers `store_sealed` until it is restarted with the new root key (or, for
/// a passphrase, unsealed with the new one), which reads the new row key.
extension KeyStore {
    /// Inside a writing transaction, before it writes: whether the store row, held against a
    /// concurrent rotation's last step, still holds `expected`, the sealed row key the
    /// transaction's tags use.
    /// `exclusive` takes the store row for update instead: for a transaction that goes on to
    /// change the store row itself, since two that each held it shared and then asked for it
    /// for update would deadlock.
    func rowKeyUnchanged(_ tx: any KeyStoreTransaction, expected: String, exclusive: Bool) async throws -> Bool {
        let read = exclusive ? try await tx.record(.meta, "store", forUpdate: true) : try await tx.recordSharingLock(.meta, "store")
        guard let stored = read else { throw KeyStoreError(.integrityFailure, detail: "store row missing") }
        // The same bytes as a store row already found to hold `expected`: no need to decode
        // the JSON again (it was most of what this check cost a write).
        if storeRowHolding(expected) == stored { return true }
        guard let current = try Self.decodeStoredMeta(stored).rowKey else {
            throw KeyStoreError(.integrityFailure, detail: "the store row has no row key")
        }
        if current == expected { remember(storeRow: stored, holding: expected) }
        return current == expected
    }

    /// After a failed tag or a changed row key seen by a writing transaction: if the store row holds a sealed row key other
    /// than `expected`, seals this node (or, when this process has itself just rotated, asks for
    /// a retry) by throwing; returns when the row key is unchanged, so the failure stands.
    func sealIfRowKeyChanged(since expected: String) async throws {
        let stored = try await backend.transaction { tx in try await tx.record(.meta, "store", forUpdate: false) }
        guard let stored else { throw KeyStoreError(.integrityFailure, detail: "store row missing") }
        // A store row without a row key is one rewritten in the form from before row tags.
        guard let current = try Self.decodeStoredMeta(stored).rowKey else {
            throw KeyStoreError(.integrityFailure, detail: "the store row has no row key")
        }
        guard current != expected else { return }
        let sealedNow = sealForgettingKeys(ifRowKeyIs: expected)
        guard sealedNow else { throw KeyStoreError(.conflict, detail: "the row key changed during this transaction") }
        cache.evictAll()
        throw KeyStoreError(
            .sealed,
            detail: "the store's root key was rotated by another process (its row key changed): this node sealed itself; restart it with the new root key, or unseal it with the new passphrase")
    }
}

/// What a store transaction that first checks the row key ended with.
enum RowKeyCheckedOutcome<R: Sendable>: Sendable {
    case done(R)
    /// The store row holds another row key; nothing was done.
    case rowKeyChanged
}
