import Crypto
import _CryptoExtras
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The byte layout of a Fernet token (https://github.com/fernet/spec):
///
///     0x80 ‖ timestamp (u64 big-endian) ‖ IV (16) ‖ AES-128-CBC-PKCS7 ciphertext ‖ HMAC-SHA256 (32)
///
/// the HMAC keyed with the first half of the key and computed over every byte before it, and the
/// whole token written as padded base64url.
///
/// Parsing checks the structure before any key is used: version 0x80, and a ciphertext that is a
/// non-empty whole number of AES blocks (so at least 73 bytes in all). Python checks only the
/// version and a 9-byte minimum and lets the MAC or the decryptor reject the rest; every token
/// either side produces has this structure, so the stricter check changes no verdict.
struct FernetToken {
    static let version: UInt8 = 0x80
    static let headerByteCount = 1 + 8 + 16
    static let macByteCount = 32
    static let minimumByteCount = headerByteCount + 16 + macByteCount

    /// The decoded token bytes.
    let bytes: [UInt8]

    /// Decodes and structurally checks a token's text; nil for anything that is not one.
    init?(text: String) {
        var text = text
        let decoded = text.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            return raw.count >= FernetToken.parallelThreshold && FernetToken.hasSecondCore
                ? FernetToken.decodeInParallel(raw) : FernetBase64.decode(raw)
        }
        guard let bytes = decoded,
            bytes.count >= FernetToken.minimumByteCount,
            (bytes.count - FernetToken.headerByteCount - FernetToken.macByteCount) % 16 == 0,
            bytes[0] == FernetToken.version
        else { return nil }
        self.bytes = bytes
    }

    /// The timestamp field, not yet authenticated.
    var unverifiedTimestamp: UInt64 {
        bytes[1..<9].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Whether the token's HMAC is valid under `key`, compared in constant time by swift-crypto.
    func isAuthentic(under key: FernetKey) -> Bool {
        bytes.withUnsafeBytes { all in
            let macStart = all.count - FernetToken.macByteCount
            return HMAC<SHA256>.isValidAuthenticationCode(
                UnsafeRawBufferPointer(rebasing: all[macStart...]),
                authenticating: UnsafeRawBufferPointer(rebasing: all[..<macStart]),
                using: key.signingKey)
        }
    }

    /// Decrypts the ciphertext of an authenticated token. A padding error can only come from a
    /// token the key holder made malformed on purpose; it is reported like every other failure.
    func decryptedPayload(under key: FernetKey) throws -> [UInt8] {
        try bytes.withUnsafeBytes { all in
            if all.count >= FernetToken.parallelThreshold && FernetToken.hasSecondCore {
                return try decryptInParallel(all, under: key)
            }
            do {
                let iv = try AES._CBC.IV(ivBytes: UnsafeRawBufferPointer(rebasing: all[9..<25]))
                let ciphertext = UnsafeRawBufferPointer(rebasing: all[25..<(all.count - FernetToken.macByteCount)])
                return [UInt8](try AES._CBC.decrypt(ciphertext, using: key.encryptionKey, iv: iv))
            } catch {
                throw CofferCryptoError.authenticationFailed
            }
        }
    }

    /// Builds a token's text: encrypts `plaintext` under `key` with `iv`, stamps `timestamp`,
    /// appends the HMAC and encodes. The IV comes from ``randomBytes(_:)`` except in vector tests.
    static func seal(_ plaintext: some DataProtocol, timestamp: UInt64, iv: [UInt8], key: FernetKey) throws -> String {
        precondition(iv.count == 16)
        if plaintext.count >= parallelThreshold && hasSecondCore,
            let text = try plaintext.withContiguousStorageIfAvailable({
                try sealInParallel(UnsafeRawBufferPointer($0), timestamp: timestamp, iv: iv, key: key)
            })
        {
            return text
        }
        let ciphertext: Data
        do {
            ciphertext = try AES._CBC.encrypt(plaintext, using: key.encryptionKey, iv: AES._CBC.IV(ivBytes: iv))
        } catch {
            throw CofferCryptoError(.internalFailure)
        }
        let total = headerByteCount + ciphertext.count + macByteCount
        let token = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            buffer[0] = version
            for i in 0..<8 { buffer[1 + i] = UInt8(truncatingIfNeeded: timestamp >> (56 - 8 * i)) }
            for i in 0..<16 { buffer[9 + i] = iv[i] }
            let body = UnsafeMutableRawBufferPointer(buffer)
            ciphertext.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: body[headerByteCount...]).copyMemory(from: $0) }
            let macStart = total - macByteCount
            let mac = HMAC<SHA256>.authenticationCode(for: UnsafeRawBufferPointer(rebasing: body[..<macStart]), using: key.signingKey)
            mac.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: body[macStart...]).copyMemory(from: $0) }
            initialized = total
        }
        return token.withUnsafeBytes { FernetBase64.encode($0) }
    }
}
