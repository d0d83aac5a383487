import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HMAC (RFC 2104) over SHA-256 or SHA-512, from swift-crypto, with constant-time verification.
public enum HMACHash: Sendable, CaseIterable {
    case sha256
    case sha512

    /// Full tag length in bytes.
    public var tagByteCount: Int { self == .sha256 ? 32 : 64 }

    /// Shortest accepted (truncated) tag: 16 bytes (RFC 2104 §5: at least half the hash).
    public static let minimumTagByteCount = 16

    public func authenticationCode(for message: some DataProtocol, using key: SymmetricKey) -> [UInt8] {
        switch self {
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        }
    }

    /// Whether `tag` is this message's HMAC, or a prefix of it of at least 16 bytes. The bytes
    /// are compared in constant time; only the (public) tag length affects timing.
    public func isValid(_ tag: some DataProtocol, for message: some DataProtocol, using key: SymmetricKey) -> Bool {
        guard tag.count >= HMACHash.minimumTagByteCount, tag.count <= tagByteCount else { return false }
        let expected = authenticationCode(for: message, using: key).prefix(tag.count)
        return constantTimeEquals(Array(expected), Array(tag))
    }
}
