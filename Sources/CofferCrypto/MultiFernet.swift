#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Several Fernet keys for rotation, as Python `cryptography`'s `MultiFernet`: encrypts with the
/// first key, decrypts with whichever key the token's MAC verifies under, and ``rotate(_:)``
/// moves a token to the first key.
///
/// Rotation procedure (as in Python's documentation): put the new key first and keep the old
/// ones after it; rotate stored tokens; then drop the old keys. Tokens made by Python's
/// `MultiFernet` open here and vice versa, since both are plain Fernet tokens.
public struct MultiFernet: Sendable {
    /// The keys in order; the first encrypts.
    public let fernets: [Fernet]

    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` if `fernets` is empty.
    public init(_ fernets: [Fernet]) throws {
        guard !fernets.isEmpty else { throw CofferCryptoError(.invalidParameter, detail: "MultiFernet needs at least one key") }
        self.fernets = fernets
    }

    /// The keys in order, the first one encrypting.
    public init(keys: [FernetKey]) throws {
        try self.init(keys.map(Fernet.init(key:)))
    }

    /// Encrypts with the first key (Python's `MultiFernet.encrypt`).
    public func encrypt(_ plaintext: some DataProtocol, now: Date = Date()) throws -> String {
        try fernets[0].encrypt(plaintext, now: now)
    }

    /// Encrypts with the first key, stamped `timestamp` (Python's `encrypt_at_time`).
    public func encrypt(_ plaintext: some DataProtocol, at timestamp: UInt64) throws -> String {
        try fernets[0].encrypt(plaintext, at: timestamp)
    }

    /// Decrypts with the first key under which the token authenticates; the same rules and the
    /// same single error as ``Fernet/decrypt(_:ttl:maximumClockSkew:now:)``.
    public func decrypt(
        _ token: String, ttl: Int64? = nil, maximumClockSkew: Int64 = Fernet.defaultMaximumClockSkew, now: Date = Date()
    ) throws -> [UInt8] {
        try decrypt(token, ttl: ttl, at: FernetValidity.seconds(now), maximumClockSkew: maximumClockSkew)
    }

    /// Decrypts as of `currentTime` Unix seconds (Python's `MultiFernet.decrypt_at_time`).
    public func decrypt(
        _ token: String, ttl: Int64?, at currentTime: Int64, maximumClockSkew: Int64 = Fernet.defaultMaximumClockSkew
    ) throws -> [UInt8] {
        let validity = try Fernet.validity(ttl: ttl, now: currentTime, maximumClockSkew: maximumClockSkew)
        guard let parsed = FernetToken(text: token) else { throw CofferCryptoError.authenticationFailed }
        // The MAC decides which key a token belongs to; the time rules do not depend on the key,
        // so trying every key gives Python's verdict (it tries each key with the full rules).
        for fernet in fernets where parsed.isAuthentic(under: fernet.key) {
            if let plaintext = try? fernet.open(parsed, validity: validity) { return plaintext }
        }
        throw CofferCryptoError.authenticationFailed
    }

    /// Re-encrypts a token under the first key with a fresh IV, **keeping its original
    /// timestamp**, so rotation neither extends nor shortens a token's life (Python's
    /// `MultiFernet.rotate`). As in Python no TTL is applied: an old token can still be rotated.
    public func rotate(_ token: String) throws -> String {
        guard let parsed = FernetToken(text: token) else { throw CofferCryptoError.authenticationFailed }
        for fernet in fernets where parsed.isAuthentic(under: fernet.key) {
            guard let plaintext = try? fernet.open(parsed, validity: nil) else { continue }
            return try fernets[0].encrypt(plaintext, at: parsed.unverifiedTimestamp)
        }
        throw CofferCryptoError.authenticationFailed
    }
}
