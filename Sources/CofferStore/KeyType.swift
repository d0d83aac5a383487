/// What a key is and therefore which operations it can do. The raw value (`aes256-gcm`, …) is
/// what the API, the CLI and the stored documents spell; it never changes meaning.
///
/// A struct with static members rather than a public enum, so types can be added without
/// breaking callers' `switch`es.
public struct KeyType: Hashable, Sendable, CustomStringConvertible {
    /// What a key of this type is used for.
    public struct Purpose: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        /// Symmetric authenticated encryption: encrypt, decrypt, rewrap, data keys.
        public static let encryption = Purpose(description: "encryption")
        /// Message authentication: HMAC generate and verify.
        public static let mac = Purpose(description: "mac")
        /// Public-key encryption: the private key decrypts, the public key encrypts.
        public static let asymmetricEncryption = Purpose(description: "asymmetric-encryption")
        /// Digital signatures: sign and verify.
        public static let signing = Purpose(description: "signing")
    }

    public let rawValue: String
    public let purpose: Purpose

    private init(_ rawValue: String, _ purpose: Purpose) {
        self.rawValue = rawValue
        self.purpose = purpose
    }

    public static let aes256GCM = KeyType("aes256-gcm", .encryption)
    public static let chaCha20Poly1305 = KeyType("chacha20-poly1305", .encryption)
    public static let aes256GCMSIV = KeyType("aes256-gcm-siv", .encryption)
    public static let hmacSHA256 = KeyType("hmac-sha256", .mac)
    public static let rsa2048 = KeyType("rsa-2048", .asymmetricEncryption)
    public static let rsa3072 = KeyType("rsa-3072", .asymmetricEncryption)
    public static let rsa4096 = KeyType("rsa-4096", .asymmetricEncryption)
    public static let x25519HPKE = KeyType("x25519-hpke", .asymmetricEncryption)
    public static let xwingHPKE = KeyType("xwing-hpke", .asymmetricEncryption)
    public static let ed25519 = KeyType("ed25519", .signing)
    public static let ecdsaP256 = KeyType("ecdsa-p256", .signing)

    /// Every type this version of Coffer knows.
    public static let allCases: [KeyType] = [
        .aes256GCM, .chaCha20Poly1305, .aes256GCMSIV, .hmacSHA256, .rsa2048, .rsa3072, .rsa4096,
        .x25519HPKE, .xwingHPKE, .ed25519, .ecdsaP256,
    ]

    /// The type spelled `rawValue`.
    ///
    /// - Throws: ``KeyStoreError/Code/invalidArgument`` naming the unknown spelling (a type name is
    ///   public).
    public init(validating rawValue: String) throws {
        guard let type = Self.allCases.first(where: { $0.rawValue == rawValue }) else {
            throw KeyStoreError(.invalidArgument, detail: "unknown key type (known: \(Self.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = type
    }

    public var description: String { rawValue }
}
