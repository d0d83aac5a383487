import Crypto
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import _CryptoExtras

/// Large Fernet tokens on two threads. The token bytes are the same as the one-thread path
/// makes; only the work is split:
///
/// - **Seal**: one thread runs AES-128-CBC over 1 MiB pieces while the other feeds each finished
///   piece to the HMAC, a piece behind; each thread then base64-encodes half of the token.
///   CBC is chained across pieces by passing the last ciphertext block of one piece as the IV of
///   the next (with padding only on the final piece), which is by definition the same CBC
///   encryption of the whole message; swift-crypto does every AES block and the PKCS#7 padding.
/// - **Open**: the text is base64-decoded in two halves at once; the HMAC (inherently serial) is
///   verified over the whole; only then is the ciphertext decrypted, 1 MiB pieces on both threads
///   at once (CBC decryption of a block needs only the ciphertext block before it).
///
/// Below ``parallelThreshold`` or on one core the plain path runs: two threads do not pay for
/// their hand-off on a small token.
extension FernetToken {
    /// Plaintext (or ciphertext) size from which two threads are used.
    static let parallelThreshold = 4 * 1024 * 1024
    static let pieceByteCount = 1024 * 1024

    static var hasSecondCore: Bool { ProcessInfo.processInfo.activeProcessorCount > 1 }

    static func sealInParallel(_ plaintext: UnsafeRawBufferPointer, timestamp: UInt64, iv: [UInt8], key: FernetKey) throws -> String {
        let ciphertextCount = (plaintext.count / 16 + 1) * 16
        let total = headerByteCount + ciphertextCount + macByteCount
        let token = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 16)
        defer { token.deallocate() }
        token[0] = version
        for i in 0..<8 { token[1 + i] = UInt8(truncatingIfNeeded: timestamp >> (56 - 8 * i)) }
        for i in 0..<16 { token[9 + i] = iv[i] }

        // Whole pieces, then a last piece of 1 byte to a full piece, which alone is padded.
        let pieces: [Range<Int>] = stride(from: 0, to: plaintext.count, by: pieceByteCount).map {
            $0..<min($0 + pieceByteCount, plaintext.count)
        }

