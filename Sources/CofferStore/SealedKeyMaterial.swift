import CofferCrypto

/// Key material sealed under a root key, as it reaches a backend:
///
/// ```
/// format (1) = 0x01 || scheme (1) || root key id (16) || nonce (12) || ciphertext || tag (16)
/// ```
/// `scheme` 0x01 is AES-256-GCM-SIV in software (key-file and passphrase root keys), 0x02
/// AES-256-GCM inside a PKCS#11 token. The associated data is never stored: it is rebuilt from
/// the row's position (store id, key name, version, key type; ``SealingContext``), which is what
/// makes a row useless anywhere else. The root key id says which root key sealed the row, so a
/// root-key rotation can stop and resume.
public struct SealedKeyMaterial: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    static let headerByteCount = 1 + 1 + RootKeyID.byteCount
    package static let nonceByteCount = 12
    static let tagByteCount = 16

    public let bytes: [UInt8]

    /// Validates the layout (not the authenticity, which needs the root key).
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= Self.headerByteCount + Self.nonceByteCount + Self.tagByteCount + 1,
            bytes[0] == Self.formatVersion
        else { throw KeyStoreError(.integrityFailure, detail: "malformed sealed material") }
        self.bytes = bytes
    }

    package init(scheme: UInt8, rootKeyID: RootKeyID, nonce: [UInt8], ciphertextAndTag: [UInt8]) {
        precondition(nonce.count == Self.nonceByteCount)
        bytes = [Self.formatVersion, scheme] + rootKeyID.bytes + nonce + ciphertextAndTag
    }

    public var scheme: UInt8 { bytes[1] }
    public var rootKeyID: RootKeyID { RootKeyID(bytes: Array(bytes[2..<Self.headerByteCount]))! }
    package var nonce: ArraySlice<UInt8> { bytes[Self.headerByteCount..<Self.headerByteCount + Self.nonceByteCount] }
    package var ciphertextAndTag: ArraySlice<UInt8> { bytes[(Self.headerByteCount + Self.nonceByteCount)...] }
}

/// The public 16-byte name of a root key, recorded in every row it seals.
public struct RootKeyID: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 16
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

/// What a sealed value is bound to. Sealing authenticates these bytes as associated data:
///
/// ```
/// "coffer-store/v1/" || purpose || 0x00 || store id (16) || u16 len || key name
///   || u16 len || key type || u32 version
/// ```
/// so material moved to another key, version or store, or relabelled as another type, fails to
/// unseal instead of being used.
public struct SealingContext: Sendable, Hashable {
    package let bytes: [UInt8]

    /// A key version's material. `incarnation` is the key record's (``KeyRecord/incarnation``):
    /// bound in, a version row kept from a key that was purged does not unseal for a new key of
    /// the same name and type. Keys created before incarnations (`nil`) keep the first form.
    static func keyMaterial(storeID: StoreID, key: String, version: UInt32, type: String, incarnation: [UInt8]?) -> SealingContext {
        guard let incarnation else {
            return SealingContext(purpose: "key-material", storeID: storeID, fields: [Array(key.utf8)], version: version, trailing: Array(type.utf8))
        }
        return SealingContext(
            purpose: "key-material-v2", storeID: storeID, fields: [Array(key.utf8), incarnation], version: version, trailing: Array(type.utf8))
    }

    /// The root-key check value: proves at open that the configured root key is this store's.
    ///
    /// A store whose rows are authenticated seals it under its own purpose (`root-key-check-v2`),
    /// so its store row cannot be passed off as one from before row tags: stripping the tags and
    /// rewriting the store row as `"v": 1` leaves a check value that opens only as v2, which is
    /// how a downgrade is told from a genuine older store (``KeyStore`` attach).
    static func rootKeyCheck(storeID: StoreID, authenticatedRows: Bool = true) -> SealingContext {
        SealingContext(purpose: authenticatedRows ? "root-key-check-v2" : "root-key-check", storeID: storeID, fields: [], version: 0, trailing: [])
    }

    /// The store's row key (``RowAuthenticator``): the HMAC key every row's tag is made with.
    static func rowKey(storeID: StoreID) -> SealingContext {
        SealingContext(purpose: "row-key", storeID: storeID, fields: [], version: 0, trailing: [])
    }

    /// The store's key for wrapping imported key material in transit (``KeyStore/importWrappingRecipient()``).
    static func importWrappingKey(storeID: StoreID) -> SealingContext {
        SealingContext(purpose: "import-wrapping-key", storeID: storeID, fields: [], version: 0, trailing: [])
    }

    /// A secret in the server's configuration (`coffer-sealed:` values), bound to the setting it
    /// is for. Not bound to a store: the configuration is read before any store is opened (the
    /// PostgreSQL password is one such secret), so the store id is all zeros here.
    static func configurationSecret(setting: String) -> SealingContext {
        SealingContext(purpose: "config-secret", storeID: StoreID(bytes: [UInt8](repeating: 0, count: 16))!, fields: [Array(setting.utf8)], version: 0, trailing: [])
    }

    private init(purpose: String, storeID: StoreID, fields: [[UInt8]], version: UInt32, trailing: [UInt8]) {
        var out = Array("coffer-store/v1/\(purpose)".utf8) + [0] + storeID.bytes
        for field in fields + [trailing] {
            out += [UInt8(field.count >> 8), UInt8(field.count & 0xFF)] + field
        }
        out += [UInt8(version >> 24), UInt8((version >> 16) & 0xFF), UInt8((version >> 8) & 0xFF), UInt8(version & 0xFF)]
        bytes = out
    }
}

/// The random 16-byte identity of one store, made at its first open and bound into every sealed
/// row, so rows copied between two stores under the same root key do not unseal.
public struct StoreID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }
    /// From its 32 hex digits (the `store.id` setting).
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}
