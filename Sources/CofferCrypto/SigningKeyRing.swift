/// The keys that sign and verify ``SignedToken``s, rotated without logging anyone out.
///
/// - The **primary** key — the live key with the highest id — signs every new token.
/// - Every **live** key verifies, so tokens signed before a rotation stay valid until they
///   expire: rotate, wait out the longest token lifetime, then retire the old key.
/// - A **retired** key verifies nothing. Retiring drops its bytes and keeps only its id, so the
///   id is never handed out again and a token naming it fails like a forgery.
///
/// The ring is a value: persist it (sealed) with the key store; this type does no I/O.
public struct SigningKeyRing: Sendable, CustomStringConvertible {
    /// The live keys, in ascending id order.
    public private(set) var keys: [SigningKey]
    /// Ids of keys that were retired; they never verify and are never reused.
    public private(set) var retiredKeyIDs: Set<KeyVersion>

    /// A ring of `keys` (all live) that remembers `retiredKeyIDs`.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidKeyVersion`` if `keys` is empty, two keys share
    ///   an id, or a key's id is listed as retired.
    public init(keys: [SigningKey], retiredKeyIDs: Set<KeyVersion> = []) throws {
        let ids = Set(keys.map(\.id))
        guard !keys.isEmpty, ids.count == keys.count, ids.isDisjoint(with: retiredKeyIDs) else {
            throw CofferCryptoError(.invalidKeyVersion, detail: "a ring needs at least one live key and unique ids")
        }
        self.keys = keys.sorted { $0.id < $1.id }
        self.retiredKeyIDs = retiredKeyIDs
    }

    /// A new ring with one random key, id 1.
    public static func generate() -> SigningKeyRing {
        try! SigningKeyRing(keys: [.generate(id: .first)])
    }

    /// The key that signs: the live key with the highest id.
    public var primary: SigningKey { keys[keys.count - 1] }

    /// The live key with this id, if any.
    public func key(id: KeyVersion) -> SigningKey? {
        keys.first { $0.id == id }
    }

    /// Adds a new random key with the next id and makes it the primary in one step; returns it.
    /// Tokens signed under earlier keys keep verifying.
    @discardableResult
    public mutating func rotate() throws -> SigningKey {
        let highest = ([primary.id] + retiredKeyIDs).max()!
        let key = SigningKey.generate(id: try highest.next())
        keys.append(key)
        return key
    }

    /// Retires a key: it stops verifying and its bytes are dropped.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidKeyVersion`` if no live key has this id, or
    ///   ``CofferCryptoError/Code/invalidParameter`` for the primary (rotate first).
    public mutating func retire(_ id: KeyVersion) throws {
        guard let index = keys.firstIndex(where: { $0.id == id }) else { throw CofferCryptoError(.invalidKeyVersion) }
        guard index != keys.count - 1 else {
            throw CofferCryptoError(.invalidParameter, detail: "the primary key cannot be retired; rotate first")
        }
        keys.remove(at: index)
        retiredKeyIDs.insert(id)
    }

    public var description: String {
        "SigningKeyRing(primary \(primary.id), \(keys.count) live, \(retiredKeyIDs.count) retired)"
    }
}
