#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A signed, expiring token whose MAC has been verified: only
/// ``SigningKeyRing/verify(_:purpose:clockSkew:now:)`` makes one, so holding a `SignedToken`
/// means the bytes are authentic, for the purpose asked, from a live key, and within their
/// validity window.
///
/// Tokens are signed, not encrypted: anyone holding one can read its payload. Put nothing secret
/// in it; use an envelope for that.
///
/// Byte layout (docs/FORMAT.md, "Signed tokens"; all integers big-endian):
///
///     version 0x01 (1) ‖ key id (u32) ‖ issued at (u64 s) ‖ expires at (u64 s)
///       ‖ payload type (1: 0x00 bytes, 0x01 JSON) ‖ payload (0–65 536) ‖ HMAC-SHA256 (32)
///
/// The HMAC covers `"coffer-signed-token-v1" ‖ 0x00 ‖ len(purpose) (u8) ‖ purpose ‖` every byte
/// before the tag. The text form is unpadded base64url of the bytes: URL- and cookie-safe.
public struct SignedToken: Sendable, Hashable {
    /// The key that signed it.
    public let keyID: KeyVersion
    /// When it was signed (whole seconds).
    public let issuedAt: Date
    /// The first second at which it is no longer valid (before the clock-skew tolerance).
    public let expiresAt: Date
    /// The payload bytes; for a JSON token, the UTF-8 JSON text.
    public let payload: [UInt8]
    /// Whether the signer marked the payload as JSON (``SigningKeyRing/sign(json:purpose:lifetime:now:encoder:)``).
    public let isJSON: Bool

    /// Decodes a JSON payload with `JSONDecoder` — data only, never an executable serialization.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` if the token carries raw bytes or its
    ///   JSON is not a `T`. The token is authentic at this point, so this is a caller's type
    ///   mismatch, not a forgery; the decoder's message is not passed on, since it may quote the payload.
    public func decodeJSON<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        guard isJSON, let value = try? decoder.decode(T.self, from: Data(payload)) else {
            throw CofferCryptoError(.invalidParameter, detail: "token payload is not JSON of the requested type")
        }
        return value
    }
}

/// The byte layout and MAC input of ``SignedToken``, shared by signing and verification.
enum SignedTokenFormat {
    static let version: UInt8 = 0x01
    static let bytesPayload: UInt8 = 0x00
    static let jsonPayload: UInt8 = 0x01
    static let headerByteCount = 1 + 4 + 8 + 8 + 1
    static let tagByteCount = 32
    /// Tokens travel in URLs and cookies (4 KiB); 64 KiB bounds what a verifier will hash.
    static let maximumPayloadByteCount = 64 * 1024
    static let macDomain = Array("coffer-signed-token-v1".utf8) + [0]

    struct Fields {
        var keyID: KeyVersion
        var issuedAt: UInt64
        var expiresAt: UInt64
        var payloadType: UInt8
    }

    /// The token bytes before the tag.
    static func body(_ fields: Fields, payload: some Collection<UInt8>) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(headerByteCount + payload.count + tagByteCount)
        body.append(version)
        body.appendBigEndian(fields.keyID.rawValue)
        body.appendBigEndian(fields.issuedAt)
        body.appendBigEndian(fields.expiresAt)
        body.append(fields.payloadType)
        body.append(contentsOf: payload)
        return body
    }

    /// What the HMAC authenticates: a domain label, the length-prefixed purpose, then the body.
    static func macInput(purpose: TokenPurpose, body: some Collection<UInt8>) -> [UInt8] {
        let purposeBytes = Array(purpose.rawValue.utf8)
        return macDomain + [UInt8(purposeBytes.count)] + purposeBytes + body
    }

    /// The text form: unpadded base64url. Encoded and decoded with the table-driven codec Fernet
    /// uses, padding stripped (Foundation's base64 plus character replacement cost more than the
    /// HMAC itself for a short token).
    static func text(_ bytes: [UInt8]) -> String {
        var text = FernetBase64.encode(bytes)
        while text.utf8.last == UInt8(ascii: "=") { text.removeLast() }
        return text
    }

    /// Bytes of a canonical unpadded base64url text: no `=`, no whitespace, only `A–Z a–z 0–9 - _`,
    /// zero trailing bits; nil otherwise.
    static func bytes(fromText text: String) -> [UInt8]? {
        let count = text.utf8.count
        guard count % 4 != 1, !text.utf8.contains(UInt8(ascii: "=")) else { return nil }
        return FernetBase64.decode(text + String(repeating: "=", count: (4 - count % 4) % 4))
    }

    /// Structural parse of unverified token bytes; nil if they cannot be a v1 token.
    static func parse(_ bytes: [UInt8]) -> (fields: Fields, payload: ArraySlice<UInt8>)? {
        guard bytes.count >= headerByteCount + tagByteCount,
            bytes.count - headerByteCount - tagByteCount <= maximumPayloadByteCount,
            bytes[0] == version
        else { return nil }
        func integer(_ range: Range<Int>) -> UInt64 { bytes[range].reduce(0) { $0 << 8 | UInt64($1) } }
        guard let keyID = try? KeyVersion(UInt32(integer(1..<5))) else { return nil }
        let fields = Fields(keyID: keyID, issuedAt: integer(5..<13), expiresAt: integer(13..<21), payloadType: bytes[21])
        guard fields.expiresAt > fields.issuedAt, fields.payloadType == bytesPayload || fields.payloadType == jsonPayload else {
            return nil
        }
        return (fields, bytes[headerByteCount..<(bytes.count - tagByteCount)])
    }
}