        // A base64 split point on a 3-byte boundary that leaves the MAC in the second half.
        let split = min(total / 2, total - macByteCount) / 3 * 3
        let failure = FirstError()
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let tokenBytes = token
        nonisolated(unsafe) let plaintext = plaintext
        let text = String(unsafeUninitializedCapacity: FernetBase64.encodedCount(total)) { output in
            nonisolated(unsafe) let textBytes = UnsafeMutableRawBufferPointer(output)
            DispatchQueue.concurrentPerform(iterations: 2) { worker in
                if worker == 0 {
                    var chainIV = iv
                    for (index, piece) in pieces.enumerated() {
                        do {
                            let ciphertext = try AES._CBC.encrypt(
                                UnsafeRawBufferPointer(rebasing: plaintext[piece]), using: key.encryptionKey,
                                iv: AES._CBC.IV(ivBytes: chainIV), noPadding: index < pieces.count - 1)
                            let offset = headerByteCount + piece.lowerBound
                            ciphertext.withUnsafeBytes {
                                UnsafeMutableRawBufferPointer(rebasing: tokenBytes[offset..<(offset + $0.count)]).copyMemory(from: $0)
                                chainIV = Array($0.suffix(16))
                            }
                        } catch {
                            failure.record(CofferCryptoError(.internalFailure))
                        }
                        ready.signal()
                    }
                    guard !failure.hasFailed else { return }
                    FernetBase64.encode(
                        UnsafeRawBufferPointer(rebasing: tokenBytes[..<split]),
                        into: UnsafeMutableRawBufferPointer(rebasing: textBytes[..<(split / 3 * 4)]))
                } else {
                    var hmac = HMAC<SHA256>(key: key.signingKey)
                    hmac.update(data: UnsafeRawBufferPointer(rebasing: tokenBytes[..<headerByteCount]))
                    for (index, piece) in pieces.enumerated() {
                        ready.wait()
                        let end = headerByteCount + (index == pieces.count - 1 ? ciphertextCount : piece.upperBound)
                        hmac.update(data: UnsafeRawBufferPointer(rebasing: tokenBytes[(headerByteCount + piece.lowerBound)..<end]))
                    }
                    guard !failure.hasFailed else { return }
                    let mac = hmac.finalize()
                    mac.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: tokenBytes[(total - macByteCount)...]).copyMemory(from: $0) }
                    FernetBase64.encode(
                        UnsafeRawBufferPointer(rebasing: tokenBytes[split...]),
                        into: UnsafeMutableRawBufferPointer(rebasing: textBytes[(split / 3 * 4)...]))
                }
            }
            return failure.hasFailed ? 0 : output.count
        }
        if let error = failure.error { throw error }
        return text
    }

    /// Decodes a long token text in two halves at once; nil if it is not canonical.
    static func decodeInParallel(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let count = FernetBase64.decodedCount(text), text.count >= 8 else { return nil }
        let splitQuads = (text.count / 4 - 1) / 2
        nonisolated(unsafe) let text = text
        var valid = [false, false]
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
            nonisolated(unsafe) let out = UnsafeMutableRawBufferPointer(output)
            valid.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let slots = slots
                DispatchQueue.concurrentPerform(iterations: 2) { worker in
                    // Each worker writes only its own slot and its own part of the output.
                    if worker == 0 {
                        slots[0] = FernetBase64.decodeQuads(
                            UnsafeRawBufferPointer(rebasing: text[..<(splitQuads * 4)]),
                            into: UnsafeMutableRawBufferPointer(rebasing: out[..<(splitQuads * 3)]))
                    } else {
                        slots[1] = FernetBase64.decode(
                            UnsafeRawBufferPointer(rebasing: text[(splitQuads * 4)...]),
                            into: UnsafeMutableRawBufferPointer(rebasing: out[(splitQuads * 3)...]))
                    }
                }
            }
            initialized = count
        }
        return valid[0] && valid[1] ? bytes : nil
    }

    /// Decrypts an authenticated token's ciphertext on two threads, in 1 MiB pieces taken
    /// alternately, each written straight into the result. A piece's IV is the ciphertext block
    /// before it; only the last piece is unpadded (by swift-crypto, in constant time). Pieces keep
    /// swift-crypto's per-call buffers small and reused, instead of faulting in fresh
    /// multi-megabyte ones.
    func decryptInParallel(_ all: UnsafeRawBufferPointer, under key: FernetKey) throws -> [UInt8] {
        nonisolated(unsafe) let all = all
        nonisolated(unsafe) let ciphertext = UnsafeRawBufferPointer(
            rebasing: all[FernetToken.headerByteCount..<(all.count - FernetToken.macByteCount)])
        let pieces: [Range<Int>] = stride(from: 0, to: ciphertext.count, by: FernetToken.pieceByteCount).map {
            $0..<min($0 + FernetToken.pieceByteCount, ciphertext.count)
        }
        let last = pieces[pieces.count - 1]
        let failure = FirstError()
        var plaintextCount = 0
        let plaintext = [UInt8](unsafeUninitializedCapacity: ciphertext.count) { output, initialized in
            nonisolated(unsafe) let out = UnsafeMutableRawBufferPointer(output)
            nonisolated(unsafe) var lastCount = 0
            DispatchQueue.concurrentPerform(iterations: 2) { worker in
                for index in stride(from: worker, to: pieces.count, by: 2) where !failure.hasFailed {
                    let piece = pieces[index]
                    let iv = piece.lowerBound == 0
                        ? UnsafeRawBufferPointer(rebasing: all[9..<25])
                        : UnsafeRawBufferPointer(rebasing: ciphertext[(piece.lowerBound - 16)..<piece.lowerBound])
                    do {
                        let decrypted = try AES._CBC.decrypt(
                            UnsafeRawBufferPointer(rebasing: ciphertext[piece]), using: key.encryptionKey,
                            iv: AES._CBC.IV(ivBytes: iv), noPadding: piece != last)
                        decrypted.withUnsafeBytes {
                            UnsafeMutableRawBufferPointer(rebasing: out[piece.lowerBound..<(piece.lowerBound + $0.count)]).copyMemory(from: $0)
                        }
                        // Only the worker with the last piece writes this; read after the join.
                        if piece == last { lastCount = decrypted.count }
                    } catch {
                        failure.record(CofferCryptoError.authenticationFailed)
                    }
                }
            }
            plaintextCount = failure.hasFailed ? 0 : last.lowerBound + lastCount
            initialized = plaintextCount
        }
        if let error = failure.error { throw error }
        return plaintext
    }
}
