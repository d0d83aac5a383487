import Foundation
import Testing

@_spi(Hazmat) @testable import CofferCrypto

@Suite struct EnvelopeTests {
    let key = kek()

    @Test(arguments: AEADAlgorithm.allCases, [0, 1, 1024, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 3 * 1024 * 1024])
    func roundTrip(algorithm: AEADAlgorithm, size: Int) throws {
        let plaintext = patternBytes(size)
        let context: EncryptionContext = ["tenant": "acme", "record": "42"]
        let envelope = try Envelope.seal(plaintext, using: key, context: context, options: .init(algorithm: algorithm))
        #expect(envelope.algorithm == algorithm)
        #expect(envelope.keyReference == key.reference)
        #expect(try Envelope(bytes: envelope.bytes).open(using: key, context: context) == plaintext)
        #expect(try Envelope(text: envelope.text).open(using: [key], context: ["record": "42", "tenant": "acme"]) == plaintext)
    }

    @Test func freshDataKeyAndNonceEveryTime() throws {
        let a = try Envelope.seal([1, 2, 3], using: key)
        let b = try Envelope.seal([1, 2, 3], using: key)
        #expect(a.bytes != b.bytes)
        #expect(a.wrappedKey != b.wrappedKey)
        #expect(a.nonce != b.nonce)
    }

    @Test func contextIsRequiredAndExact() throws {
        let envelope = try Envelope.seal(patternBytes(100), using: key, context: ["purpose": "backup"])
        for wrong: EncryptionContext in [.empty, ["purpose": "Backup"], ["purpose": "backup", "x": ""], ["purpos": "ebackup"]] {
            #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.open(using: key, context: wrong) }
        }
    }

    @Test func wrongKeyOrVersionFails() throws {
        let envelope = try Envelope.seal(patternBytes(100), using: key)
        let impostor = try KeyEncryptionKey(restoring: [UInt8](repeating: 7, count: 32), reference: key.reference)
        #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.open(using: impostor) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.open(using: kek("app-key", version: 2)) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.open(using: [kek("other")]) }
    }

    @Test func compressionIsOptInAndBounded() throws {
        let text = Array(String(repeating: "coffer compresses repetitive text well. ", count: 500).utf8)
        let plain = try Envelope.seal(text, using: key)
        #expect(!plain.isCompressed)
        let squeezed = try Envelope.seal(text, using: key, options: .init(compression: .zlib(threshold: 1024)))
        #expect(squeezed.isCompressed)
        #expect(squeezed.bytes.count < plain.bytes.count / 10)
        #expect(try squeezed.open(using: key) == text)
        // Below the threshold nothing is compressed.
        #expect(!(try Envelope.seal(Array(text.prefix(1000)), using: key, options: .init(compression: .zlib(threshold: 1024)))).isCompressed)
        // Incompressible data is stored as is even above the threshold.
        #expect(!(try Envelope.seal(patternBytes(4096), using: key, options: .init(compression: .zlib(threshold: 1)))).isCompressed)
        // A reader's decompression limit stops a bomb.
        #expect(throws: CofferCryptoError(.messageTooLarge)) {
            try squeezed.open(using: key, limits: EnvelopeOpenLimits(maximumDecompressedByteCount: 1000))
        }
    }

    @Test func rewrapKeepsThePayload() throws {
        let v1 = kek("orders", version: 1)
        let v2 = kek("orders", version: 2)
        let envelope = try Envelope.seal(patternBytes(5000), using: v1, context: ["k": "v"])
        let moved = try envelope.rewrapped(from: v1, to: v2)
        #expect(moved.keyReference == v2.reference)
        #expect(moved.sealedPayload == envelope.sealedPayload)
        #expect(moved.nonce == envelope.nonce)
        #expect(try moved.open(using: v2, context: ["k": "v"]) == patternBytes(5000))
        #expect(throws: CofferCryptoError.authenticationFailed) { try moved.open(using: v1, context: ["k": "v"]) }
        // The old envelope still opens with the old version while that version is enabled.
        #expect(try envelope.open(using: v1, context: ["k": "v"]) == patternBytes(5000))
        #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.rewrapped(from: v2, to: v1) }
    }

    @Test func textFormIsCanonical() throws {
        let envelope = try Envelope.seal([9, 9, 9], using: key)
        let text = envelope.text
        #expect(text.hasPrefix("coffer:v1:"))
        #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
        for bad in [text + "=", text + "A", text.replacingOccurrences(of: "coffer:v1:", with: "coffer:v2:"), " " + text, text + "\n",
                    String(text.dropLast())] {
            #expect(throws: CofferCryptoError.authenticationFailed) { try Envelope(text: bad).open(using: key) }
        }
    }

    /// Every single-bit flip and every truncation of a small envelope fails with the one error.
    @Test(arguments: [0, 1, 33])
    func tampering(size: Int) throws {
        let context: EncryptionContext = ["a": "b"]
        let bytes = try Envelope.seal(patternBytes(size), using: key, context: context).bytes
        everySingleBitFlip(of: bytes) { flipped, bit in
            #expect(throws: CofferCryptoError.authenticationFailed, "bit \(bit)") {
                try Envelope(bytes: flipped).open(using: [key], context: context)
            }
        }
        for length in 0..<bytes.count {
            #expect(throws: CofferCryptoError.authenticationFailed, "length \(length)") {
                try Envelope(bytes: bytes.prefix(length)).open(using: key, context: context)
            }
        }
        #expect(throws: CofferCryptoError.authenticationFailed) { try Envelope(bytes: bytes + [0]).open(using: key, context: context) }
    }

    @Test func sizeLimit() throws {
        #expect(throws: CofferCryptoError(.messageTooLarge)) {
            try Envelope.seal([UInt8](repeating: 0, count: Envelope.maximumPlaintextByteCount + 1), using: key)
        }
    }

    @Test func formatDetection() throws {
        let envelope = try Envelope.seal([1], using: key)
        #expect(CofferFormat.detect(envelope.bytes) == .envelope(version: 1))
        #expect(CofferFormat.detect(Array(envelope.text.utf8)) == .envelopeText)
        #expect(CofferFormat.detect(try CofferStream.seal([1], to: [key])) == .stream(version: 1))
        #expect(CofferFormat.detect(Array("age-encryption.org/v1".utf8)) == .unknown)
    }
}
