import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Random access to one C2SP chunked-encryption message that starts at `offset` in `source`:
/// reads only the chunks covering a requested range. ``StreamRandomAccessDecryptor`` runs exactly
/// this after the Coffer header.
///
/// Creating a reader checks the key commitment. ``plaintextCount`` is computed from the
/// ciphertext length; it is authenticated (by opening the final chunk) the first time a read
/// reaches the end of the message, or explicitly by ``authenticatedPlaintextCount()``. A read of
/// a range that ends before the end of the message checks only the chunks it covers.
@_spi(Hazmat)
public struct ChunkedMessageReader<Source: RandomAccessCiphertext> {
    private let source: Source
    private let cipher: ChunkCipher
    private let payloadOffset: Int
    /// Plaintext length implied by the ciphertext length (see ``authenticatedPlaintextCount()``).
    public let plaintextCount: Int

    public init(
        source: Source, offset: Int, inputKey: SymmetricKey, context: [UInt8],
        instantiation: ChunkedEncryption.Instantiation = .cobblestone256
    ) throws {
        self.source = source
        guard offset >= 0, source.count - offset >= ChunkedEncryption.prefixByteCount else { throw CofferCryptoError.authenticationFailed }
        let prefix = try source.read(from: offset, count: ChunkedEncryption.prefixByteCount)
        let (cipher, commitment) = try ChunkedEncryption.derive(
            inputKey: inputKey, salt: prefix[0..<ChunkedEncryption.saltByteCount], context: context,
            instantiation: instantiation)
        guard constantTimeEquals(prefix[ChunkedEncryption.saltByteCount...], commitment) else {
            throw CofferCryptoError.authenticationFailed
        }
        self.cipher = cipher
        self.payloadOffset = offset + ChunkedEncryption.prefixByteCount
        guard let count = ChunkedEncryption.plaintextCount(forSealedCount: source.count - payloadOffset) else {
            throw CofferCryptoError.authenticationFailed
        }
        self.plaintextCount = count
    }

    /// Opens the final chunk, which proves the stream has exactly ``plaintextCount`` bytes (was
    /// neither truncated nor extended). Required before trusting a length or seeking from the end.
    public func authenticatedPlaintextCount() throws -> Int {
        let lastIndex = plaintextCount / ChunkedEncryption.chunkByteCount
        _ = try openChunk(lastIndex)
        return plaintextCount
    }

    /// The plaintext bytes in `range`. Throws ``CofferCryptoError/Code/invalidParameter`` for a
    /// range outside the message, and the authentication error if any covering chunk fails.
    public func read(_ range: Range<Int>) throws -> [UInt8] {
        guard range.lowerBound >= 0, range.upperBound <= plaintextCount else {
            throw CofferCryptoError(.invalidParameter, detail: "range outside the plaintext")
        }
        let chunk = ChunkedEncryption.chunkByteCount
        // A read that reaches the end also authenticates the length via the final chunk.
        let lastNeeded = range.upperBound == plaintextCount ? plaintextCount / chunk : (range.upperBound - 1) / chunk
        guard !range.isEmpty || range.upperBound == plaintextCount else { return [] }
        let first = range.isEmpty ? lastNeeded : range.lowerBound / chunk
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        for index in first...lastNeeded {
            let plain = try openChunk(index)
            let chunkStart = index * chunk
            let lower = max(range.lowerBound, chunkStart) - chunkStart
            let upper = min(range.upperBound, chunkStart + plain.count) - chunkStart
            if lower < upper { output.append(contentsOf: plain.dropFirst(lower).prefix(upper - lower)) }
        }
        return output
    }

    private func openChunk(_ index: Int) throws -> Data {
        let sealed = ChunkedEncryption.sealedChunkByteCount
        let offset = payloadOffset + index * sealed
        let length = min(sealed, source.count - offset)
        guard length >= ChunkedEncryption.tagByteCount else { throw CofferCryptoError.authenticationFailed }
        let bytes = try source.read(from: offset, count: length)
        return try bytes.withUnsafeBytes { try cipher.openedData($0, index: UInt64(index)) }
    }
}
