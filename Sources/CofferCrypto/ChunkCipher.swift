import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The per-message AEAD key and base nonce of C2SP chunked encryption ("raw mode").
///
/// Chunk `i` is sealed with nonce `baseNonce XOR i` (big-endian, in the low 5 bytes) and empty
/// associated data. A `ChunkCipher` is immutable and `Sendable`, so chunks can be sealed and
/// opened on several cores at once; which index a chunk has is decided by its caller, and the
/// stateful ``StreamEncryptor`` guarantees each index is used once.
@_spi(Hazmat)
public struct ChunkCipher: Sendable {
    let key: SymmetricKey
    let baseNonce: [UInt8]

    /// Raw mode: a caller-supplied key and base nonce. Both MUST be uniformly random and used for
    /// one message only (C2SP chunked encryption, appendix "raw mode").
    public init(key: SymmetricKey, baseNonce: [UInt8]) {
        precondition(baseNonce.count == ChunkedEncryption.nonceByteCount)
        self.key = key
        self.baseNonce = baseNonce
    }

    @inline(__always)
    func nonce(for index: UInt64) -> AES.GCM.Nonce {
        precondition(index < ChunkedEncryption.maximumChunkCount)
        // Built in a stack buffer: this runs once per chunk and should not allocate.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ChunkedEncryption.nonceByteCount) { bytes in
            for i in 0..<ChunkedEncryption.nonceByteCount { bytes[i] = baseNonce[i] }
            for i in 0..<5 {
                bytes[11 - i] ^= UInt8(truncatingIfNeeded: index >> (8 * UInt64(i)))
            }
            return try! AES.GCM.Nonce(data: UnsafeRawBufferPointer(bytes))
        }
    }

    /// Seals one chunk and writes `ciphertext || tag` to `output`, which must have room for
    /// `plaintext.count + 16` bytes. Returns the number of bytes written.
    @discardableResult
    public func seal(_ plaintext: UnsafeRawBufferPointer, index: UInt64, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        let box = try sealedBox(plaintext, index: index)
        let written = plaintext.count + ChunkedEncryption.tagByteCount
        precondition(output.count >= written)
        box.ciphertext.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: output[0..<plaintext.count]))
        box.tag.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: output[plaintext.count..<written]))
        return written
    }
}

extension ChunkCipher {
    /// Raw-mode one-shot sealing of a whole message (all chunks, no salt or commitment).
    public func sealMessage(_ message: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ChunkedEncryption.sealedCount(forPlaintextCount: message.count))
        var index: UInt64 = 0
        var inOffset = 0
        var outOffset = 0
        try message.withUnsafeBytes { input in
            try output.withUnsafeMutableBytes { out in
                while true {
                    let take = min(ChunkedEncryption.chunkByteCount, input.count - inOffset)
                    outOffset += try seal(
                        UnsafeRawBufferPointer(rebasing: input[inOffset..<(inOffset + take)]), index: index,
                        into: UnsafeMutableRawBufferPointer(rebasing: out[outOffset...]))
                    inOffset += take
                    index += 1
                    if take < ChunkedEncryption.chunkByteCount { break }
                }
            }
        }
        return output
    }
}

extension ChunkCipher {
    /// Seals one chunk and returns swift-crypto's sealed box; `box.combined` is
    /// `nonce || ciphertext || tag`, so the chunk's wire bytes are `combined.dropFirst(12)`,
    /// available without another copy.
    func sealedBox(_ plaintext: UnsafeRawBufferPointer, index: UInt64) throws -> AES.GCM.SealedBox {
        guard plaintext.count <= ChunkedEncryption.chunkByteCount else { throw CofferCryptoError(.invalidParameter) }
        do {
            return try AES.GCM.seal(plaintext, using: key, nonce: nonce(for: index))
        } catch {
            throw CofferCryptoError(.internalFailure)
        }
    }

    /// Opens one sealed chunk and returns its plaintext as swift-crypto produced it.
    func openedData(_ sealed: UnsafeRawBufferPointer, index: UInt64) throws -> Data {
        let tagStart = sealed.count - ChunkedEncryption.tagByteCount
        guard tagStart >= 0, tagStart <= ChunkedEncryption.chunkByteCount, index < ChunkedEncryption.maximumChunkCount else {
            throw CofferCryptoError.authenticationFailed
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: nonce(for: index),
                ciphertext: UnsafeRawBufferPointer(rebasing: sealed[0..<tagStart]),
                tag: UnsafeRawBufferPointer(rebasing: sealed[tagStart...]))
            return try AES.GCM.open(box, using: key)
        } catch {
            throw CofferCryptoError.authenticationFailed
        }
    }
}
