import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one-line text form of keys: `prefix || base64url(keyBytes || checksum)`, unpadded.
///
/// `checksum` is the first 4 bytes of SHA-256(`"coffer/v1/key-text" || 0x00 || prefix || 0x00 ||
/// keyBytes`): a mistyped or truncated key is caught with probability 1 − 2⁻³² instead of
/// silently encrypting to a key nobody holds. The prefix names the key kind and is part of the
/// checksum, so a key cannot be relabelled as another kind.
package enum KeyText {
    static let checksumByteCount = 4

    static func checksum(prefix: String, _ bytes: some Collection<UInt8>) -> [UInt8] {
        var hash = SHA256()
        hash.update(data: Array("coffer/v1/key-text".utf8) + [0] + Array(prefix.utf8) + [0])
        hash.update(data: Array(bytes))
        return Array(hash.finalize().prefix(checksumByteCount))
    }

    package static func encode(prefix: String, _ bytes: [UInt8]) -> String {
        prefix + Base64URL.encode(bytes + checksum(prefix: prefix, bytes))
    }

    /// The key bytes, or `nil` when the prefix differs, the encoding is not canonical base64url
    /// or the checksum does not match.
    package static func decode(_ text: Substring, prefix: String) -> [UInt8]? {
        guard text.hasPrefix(prefix), let all = Base64URL.decode(text.dropFirst(prefix.count)),
            all.count > checksumByteCount
        else { return nil }
        let bytes = Array(all.dropLast(checksumByteCount))
        // Not secret (the checksum of a public key, or of a private key the caller already
        // holds), but compared in constant time anyway: it costs nothing.
        guard constantTimeEquals(all.suffix(checksumByteCount), checksum(prefix: prefix, bytes)) else { return nil }
        return bytes
    }
}
