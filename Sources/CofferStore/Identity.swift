#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// Who calls the server: an API key or a client certificate, bound to one policy.
public struct Identity: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case apiKey = "api-key"
        case certificate
    }

    /// `apikey:<16 hex>` for API keys, `cert:<SHA-256 of the public key, 64 hex>` for certificates
    /// (the KES convention: the identity survives certificate renewal with the same key).
    public let id: String
    public let kind: Kind
    public internal(set) var policy: String
    public let createdAt: Date
    public internal(set) var disabled: Bool
    /// Only for API keys: the slow hash of the secret. The secret itself is never stored.
    let secretHash: APIKeyHash?

    /// The identity of a client certificate whose SubjectPublicKeyInfo hashes to `sha256`.
    public static func certificateID(publicKeySHA256 sha256: [UInt8]) -> String { "cert:" + Hex.encode(sha256) }

    static func validateID(_ id: String) throws {
        let bytes = Array(id.utf8)
        let isHex = { (s: ArraySlice<UInt8>) in s.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) } }
        if bytes.starts(with: "apikey:".utf8), bytes.count == 7 + 16, isHex(bytes[7...]) { return }
        if bytes.starts(with: "cert:".utf8), bytes.count == 5 + 64, isHex(bytes[5...]) { return }
        throw KeyStoreError(.invalidArgument, detail: "an identity is apikey:<16 hex> or cert:<64 hex>")
    }
}

/// An API key's secret as shown once to its holder:
///
/// ```
/// coffer-ak- || id (16 lower-case hex) || "." || base64url(secret (32))     (70 characters)
/// ```
/// The id is public (it names the identity in audit lines); the 256-bit secret is what
/// authenticates. Coffer stores only ``APIKeyHash`` of the secret.
public struct APIKeySecret: Sendable, CustomStringConvertible {
    static let prefix = "coffer-ak-"
    public let identityID: String
    let secret: KeyMaterial

    /// A new API key from the system CSPRNG, and its text (to show once).
    public static func generate() -> (key: APIKeySecret, text: String) {
        let id = Hex.encode(randomBytes(8))
        var secret = randomBytes(32)
        defer { _ = secret.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let text = prefix + id + "." + Base64URL.encode(secret)
        return (APIKeySecret(identityID: "apikey:" + id, secret: KeyMaterial(secret)), text)
    }

    private init(identityID: String, secret: KeyMaterial) {
        self.identityID = identityID
        self.secret = secret
    }

    /// Parses presented text; `nil` for anything malformed (the caller answers with its one
    /// authentication error, never with why).
    public init?(text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == Self.prefix.utf8.count + 16 + 1 + 43, bytes.starts(with: Self.prefix.utf8),
            bytes[Self.prefix.utf8.count + 16] == UInt8(ascii: ".")
        else { return nil }
        let id = String(decoding: bytes[Self.prefix.utf8.count..<Self.prefix.utf8.count + 16], as: UTF8.self)
        guard (try? Identity.validateID("apikey:" + id)) != nil,
            let secret = Base64URL.decode(Substring(String(decoding: bytes[(Self.prefix.utf8.count + 17)...], as: UTF8.self))),
            secret.count == 32
        else { return nil }
        self.init(identityID: "apikey:" + id, secret: KeyMaterial(secret))
    }

    public var description: String { "APIKeySecret(\(identityID), redacted)" }
}

/// scrypt of an API key secret with a per-key salt. Slow on purpose: a stolen database must not
/// become a list of working API keys. (The server caches successful checks in memory so a
/// request does not pay scrypt every time; see the server's authenticator.)
struct APIKeyHash: Sendable, Hashable {
    let parameters: PasswordKDFParameters
    let salt: [UInt8]
    let hash: [UInt8]

    static func make(_ secret: APIKeySecret, parameters: PasswordKDFParameters) throws -> APIKeyHash {
        let salt = randomBytes(16)
        return APIKeyHash(parameters: parameters, salt: salt, hash: try derive(secret, parameters: parameters, salt: salt))
    }

    func matches(_ secret: APIKeySecret) -> Bool {
        guard let candidate = try? Self.derive(secret, parameters: parameters, salt: salt) else { return false }
        return constantTimeEquals(candidate, hash)
    }

    private static func derive(_ secret: APIKeySecret, parameters: PasswordKDFParameters, salt: [UInt8]) throws -> [UInt8] {
        let key = try secret.secret.withUnsafeBytes { try parameters.deriveKey(from: $0, salt: salt, outputByteCount: 32) }
        return key.withUnsafeBytes { Array($0) }
    }
}
