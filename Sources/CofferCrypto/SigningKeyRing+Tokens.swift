import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension SigningKeyRing {
    /// The default tolerance for clocks that disagree: a token is accepted up to this long
    /// before its issued-at and after its expiry. 60 s, as Python's Fernet.
    public static let defaultClockSkew: Duration = .seconds(60)

    /// Signs `payload` (raw bytes) with the primary key for `purpose`, valid for `lifetime`
    /// from `now`.
    ///
    /// - Parameters:
    ///   - lifetime: at least one second; rounded up to whole seconds.
    ///   - now: the signing time, truncated to whole seconds (the system clock by default).
    /// - Returns: the token's text: unpadded base64url, safe in URLs and cookie values.
    /// - Throws: ``CofferCryptoError/Code/messageTooLarge`` above 64 KiB of payload;
    ///   ``CofferCryptoError/Code/invalidParameter`` for a non-positive lifetime or a time before 1970.
    public func sign(_ payload: some DataProtocol, purpose: TokenPurpose, lifetime: Duration, now: Date = Date()) throws -> String {
        try sign(Array(payload), type: SignedTokenFormat.bytesPayload, purpose: purpose, lifetime: lifetime, now: now)
    }

    /// Signs a JSON payload: `value` encoded with `encoder` (data only, never an executable
    /// serialization such as pickle). Verify with ``verify(_:as:purpose:clockSkew:now:decoder:)``.
    public func sign(
        json value: some Encodable, purpose: TokenPurpose, lifetime: Duration, now: Date = Date(), encoder: JSONEncoder = JSONEncoder()
    ) throws -> String {
        guard let json = try? encoder.encode(value) else {
            throw CofferCryptoError(.invalidParameter, detail: "token payload could not be encoded as JSON")
        }
        return try sign(Array(json), type: SignedTokenFormat.jsonPayload, purpose: purpose, lifetime: lifetime, now: now)
    }

    /// Signs JSON text that is already serialized (from a file or another program), exactly as
    /// given, marked as JSON. The text must parse as JSON (any value, including a bare string or
    /// number), so a verifier that decodes it as JSON never meets bytes the signer did not check.
    /// "Parses" means `JSONDecoder`, the decoder verifiers use.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` when `json` is not valid JSON; otherwise
    ///   as ``sign(_:purpose:lifetime:now:)``.
    public func sign(jsonText json: some DataProtocol, purpose: TokenPurpose, lifetime: Duration, now: Date = Date()) throws -> String {
        let bytes = Array(json)
        guard JSONSyntax.isValid(bytes) else {
            throw CofferCryptoError(.invalidParameter, detail: "token payload is not valid JSON")
        }
        return try sign(bytes, type: SignedTokenFormat.jsonPayload, purpose: purpose, lifetime: lifetime, now: now)
    }

    private func sign(_ payload: [UInt8], type: UInt8, purpose: TokenPurpose, lifetime: Duration, now: Date) throws -> String {
        guard payload.count <= SignedTokenFormat.maximumPayloadByteCount else { throw CofferCryptoError(.messageTooLarge) }
        let issuedAt = SigningKeyRing.wholeSeconds(now)
        guard issuedAt >= 0 else { throw CofferCryptoError(.invalidParameter, detail: "time before 1970") }
        let (seconds, fraction) = lifetime.components
        let lifetimeSeconds = seconds + (fraction > 0 ? 1 : 0)
        guard lifetimeSeconds >= 1, Int64.max - issuedAt > lifetimeSeconds else {
            throw CofferCryptoError(.invalidParameter, detail: "token lifetime must be at least one second")
        }
        let key = primary
        let fields = SignedTokenFormat.Fields(
            keyID: key.id, issuedAt: UInt64(issuedAt), expiresAt: UInt64(issuedAt + lifetimeSeconds), payloadType: type)
        let body = SignedTokenFormat.body(fields, payload: payload)
        let tag = HMAC<SHA256>.authenticationCode(for: SignedTokenFormat.macInput(purpose: purpose, body: body), using: key.symmetricKey)
        return SignedTokenFormat.text(body + tag)
    }

    /// Verifies a token for `purpose` and returns its contents.
    ///
    /// Order, and why: the text is decoded strictly and its structure checked; the key is looked up
    /// by the id in the token (a retired or unknown id fails here); the HMAC over purpose and body
    /// is compared in constant time. Only then are the times checked, so the two time errors
    /// below can only ever be earned by an authentic token — they tell a forger nothing, and they
    /// let an application say "your session expired, sign in again" instead of "invalid".
    ///
    /// With `now` truncated to whole seconds `n` and tolerance `s`, the token is valid when
    /// `issuedAt − s ≤ n < expiresAt + s`.
    ///
    /// - Throws: ``CofferCryptoError/Code/authenticationFailed`` for every malformed, forged,
    ///   tampered, wrong-purpose, unknown-key or retired-key token;
    ///   ``CofferCryptoError/Code/tokenExpired`` when authentic and `n ≥ expiresAt + s`;
    ///   ``CofferCryptoError/Code/tokenNotYetValid`` when authentic and `issuedAt > n + s`;
    ///   ``CofferCryptoError/Code/invalidParameter`` for a negative `clockSkew`.
    public func verify(
        _ token: String, purpose: TokenPurpose, clockSkew: Duration = SigningKeyRing.defaultClockSkew, now: Date = Date()
    ) throws -> SignedToken {
        guard clockSkew >= .zero else { throw CofferCryptoError(.invalidParameter, detail: "clockSkew must not be negative") }
        let maximumBytes = SignedTokenFormat.headerByteCount + SignedTokenFormat.maximumPayloadByteCount + SignedTokenFormat.tagByteCount
        let maximumText = (maximumBytes * 4 + 2) / 3
        guard token.utf8.count <= maximumText,
            let bytes = SignedTokenFormat.bytes(fromText: token),
            let (fields, payload) = SignedTokenFormat.parse(bytes),
            let key = key(id: fields.keyID)
        else { throw CofferCryptoError.authenticationFailed }
        let tagStart = bytes.count - SignedTokenFormat.tagByteCount
        guard HMAC<SHA256>.isValidAuthenticationCode(
            bytes[tagStart...], authenticating: SignedTokenFormat.macInput(purpose: purpose, body: bytes[..<tagStart]), using: key.symmetricKey)
        else { throw CofferCryptoError.authenticationFailed }

        let n = Int128(SigningKeyRing.wholeSeconds(now))
        let skew = Int128(clockSkew.components.seconds)
        if Int128(fields.issuedAt) > n + skew { throw CofferCryptoError(.tokenNotYetValid) }
        if n >= Int128(fields.expiresAt) + skew { throw CofferCryptoError(.tokenExpired) }
        return SignedToken(
            keyID: fields.keyID, issuedAt: Date(timeIntervalSince1970: Double(fields.issuedAt)),
            expiresAt: Date(timeIntervalSince1970: Double(fields.expiresAt)), payload: Array(payload),
            isJSON: fields.payloadType == SignedTokenFormat.jsonPayload)
    }

    /// Verifies a JSON token and decodes its payload as `T` (see ``SignedToken/decodeJSON(_:decoder:)``).
    public func verify<T: Decodable>(
        _ token: String, as type: T.Type, purpose: TokenPurpose, clockSkew: Duration = SigningKeyRing.defaultClockSkew,
        now: Date = Date(), decoder: JSONDecoder = JSONDecoder()
    ) throws -> T {
        try verify(token, purpose: purpose, clockSkew: clockSkew, now: now).decodeJSON(type, decoder: decoder)
    }

    /// Verifies the cookie `name` from an incoming `Cookie` header value.
    ///
    /// A header can carry the same name more than once (cookies set for different paths, or a
    /// sibling subdomain "tossing" its own cookie in), so every value with that name is tried and
    /// the first authentic, current one wins; an attacker's extra cookie cannot shadow the real one.
    ///
    /// - Throws: as ``verify(_:purpose:clockSkew:now:)``; with no valid value, `tokenExpired` or
    ///   `tokenNotYetValid` if an authentic value earned it, otherwise `authenticationFailed`
    ///   (also when the cookie is absent).
    public func verify(
        cookieHeader: String, name: String, purpose: TokenPurpose, clockSkew: Duration = SigningKeyRing.defaultClockSkew, now: Date = Date()
    ) throws -> SignedToken {
        var authenticError: CofferCryptoError?
        for value in CookieHeader.values(named: name, in: cookieHeader) {
            do {
                return try verify(value, purpose: purpose, clockSkew: clockSkew, now: now)
            } catch let error as CofferCryptoError where error.code != .authenticationFailed {
                authenticError = authenticError ?? error
            } catch {}
        }
        throw authenticError ?? CofferCryptoError.authenticationFailed
    }

    /// Whole Unix seconds, rounded down (so a token is never stamped later than it was signed).
    static func wholeSeconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        if seconds >= 9.2e18 { return .max }
        if seconds <= -9.2e18 { return .min }
        return Int64(seconds)
    }
}
