/// The one error type of Coffer's crypto core.
///
/// Errors are compared by ``code``; the set of codes may grow, so this is a struct wrapping a
/// private enum rather than a public enum (adding a case to a public enum breaks callers).
///
/// No error ever carries key bytes, plaintext, passphrases or associated data: messages are fixed
/// strings chosen by code, plus at most a non-secret detail such as a parameter name.
///
/// Every failure to open a ciphertext — wrong key, wrong context, a flipped bit, a truncated or
/// extended input, a swapped chunk, an edited header, or bytes that are not a Coffer ciphertext at
/// all — is reported as ``Code/authenticationFailed``. Distinguishing them would hand an attacker
/// an oracle; callers that want to tell users "this is not a Coffer file" inspect the magic bytes
/// explicitly with ``CofferFormat/detect(_:)``.
public struct CofferCryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Sendable {
            case authenticationFailed = "authentication_failed"
            case invalidKeyIdentifier = "invalid_key_identifier"
            case invalidKeyVersion = "invalid_key_version"
            case invalidKeySize = "invalid_key_size"
            case invalidParameter = "invalid_parameter"
            case invalidContext = "invalid_context"
            case workFactorTooHigh = "work_factor_too_high"
            case messageTooLarge = "message_too_large"
            case streamMisuse = "stream_misuse"
            case compressionFailed = "compression_failed"
            case internalFailure = "internal_failure"
            case tokenExpired = "token_expired"
            case tokenNotYetValid = "token_not_yet_valid"
            case keyVersionUnavailable = "key_version_unavailable"
            case keyStateChangeRefused = "key_state_change_refused"
            case invalidKeyRing = "invalid_key_ring"
        }

        fileprivate let value: Value

        /// Opening failed: the key, the context or the ciphertext is wrong. Deliberately vague.
        public static let authenticationFailed = Code(value: .authenticationFailed)
        /// A key identifier is empty, too long or uses characters outside the documented set.
        public static let invalidKeyIdentifier = Code(value: .invalidKeyIdentifier)
        /// A key version is zero or out of range.
        public static let invalidKeyVersion = Code(value: .invalidKeyVersion)
        /// Key material of the wrong length was supplied.
        public static let invalidKeySize = Code(value: .invalidKeySize)
        /// A parameter (KDF cost, output length, range, …) is out of its allowed range.
        public static let invalidParameter = Code(value: .invalidParameter)
        /// An encryption context is not encodable (empty or oversized key, too many entries).
        public static let invalidContext = Code(value: .invalidContext)
        /// Recorded KDF parameters ask for more work or memory than this reader accepts.
        public static let workFactorTooHigh = Code(value: .workFactorTooHigh)
        /// The input exceeds a format limit (envelope size, chunk counter, header size).
        public static let messageTooLarge = Code(value: .messageTooLarge)
        /// A streaming object was used out of order (for example, fed after it finished).
        public static let streamMisuse = Code(value: .streamMisuse)
        /// Compressing a plaintext failed before encryption.
        public static let compressionFailed = Code(value: .compressionFailed)
        /// The underlying cryptographic library failed unexpectedly.
        public static let internalFailure = Code(value: .internalFailure)
        /// A signed token is authentic (its MAC verified under a live key for this purpose) but
        /// past its expiry. Never thrown before the MAC is verified, so it is no forgery oracle.
        public static let tokenExpired = Code(value: .tokenExpired)
        /// A signed token is authentic but issued further in the future than the clock-skew
        /// tolerance allows (a signer's clock is wrong). Never thrown before the MAC is verified.
        public static let tokenNotYetValid = Code(value: .tokenNotYetValid)
        /// A ciphertext names a version of this key ring that exists but is disabled or
        /// destroyed. Decided from the ciphertext's public header and the ring's states alone,
        /// before any key is used, so it reveals nothing about the ciphertext's integrity (see
        /// ``KeyRing/open(_:context:limits:)``).
        public static let keyVersionUnavailable = Code(value: .keyVersionUnavailable)
        /// A key ring refused a state change: the primary must stay active, and a destroyed
        /// version stays destroyed.
        public static let keyStateChangeRefused = Code(value: .keyStateChangeRefused)
        /// A serialized key ring is malformed, non-canonical or of an unknown version.
        public static let invalidKeyRing = Code(value: .invalidKeyRing)

        /// The stable string form, for example `authentication_failed`.
        public var description: String { value.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// A non-secret detail (a parameter name or limit); never key, plaintext or context bytes.
    public let detail: String?

    init(_ code: Code, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    static let authenticationFailed = CofferCryptoError(.authenticationFailed)

    public var description: String {
        let message: String
        switch code.value {
        case .authenticationFailed:
            message = "the ciphertext could not be authenticated (wrong key or context, or the data is corrupted, truncated or not Coffer ciphertext)"
        case .invalidKeyIdentifier: message = "invalid key identifier"
        case .invalidKeyVersion: message = "invalid key version"
        case .invalidKeySize: message = "key material has the wrong size"
        case .invalidParameter: message = "invalid parameter"
        case .invalidContext: message = "invalid encryption context"
        case .workFactorTooHigh: message = "key-derivation work factor exceeds the accepted maximum"
        case .messageTooLarge: message = "input exceeds the format's size limit"
        case .streamMisuse: message = "stream used out of order"
        case .compressionFailed: message = "compression failed"
        case .internalFailure: message = "internal cryptographic failure"
        case .tokenExpired: message = "the token is authentic but has expired"
        case .tokenNotYetValid: message = "the token is authentic but issued in the future beyond the clock-skew tolerance"
        case .keyVersionUnavailable: message = "the key version the ciphertext names is disabled or destroyed"
        case .keyStateChangeRefused: message = "key state change refused"
        case .invalidKeyRing: message = "invalid key ring"
        }
        if let detail { return "\(code): \(message) (\(detail))" }
        return "\(code): \(message)"
    }

    public static func == (lhs: CofferCryptoError, rhs: CofferCryptoError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
