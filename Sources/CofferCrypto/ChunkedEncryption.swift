import Crypto

/// C2SP chunked encryption v1 (c2sp.org/chunked-encryption), Coffer's stream payload.
///
/// Coffer writes the **Cobblestone-256** instantiation: HKDF-Expand-SHA-512 and AES-256-GCM.
/// Cobblestone-128 (AES-128-GCM) is implemented too, only so the public test vectors for it can
/// be checked; Coffer never writes it.
///
/// ```
/// key || base nonce || commitment = HKDF-Expand-SHA-512(prk = input key,
///     info = "c2sp.org/chunked-encryption@v1+" || aead || 0x00 || salt || context)
/// ciphertext = salt (24) || commitment (32) || AEAD(chunk 0) || AEAD(chunk 1) || …
/// ```
/// Chunks hold 16 KiB of plaintext; the final chunk is always shorter (possibly empty), which is
/// what marks the end of the message, so truncation at a chunk boundary is detected.
@_spi(Hazmat)
public enum ChunkedEncryption {
    public enum Instantiation: Sendable {
        case cobblestone256
        case cobblestone128

        /// The AEAD's name in the IANA AEAD registry, part of the HKDF info.
        public var aeadName: String { self == .cobblestone256 ? "AEAD_AES_256_GCM" : "AEAD_AES_128_GCM" }
        public var keyByteCount: Int { self == .cobblestone256 ? 32 : 16 }
    }

    public static let chunkByteCount = 16 * 1024
    public static let tagByteCount = 16
    public static let nonceByteCount = 12
    public static let sealedChunkByteCount = chunkByteCount + tagByteCount
    public static let saltByteCount = 24
    public static let commitmentByteCount = 32
    /// `salt || commitment`, the 56 bytes before the first chunk.
    public static let prefixByteCount = saltByteCount + commitmentByteCount
    /// The spec's hard limit: the chunk counter must stay below 2^38.
    public static let maximumChunkCount: UInt64 = 1 << 38

    /// Derives the chunk cipher and the 32-byte key commitment for one message.
    public static func derive(
        inputKey: SymmetricKey, salt: some Collection<UInt8>, context: some Collection<UInt8>,
        instantiation: Instantiation = .cobblestone256
    ) throws -> (cipher: ChunkCipher, commitment: [UInt8]) {
        guard inputKey.bitCount == instantiation.keyByteCount * 8 else { throw CofferCryptoError(.invalidKeySize) }
        guard salt.count == saltByteCount else { throw CofferCryptoError(.invalidParameter, detail: "salt must be 24 bytes") }
        var info = Array("c2sp.org/chunked-encryption@v1+\(instantiation.aeadName)".utf8)
        info.append(0)
        info.append(contentsOf: salt)
        info.append(contentsOf: context)
        let keyCount = instantiation.keyByteCount
        let okm = try HKDFHash.sha512.expand(
            pseudoRandomKey: inputKey, info: info,
            outputByteCount: keyCount + nonceByteCount + commitmentByteCount)
        return okm.withUnsafeBytes { raw in
            // Slices of the zeroizing buffer: the AEAD key is copied only into a SymmetricKey.
            let cipher = ChunkCipher(
                key: SymmetricKey(data: UnsafeRawBufferPointer(rebasing: raw[0..<keyCount])),
                baseNonce: Array(raw[keyCount..<(keyCount + nonceByteCount)]))
            return (cipher, Array(raw[(keyCount + nonceByteCount)...]))
        }
    }

    /// Plaintext length for a payload of `ciphertextCount` bytes (after the 56-byte prefix), or
    /// `nil` if no valid message has that length (such a length is always a truncation or an
    /// extension).
    public static func plaintextCount(forSealedCount ciphertextCount: Int) -> Int? {
        guard ciphertextCount >= tagByteCount else { return nil }
        let fullChunks = ciphertextCount / sealedChunkByteCount
        let rest = ciphertextCount % sealedChunkByteCount
        guard rest >= tagByteCount else { return nil }
        return fullChunks * chunkByteCount + (rest - tagByteCount)
    }

    /// The sealed size of a plaintext of `count` bytes (without the 56-byte prefix).
    public static func sealedCount(forPlaintextCount count: Int) -> Int {
        (count / chunkByteCount) * sealedChunkByteCount + (count % chunkByteCount) + tagByteCount
    }
}
