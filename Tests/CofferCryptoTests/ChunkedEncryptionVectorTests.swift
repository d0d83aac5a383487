import Crypto
import Foundation
import Testing

@_spi(Hazmat) @testable import CofferCrypto

/// The Wycheproof C2SP chunked-encryption vectors, applied as
/// shared/specs/wycheproof_doc_c2sp_chunked_encryption.md describes, to the same message reader
/// and writer that Coffer streams use.
@Suite(.enabled(if: VectorDirectory.isAvailable, VectorDirectory.skipReason))
struct ChunkedEncryptionVectorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let instantiation: ChunkedEncryption.Instantiation
        let test: ChunkedGroup.Test
        let ciphertext: [UInt8]
        var testDescription: String { "\(instantiation.aeadName) #\(test.tcId) \(test.comment)" }
        var isValid: Bool { test.result != .invalid }
        var inputKey: SymmetricKey { SymmetricKey(data: test.key.bytes) }
        func has(_ flag: String) -> Bool { test.flags.contains(flag) }
        /// Longest plaintext a reader may release: the whole message, or the valid prefix.
        var allowedLength: Int { test.msgLength ?? 0 }
        var expectedHash: [UInt8]? { test.msgSha512?.bytes }
    }

    static let cases: [Case] = {
        guard VectorDirectory.isAvailable else { return [] }
        var cases: [Case] = []
        for (file, instantiation) in [
            ("c2sp_chunked_encryption_aes_256_gcm_test.json", ChunkedEncryption.Instantiation.cobblestone256),
            ("c2sp_chunked_encryption_aes_128_gcm_test.json", .cobblestone128),
        ] {
            let groups = try! WycheproofFile<ChunkedGroup>.load(file).testGroups
            for group in groups {
                precondition(group.aead == instantiation.aeadName && group.sha == "SHA-512")
                for test in group.tests {
                    // `ct` is zlib-compressed, then hex-encoded.
                    let ciphertext = ZlibCompression.decompress(test.ct.bytes, limit: 1 << 30)!
                    cases.append(Case(instantiation: instantiation, test: test, ciphertext: ciphertext))
                }
            }
        }
        return cases
    }()

    @Test func bothFilesLoaded() {
        #expect(Self.cases.filter { $0.instantiation == .cobblestone256 }.count >= 30)
        #expect(Self.cases.filter { $0.instantiation == .cobblestone128 }.count >= 30)
    }

    static func sha512(_ bytes: [UInt8]) -> [UInt8] { Array(SHA512.hash(data: bytes)) }

    /// Streaming decryption, fed in uneven pieces; PartialPlaintext rule for invalid vectors.
    @Test(arguments: cases)
    func streaming(_ c: Case) throws {
        var reader = ChunkedMessageDecryptor(inputKey: c.inputKey, context: c.test.ctx.bytes, instantiation: c.instantiation)
        var output: [UInt8] = []
        var failure: (any Error)?
        var offset = 0
        let piece = 7919  // prime, so pieces straddle every chunk boundary differently
        do {
            while offset < c.ciphertext.count {
                let end = min(offset + piece, c.ciphertext.count)
                try reader.update(Array(c.ciphertext[offset..<end]), into: &output)
                offset = end
            }
            try reader.finish(into: &output)
        } catch {
            failure = error
        }
        if c.isValid {
            #expect(failure == nil)
            #expect(output.count == c.allowedLength)
            #expect(Self.sha512(output) == c.expectedHash)
        } else {
            #expect(failure as? CofferCryptoError == .authenticationFailed || (c.has("InvalidKeySize") && failure != nil))
            // Never past the longest valid prefix, and whole chunks only.
            #expect(output.count <= c.allowedLength)
            #expect(output.count % ChunkedEncryption.chunkByteCount == 0)
            if output.count == c.allowedLength, c.has("PartialPlaintext"), let hash = c.expectedHash {
                #expect(Self.sha512(output) == hash)
            }
            // Failure is sticky: more reads keep failing rather than reporting a clean end.
            let countAfterFailure = output.count
            #expect(throws: CofferCryptoError.self) { try reader.update([0, 1, 2], into: &output) }
            #expect(throws: CofferCryptoError.self) { try reader.finish(into: &output) }
            #expect(output.count == countAfterFailure)
        }
    }

    /// Random-access decryption of the whole message, and length authentication.
    @Test(arguments: cases)
    func randomAccess(_ c: Case) throws {
        let reader: ChunkedMessageReader<[UInt8]>
        do {
            reader = try ChunkedMessageReader(
                source: c.ciphertext, offset: 0, inputKey: c.inputKey, context: c.test.ctx.bytes, instantiation: c.instantiation)
        } catch {
            #expect(!c.isValid, "valid vector rejected on open")
            return
        }
        if c.isValid {
            let whole = try reader.read(0..<reader.plaintextCount)
            #expect(Self.sha512(whole) == c.expectedHash)
            #expect(try reader.authenticatedPlaintextCount() == c.allowedLength)
        } else {
            #expect(throws: CofferCryptoError.authenticationFailed) { try reader.read(0..<reader.plaintextCount) }
            if !c.has("ValidFinalChunk") {
                #expect(throws: CofferCryptoError.authenticationFailed) { try reader.authenticatedPlaintextCount() }
            }
        }
    }

    /// Encryption, both ways the doc allows: raw mode (aeadKey, baseNonce) must reproduce the
    /// ciphertext after its 56-byte header, and the writer with the vector's salt must reproduce
    /// the whole ciphertext.
    @Test(arguments: cases.filter { $0.isValid })
    func encryption(_ c: Case) throws {
        var decryptor = ChunkedMessageDecryptor(inputKey: c.inputKey, context: c.test.ctx.bytes, instantiation: c.instantiation)
        var message: [UInt8] = []
        try decryptor.update(c.ciphertext, into: &message)
        try decryptor.finish(into: &message)

        let raw = ChunkCipher(key: SymmetricKey(data: try #require(c.test.aeadKey).bytes), baseNonce: try #require(c.test.baseNonce).bytes)
        #expect(try raw.sealMessage(message) == Array(c.ciphertext[ChunkedEncryption.prefixByteCount...]))

        var writer = try ChunkedMessageEncryptor(
            inputKey: c.inputKey, salt: Array(c.ciphertext[0..<ChunkedEncryption.saltByteCount]),
            context: c.test.ctx.bytes, instantiation: c.instantiation)
        var output: [UInt8] = []
        try writer.update(message, into: &output)
        try writer.finish(into: &output)
        #expect(output == c.ciphertext)
    }
}
