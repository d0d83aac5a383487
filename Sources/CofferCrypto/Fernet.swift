#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Fernet (https://github.com/fernet/spec), byte-compatible with Python `cryptography`'s
/// `cryptography.fernet.Fernet`: a token either side makes opens on the other, and the TTL and
/// clock-skew verdicts are the same (see ``FernetValidity``-documented rules on ``decrypt(_:ttl:maximumClockSkew:now:)``).
///
/// Fernet is here for migration: services built on Python's Fernet keep their keys and tokens.
/// New Coffer data uses the envelope or the stream format, which have key identifiers,
/// associated context and AEADs. Fernet's construction (AES-128-CBC then HMAC-SHA256 over the
/// version, timestamp, IV and ciphertext; encrypt-then-MAC, MAC checked before decrypting) is
/// sound, only less flexible.
///
/// Every failure to open a token — bad base64, wrong version byte, truncation, a flipped bit,
/// the wrong key, bad padding, expiry or a timestamp too far in the future — throws the one error
/// ``CofferCryptoError/Code/authenticationFailed``, as Python raises only `InvalidToken`: telling
/// them apart would be an oracle, and expiry before the MAC is checked would leak nothing useful
/// anyway since the timestamp is in clear.
///
/// Time is always a parameter (`now`, defaulting to the system clock at the API edge, or explicit
/// Unix seconds in the `at:` variants, Python's `encrypt_at_time`/`decrypt_at_time`), so the rules
/// are testable without waiting.
public struct Fernet: Sendable {
    /// Python's `_MAX_CLOCK_SKEW`: how far in the future, in seconds, a token's timestamp may be
    /// when a TTL is checked.
    public static let defaultMaximumClockSkew: Int64 = 60

    /// The key this instance encrypts and decrypts with.
    public let key: FernetKey

    public init(key: FernetKey) {
        self.key = key
    }

    /// A Fernet from a key's text form (Python's `Fernet(key)`); see ``FernetKey/init(base64:)``.
    public init(key text: String) throws {
        self.init(key: try FernetKey(base64: text))
    }

    /// A new random key (Python's `Fernet.generate_key()`); ``FernetKey/unsafeSecretText`` is its text.
    public static func generateKey() -> FernetKey { FernetKey.generate() }

    /// Encrypts `plaintext` into a token stamped with `now` (Python's `encrypt`).
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` if `now` is before 1970 (Python
    ///   cannot stamp such a time either).
    public func encrypt(_ plaintext: some DataProtocol, now: Date = Date()) throws -> String {
        let seconds = FernetValidity.seconds(now)
        guard seconds >= 0 else { throw CofferCryptoError(.invalidParameter, detail: "time before 1970") }
        return try encrypt(plaintext, at: UInt64(seconds))
    }

    /// Encrypts `plaintext` into a token stamped `timestamp` Unix seconds (Python's
    /// `encrypt_at_time`). The IV is 16 fresh bytes from the system CSPRNG.
    public func encrypt(_ plaintext: some DataProtocol, at timestamp: UInt64) throws -> String {
        try FernetToken.seal(plaintext, timestamp: timestamp, iv: randomBytes(16), key: key)
    }

    /// Decrypts a token (Python's `decrypt(token, ttl)`).
    ///
    /// - Parameters:
    ///   - token: the token text, exactly as produced (no surrounding whitespace; see
    ///     ``FernetBase64`` for where Coffer's decoding is stricter than Python's).
    ///   - ttl: maximum age in seconds. A token exactly `ttl` seconds old is valid. With a TTL,
    ///     a timestamp more than `maximumClockSkew` seconds after `now` is also refused.
    ///     **`nil` disables every time check, skew included, as in Python.**
    ///   - maximumClockSkew: tolerated clock difference for future timestamps (default 60 s, as
    ///     Python's `_MAX_CLOCK_SKEW`); must not be negative.
    ///   - now: the current time, truncated to whole seconds as Python's `int(time.time())`.
    /// - Throws: ``CofferCryptoError/Code/authenticationFailed`` for every invalid token.
    public func decrypt(
        _ token: String, ttl: Int64? = nil, maximumClockSkew: Int64 = Fernet.defaultMaximumClockSkew, now: Date = Date()
    ) throws -> [UInt8] {
        try decrypt(token, ttl: ttl, at: FernetValidity.seconds(now), maximumClockSkew: maximumClockSkew)
    }

    /// Decrypts a token as of `currentTime` Unix seconds (Python's `decrypt_at_time`).
    public func decrypt(
        _ token: String, ttl: Int64?, at currentTime: Int64, maximumClockSkew: Int64 = Fernet.defaultMaximumClockSkew
    ) throws -> [UInt8] {
        let validity = try Fernet.validity(ttl: ttl, now: currentTime, maximumClockSkew: maximumClockSkew)
        guard let parsed = FernetToken(text: token) else { throw CofferCryptoError.authenticationFailed }
        return try open(parsed, validity: validity)
    }

    /// The authenticated timestamp of a token, in Unix seconds (Python's `extract_timestamp`).
    /// The MAC is verified first, so a forged timestamp is never returned; time rules are not applied.
    public func extractTimestamp(_ token: String) throws -> UInt64 {
        guard let parsed = FernetToken(text: token), parsed.isAuthentic(under: key) else {
            throw CofferCryptoError.authenticationFailed
        }
        return parsed.unverifiedTimestamp
    }

    /// MAC first (constant time), then the time rules, then decryption. Python checks time
    /// before the MAC; since every failure is the same error, the verdict is the same either way.
    func open(_ token: FernetToken, validity: FernetValidity?) throws -> [UInt8] {
        guard token.isAuthentic(under: key),
            validity?.accepts(timestamp: token.unverifiedTimestamp) ?? true
        else { throw CofferCryptoError.authenticationFailed }
        return try token.decryptedPayload(under: key)
    }

    static func validity(ttl: Int64?, now: Int64, maximumClockSkew: Int64) throws -> FernetValidity {
        guard maximumClockSkew >= 0 else {
            throw CofferCryptoError(.invalidParameter, detail: "maximumClockSkew must not be negative")
        }
        return FernetValidity(ttl: ttl, now: now, maximumClockSkew: maximumClockSkew)
    }
}
